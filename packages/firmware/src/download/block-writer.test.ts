import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BlockWriter } from './block-writer.js';

const dir = mkdtempSync(join(tmpdir(), 'block-writer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('BlockWriter', () => {
  it('writes every byte in order across many blocks, pausing when the blocks are busy', async () => {
    const path = join(dir, 'out.bin');
    const file = await open(path, 'w');
    const writer = new BlockWriter(file);
    const expected = createHash('sha256');
    let total = 0;
    let pauses = 0;
    for (let i = 0; i < 400; i++) {
      const chunk = randomBytes(1 + ((i * 7919) % 70_000));
      expected.update(chunk);
      total += chunk.length;
      if (!writer.push(chunk)) {
        pauses += 1;
        await new Promise<void>((resolve) => writer.onDrain(resolve));
      }
    }
    await writer.finish();
    await file.close();
    const written = readFileSync(path);
    expect(written.length).toBe(total);
    expect(createHash('sha256').update(written).digest('hex')).toBe(expected.digest('hex'));
    expect(pauses).toBeGreaterThanOrEqual(0);
  });

  it('reports a write error from finish()', async () => {
    const path = join(dir, 'closed.bin');
    const file = await open(path, 'w');
    await file.close();
    const writer = new BlockWriter(file);
    writer.push(Buffer.alloc(3 * 1024 * 1024, 1));
    await expect(writer.finish()).rejects.toThrow();
  });

  it('reports the first write error at once and releases a paused reader', async () => {
    const path = join(dir, 'closed-paused.bin');
    const file = await open(path, 'w');
    await file.close();
    const errors: unknown[] = [];
    const writer = new BlockWriter(file, (error) => errors.push(error));
    let accepted = true;
    for (let i = 0; i < 10 && accepted; i++) accepted = writer.push(Buffer.alloc(1024 * 1024, i));
    expect(accepted).toBe(false);
    // Without the error the reader would wait here for a drain that never comes.
    await new Promise<void>((resolve) => writer.onDrain(resolve));
    expect(errors).toHaveLength(1);
    expect(writer.push(Buffer.alloc(4 * 1024 * 1024))).toBe(true);
    await expect(writer.finish()).rejects.toBe(errors[0]);
    expect(errors).toHaveLength(1);
  });
});
