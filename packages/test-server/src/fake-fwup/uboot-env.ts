/**
 * A U-Boot environment block as fwup reads and writes it (fwup src/uboot_env.c @6f3bf79, non-redundant layout,
 * checked against the recorded blocks in fwup-transcripts/ab/*.env.bin and libubootenv's fw_setenv): a 4-byte
 * little-endian CRC-32 of the rest of the block, then `name=value` entries each ended by NUL, sorted by name
 * (strcmp order), then one more NUL, then 0xff to the end of the block.
 */
import { crc32 } from 'node:zlib';

export type UbootVariables = Map<string, string>;

const DATA_OFFSET = 4;

export class UbootEnvError extends Error {
  override name = 'UbootEnvError';
}

/** The variables of a block; throws fwup's message for a bad CRC or a malformed entry. */
export function decodeUbootEnv(block: Buffer, blockOffset: number): UbootVariables {
  const expected = block.readUInt32LE(0);
  const actual = crc32(block.subarray(DATA_OFFSET)) >>> 0;
  if (expected !== actual) {
    throw new UbootEnvError(
      `U-boot environment (block ${blockOffset}) CRC32 mismatch (expected 0x${hex8(expected)}; got 0x${hex8(actual)})`,
    );
  }
  const variables: UbootVariables = new Map();
  let at = DATA_OFFSET;
  while (at < block.length && block[at] !== 0) {
    const equals = findByte(block, at + 1, 0x3d);
    if (equals < 0) throw new UbootEnvError('Invalid U-boot environment');
    const end = block.indexOf(0, equals + 1);
    if (end < 0) throw new UbootEnvError('Invalid U-boot environment');
    // A repeated name: fwup keeps the last one in the block.
    variables.set(block.toString('latin1', at, equals), block.toString('latin1', equals + 1, end));
    at = end + 1;
  }
  return variables;
}

export function encodeUbootEnv(variables: UbootVariables, size: number): Buffer {
  const block = Buffer.alloc(size, 0xff);
  const end = size - 2;
  let at = DATA_OFFSET;
  for (const name of [...variables.keys()].sort(compareBytes)) {
    const entry = Buffer.from(`${name}=${variables.get(name)}`, 'latin1');
    if (at + entry.length >= end) throw new UbootEnvError('Not enough room in U-boot environment');
    entry.copy(block, at);
    at += entry.length;
    block[at++] = 0;
  }
  block[at] = 0;
  block.writeUInt32LE(crc32(block.subarray(DATA_OFFSET)) >>> 0, 0);
  return block;
}

/** The first NUL or `=` after `from`: -1 when the entry has a NUL (or the block ends) before any `=`. */
function findByte(block: Buffer, from: number, byte: number): number {
  for (let i = from; i < block.length; i++) {
    if (block[i] === byte) return i;
    if (block[i] === 0) return -1;
  }
  return -1;
}

function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'latin1'), Buffer.from(b, 'latin1'));
}

function hex8(value: number): string {
  return value.toString(16).padStart(8, '0');
}
