// The fake fwup's DEFLATE decoder, which must hand out data in the pieces zlib's inflate() does under libarchive.
import { randomBytes } from 'node:crypto';
import { constants, deflateRawSync, inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { InflateError, RawInflater } from '../src/fake-fwup/inflate.js';

const READ_BYTES = 16 * 1024;
const OUTPUT_BYTES = 256 * 1024;

/** Feeds `compressed` the way libarchive does: what is left of the current 16 KiB read, until the stream ends. */
function inflatePieces(compressed: Buffer): { pieces: Buffer[]; consumed: number } {
  const inflater = new RawInflater();
  const pieces: Buffer[] = [];
  let position = 0;
  let readEnd = 0;
  while (!inflater.ended) {
    if (position === readEnd) readEnd = Math.min(compressed.length, readEnd + READ_BYTES);
    const step = inflater.inflate(compressed.subarray(position, readEnd), OUTPUT_BYTES);
    position += step.consumed;
    pieces.push(step.output);
  }
  return { pieces, consumed: position };
}

function sample(kind: 'random' | 'zeros' | 'text', bytes: number): Buffer {
  if (kind === 'random') return randomBytes(bytes);
  if (kind === 'zeros') return Buffer.alloc(bytes);
  const words = ['fwup', 'nerves', 'slot', 'uboot', 'env', 'rootfs', 'a', 'b', 'validate', 'revert'];
  let text = '';
  for (let i = 0; text.length < bytes; i++) text += `${words[(i * 7 + (i >> 3)) % words.length]} ${i % 97}\n`;
  return Buffer.from(text.slice(0, bytes));
}

describe('RawInflater', () => {
  for (const kind of ['random', 'zeros', 'text'] as const) {
    for (const options of [
      { level: 0 },
      { level: 1 },
      { level: 9 },
      { level: 6, strategy: constants.Z_FIXED },
      { level: 6, strategy: constants.Z_HUFFMAN_ONLY },
    ]) {
      it(`decodes ${kind} data deflated with ${JSON.stringify(options)} and stops at the end of the stream`, () => {
        const data = sample(kind, 300_000);
        const compressed = deflateRawSync(data, options);
        const trailer = Buffer.from('PK\x07\x08 and the rest of the archive');
        const { pieces, consumed } = inflatePieces(Buffer.concat([compressed, trailer]));
        expect(Buffer.concat(pieces).equals(inflateRawSync(compressed))).toBe(true);
        expect(consumed).toBe(compressed.length);
      });
    }
  }

  it('gives at most 256 KiB a call, as libarchive asks, however much one read expands to', () => {
    const compressed = deflateRawSync(Buffer.alloc(1024 * 1024 + 1000), { level: 9 });
    expect(compressed.length).toBeLessThan(READ_BYTES);
    const sizes = inflatePieces(compressed).pieces.map((piece) => piece.length);
    expect(sizes).toEqual([OUTPUT_BYTES, OUTPUT_BYTES, OUTPUT_BYTES, OUTPUT_BYTES, 1000]);
  });

  it('gives what one read holds: every byte of a stored block, each piece ending where the read ends', () => {
    const data = randomBytes(100_000);
    const compressed = deflateRawSync(data, { level: 0 });
    const sizes = inflatePieces(compressed).pieces.map((piece) => piece.length);
    // Stored blocks cost 5 header bytes each: a 16 KiB read gives 16 KiB of data, less the headers inside it.
    expect(sizes.slice(0, 3).every((size) => size > READ_BYTES - 20 && size <= READ_BYTES)).toBe(true);
    expect(sizes.reduce((sum, size) => sum + size, 0)).toBe(data.length);
  });

  it('fails with Z_BUF_ERROR (-5) when called with no input and nothing left to give: a truncated stream', () => {
    const compressed = deflateRawSync(randomBytes(50_000));
    const inflater = new RawInflater();
    inflater.inflate(compressed.subarray(0, 20_000), OUTPUT_BYTES);
    expect(() => inflater.inflate(Buffer.alloc(0), OUTPUT_BYTES)).toThrow(
      expect.objectContaining({ zlibCode: -5 }),
    );
  });

  it('fails with Z_DATA_ERROR (-3) on an invalid block type and on a distance before the start', () => {
    const invalidType = () => new RawInflater().inflate(Buffer.from([0x07, 0, 0, 0]), OUTPUT_BYTES);
    expect(invalidType).toThrow(InflateError);
    expect(invalidType).toThrow(expect.objectContaining({ zlibCode: -3, message: 'invalid block type' }));
    // Fixed Huffman block whose first symbol is a match (length 3, distance 1) with nothing decoded before it.
    const tooFarBack = () => new RawInflater().inflate(Buffer.from([0x03, 0x02, 0x00, 0x00]), OUTPUT_BYTES);
    expect(tooFarBack).toThrow(
      expect.objectContaining({ zlibCode: -3, message: 'invalid distance too far back' }),
    );
  });
});
