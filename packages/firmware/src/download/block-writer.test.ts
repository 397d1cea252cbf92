import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BlockWriter } from './block-writer.js';

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

describe('BlockWriter', () => {
  it('writes every byte in order, never asking the reader to pause', async () => {
    const path = join(dir, 'out.bin');
    const file = await open(path, 'w');
    const writer = new BlockWriter(file);
    const { list, total, sha256 } = chunks(400);
    for (const chunk of list) expect(writer.push(chunk)).toBe(true);
    await writer.finish();
    await file.close();
    const written = readFileSync(path);
    expect(writer.written).toBe(total);
    expect(written.length).toBe(total);
    expect(createHash('sha256').update(written).digest('hex')).toBe(sha256);
  });

  it('keeps writing while background flushes run, and finish() waits for the last one', async () => {
    const path = join(dir, 'flushed.bin');
    const file = await open(path, 'w');
    // A flush every 64 KiB: many of them overlap the writes that follow.
    const writer = new BlockWriter(file, undefined, 64 * 1024);
    const { list, total, sha256 } = chunks(300);
    for (const chunk of list) writer.push(chunk);
    await writer.finish();
    await file.close();
    const written = readFileSync(path);
    expect(written.length).toBe(total);
    expect(createHash('sha256').update(written).digest('hex')).toBe(sha256);
  });

  it('reports a write error from finish()', async () => {
    const path = join(dir, 'closed.bin');
    const file = await open(path, 'w');
    await file.close();
    const writer = new BlockWriter(file);
    writer.push(Buffer.alloc(3 * 1024 * 1024, 1));
    await expect(writer.finish()).rejects.toThrow();
  });

  it('reports the first write error once, after push returned, and drops what comes later', async () => {
    const path = join(dir, 'closed-once.bin');
    const file = await open(path, 'w');
    await file.close();
    const errors: unknown[] = [];
    const writer = new BlockWriter(file, (error) => errors.push(error));
    expect(writer.push(Buffer.alloc(1024, 1))).toBe(true);
    // Not from inside push: the caller may stop the body in onError, which must not happen mid-callback.
    expect(errors).toHaveLength(0);
    expect(writer.error).toBeDefined();
    await Promise.resolve();
    expect(errors).toEqual([writer.error]);
    expect(writer.push(Buffer.alloc(4 * 1024 * 1024))).toBe(true);
    expect(writer.written).toBe(0);
    await expect(writer.finish()).rejects.toBe(errors[0]);
    expect(errors).toHaveLength(1);
  });

  it("fails with the file system's error when the file takes nothing (a full disk)", async () => {
    // /dev/full takes nothing: a write there fails (ENOSPC), never leaving a silent gap.
    const file = await open('/dev/full', 'w');
    const errors: unknown[] = [];
    const writer = new BlockWriter(file, (error) => errors.push(error), 0);
    writer.push(Buffer.alloc(16 * 1024, 2));
    await file.close();
    await expect(writer.finish()).rejects.toMatchObject({ code: 'ENOSPC' });
    expect(errors).toHaveLength(1);
  });
});
