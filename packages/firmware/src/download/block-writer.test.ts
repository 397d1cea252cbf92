import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statfsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canMountSmallFilesystem, mountSmallFilesystem } from '@nerves-hub-link/test-server/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { BLOCK_BYTES, BlockWriter } from './block-writer.js';

const dir = mkdtempSync(join(tmpdir(), 'block-writer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Chunks of 1 to 70,000 bytes, as many as `count`, with their SHA-256 and total size. */
function chunks(count: number) {
  const list: Buffer[] = [];
  const hash = createHash('sha256');
  let total = 0;
  for (let i = 0; i < count; i++) {
    const chunk = randomBytes(1 + ((i * 7919) % 70_000));
    hash.update(chunk);
    total += chunk.length;
    list.push(chunk);
  }
  return { list, total, sha256: hash.digest('hex') };
}

/** Pushes every chunk as a reader with back-pressure does: after a false, only once `onDrain` resumed it. */
async function feed(writer: BlockWriter, list: readonly Buffer[]): Promise<number> {
  let holds = 0;
  for (const chunk of list) {
    if (writer.push(chunk)) continue;
    holds++;
    await new Promise<void>((resume) => writer.onDrain(resume));
  }
  return holds;
}

const sha256Of = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('BlockWriter', () => {
  it('writes every byte in order, in blocks, with a reader that honours its back-pressure', async () => {
    const path = join(dir, 'out.bin');
    const file = await open(path, 'w');
    const writer = new BlockWriter(file);
    const { list, total, sha256 } = chunks(400);
    // More than two blocks arrive faster than the thread pool writes them: the reader is held.
    expect(await feed(writer, list)).toBeGreaterThan(0);
    await writer.finish();
    await file.close();
    expect(writer.written).toBe(total);
    expect(readFileSync(path).length).toBe(total);
    expect(sha256Of(path)).toBe(sha256);
  });

  it('writes off the calling thread: push returns before its block is in the file', async () => {
    const path = join(dir, 'later.bin');
    const file = await open(path, 'w');
    const writer = new BlockWriter(file);
    expect(writer.push(Buffer.alloc(BLOCK_BYTES, 3))).toBe(true);
    expect(writer.written).toBe(0);
    await writer.finish();
    await file.close();
    expect(writer.written).toBe(BLOCK_BYTES);
    expect(readFileSync(path).equals(Buffer.alloc(BLOCK_BYTES, 3))).toBe(true);
  });

  it('holds the reader while a full block waits for the one being written, then lets it go on', async () => {
    const path = join(dir, 'held.bin');
    const file = await open(path, 'w');
    const block = 64 * 1024;
    const writer = new BlockWriter(file, undefined, block);
    // The first block goes to the file at once; the second, full while the first is written, must wait.
    expect(writer.push(Buffer.alloc(block, 1))).toBe(true);
    expect(writer.push(Buffer.alloc(block / 2, 2))).toBe(true);
    expect(writer.push(Buffer.alloc(block / 2, 2))).toBe(false);
    // What the reader had already parsed still comes, and is kept.
    expect(writer.push(Buffer.alloc(100, 3))).toBe(false);
    const writtenAtResume = await new Promise<number>((resume) =>
      writer.onDrain(() => resume(writer.written)),
    );
    expect(writtenAtResume).toBe(block);
    await writer.finish();
    await file.close();
    const expected = Buffer.concat([Buffer.alloc(block, 1), Buffer.alloc(block, 2), Buffer.alloc(100, 3)]);
    expect(readFileSync(path).equals(expected)).toBe(true);
  });

  it('lets a reader that was not held go on at once', async () => {
    const file = await open(join(dir, 'free.bin'), 'w');
    const writer = new BlockWriter(file);
    writer.push(Buffer.alloc(1000));
    let resumed = false;
    writer.onDrain(() => {
      resumed = true;
    });
    expect(resumed).toBe(true);
    await writer.finish();
    await file.close();
  });

  it('reports a write error once, after push returned, drops what comes later and throws it from finish', async () => {
    const path = join(dir, 'closed.bin');
    const file = await open(path, 'w');
    await file.close();
    const errors: unknown[] = [];
    const writer = new BlockWriter(file, (error) => errors.push(error));
    expect(writer.push(Buffer.alloc(BLOCK_BYTES, 1))).toBe(true);
    // Not from inside push: the caller may stop the body in onError, which must not happen mid-callback.
    expect(errors).toHaveLength(0);
    await expect(writer.finish()).rejects.toMatchObject({ code: 'EBADF' });
    expect(errors).toEqual([writer.error]);
    // A held reader is let go after an error; what it pushes then goes nowhere.
    expect(writer.push(Buffer.alloc(4 * BLOCK_BYTES))).toBe(true);
    await expect(writer.finish()).rejects.toBe(errors[0]);
    expect(writer.written).toBe(0);
    expect(errors).toHaveLength(1);
  });

  it("fails with the file system's error when the file takes nothing (a full disk)", async () => {
    // /dev/full takes nothing: a write there fails (ENOSPC), never leaving a silent gap.
    const file = await open('/dev/full', 'w');
    const errors: unknown[] = [];
    const writer = new BlockWriter(file, (error) => errors.push(error));
    writer.push(Buffer.alloc(16 * 1024, 2));
    await expect(writer.finish()).rejects.toMatchObject({ code: 'ENOSPC' });
    await file.close();
    expect(errors).toHaveLength(1);
  });

  it.skipIf(!canMountSmallFilesystem())(
    'writes what fits of a block the file system takes only in part, then fails with ENOSPC',
    async () => {
      const small = join(dir, 'small');
      const unmount = mountSmallFilesystem(small, 1024 * 1024);
      try {
        const { bavail, bsize } = statfsSync(small);
        const room = bavail * bsize;
        const path = join(small, 'part.bin');
        const file = await open(path, 'w');
        const writer = new BlockWriter(file);
        // A block that straddles the end of the free space, from chunks of another size than a page.
        const { list } = chunks(80);
        let pushed = 0;
        for (const chunk of list) {
          if (pushed > room + BLOCK_BYTES) break;
          pushed += chunk.length;
          if (!writer.push(chunk)) await new Promise<void>((resume) => writer.onDrain(resume));
        }
        await expect(writer.finish()).rejects.toMatchObject({ code: 'ENOSPC' });
        await file.close();
        const kept = readFileSync(path);
        // The part that fit is in the file, in order: the short write went on from where it stopped.
        expect(kept.length).toBeGreaterThan(room - BLOCK_BYTES);
        expect(kept.equals(Buffer.concat(list).subarray(0, kept.length))).toBe(true);
      } finally {
        unmount();
      }
    },
  );
});
