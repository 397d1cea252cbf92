/**
 * Raw DEFLATE (RFC 1951) decoding that hands out data in the same pieces as zlib's `inflate()` called the way
 * libarchive 3.6.2 calls it for a zip entry (zip_read_data_deflate: whatever input is buffered, a 256 KiB output
 * buffer, Z_NO_FLUSH). fwup reports progress after every piece, so the pieces decide the progress values.
 *
 * zlib's rules, reproduced here: a call decodes until it needs an input byte it was not given or must output a
 * byte with no room left; bytes it was given but could not use yet stay consumed (held), so the next call only
 * gets new input; at the end of the stream it consumes exactly up to the byte holding the last bit; a call that
 * is given nothing and can output nothing fails with Z_BUF_ERROR (-5); bad data fails with Z_DATA_ERROR (-3).
 * (zlib inflate.c `inflate()`, `inflate_table()`; libarchive archive_read_support_format_zip.c @v3.6.2.)
 */

import { buildTable, FIXED_DISTANCES, FIXED_LITERALS, type HuffmanTable } from './huffman.js';

export const Z_DATA_ERROR = -3;
export const Z_BUF_ERROR = -5;

export class InflateError extends Error {
  constructor(
    readonly zlibCode: number,
    detail: string,
  ) {
    super(detail);
    this.name = 'InflateError';
  }
}

export interface InflateStep {
  readonly output: Buffer;
  /** Input bytes of this call that zlib would count in `total_in`. */
  readonly consumed: number;
  /** Z_STREAM_END was reached in this call. */
  readonly ended: boolean;
}

const LENGTH_BASE = [
  3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195,
  227, 258,
];
const LENGTH_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DISTANCE_BASE = [
  1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097,
  6145, 8193, 12289, 16385, 24577,
];
const DISTANCE_EXTRA = [
  0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13,
];
const CODE_LENGTH_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];
const WINDOW_BYTES = 32 * 1024;

/** Thrown inside a decoding step when the input ends before the step is complete; the step is redone later. */
const NEED_INPUT = Symbol('need input');

type Mode = 'header' | 'stored' | 'codes' | 'done';

export class RawInflater {
  #mode: Mode = 'header';
  #lastBlock = false;
  #storedLeft = 0;
  #literals: HuffmanTable | undefined;
  #distances: HuffmanTable | undefined;
  /** Decoded but not yet written: a match (or a literal, as a match of one byte with `literal` set). */
  #pendingLength = 0;
  #pendingDistance = 0;
  #pendingLiteral = -1;
  readonly #window = new Uint8Array(WINDOW_BYTES);
  #windowAt = 0;
  #totalOut = 0;
  /** Bytes already counted as consumed that the next step still needs (zlib's bit accumulator). */
  #held: Buffer = Buffer.alloc(0);
  #heldBit = 0;
  // The input of the running call: held bytes followed by the new ones.
  #src: Buffer = Buffer.alloc(0);
  #bit = 0;

  get ended(): boolean {
    return this.#mode === 'done';
  }

  /** One `inflate()` call: decodes from `input`, producing at most `maxOutput` bytes. */
  inflate(input: Buffer, maxOutput: number): InflateStep {
    if (this.#mode === 'done') return { output: Buffer.alloc(0), consumed: 0, ended: true };
    const heldBytes = this.#held.length;
    this.#src = heldBytes > 0 ? Buffer.concat([this.#held, input]) : input;
    this.#bit = this.#heldBit;
    const out = Buffer.allocUnsafe(maxOutput);
    let written = 0;
    let stop: 'input' | 'output' | 'end' = 'input';
    for (;;) {
      written = this.#flushPending(out, written);
      if (this.#hasPending()) {
        stop = 'output';
        break;
      }
      if (this.#mode === 'done') {
        stop = 'end';
        break;
      }
      if (this.#mode === 'stored') {
        const copied = this.#copyStored(out, written);
        written += copied;
        if (this.#storedLeft === 0) {
          this.#mode = this.#lastBlock ? 'done' : 'header';
          continue;
        }
        stop = written === maxOutput ? 'output' : 'input';
        break;
      }
      const start = this.#bit;
      try {
        if (this.#mode === 'header') this.#readBlockHeader();
        else this.#readSymbol();
      } catch (error) {
        if (error !== NEED_INPUT) throw error;
        this.#bit = start;
        break;
      }
    }
    const output = out.subarray(0, written);
    if (stop === 'input') {
      const byte = this.#bit >> 3;
      this.#held = Buffer.from(this.#src.subarray(byte));
      this.#heldBit = this.#bit & 7;
      if (input.length === 0 && written === 0) {
        throw new InflateError(Z_BUF_ERROR, 'no progress possible');
      }
      return { output, consumed: input.length, ended: false };
    }
    const usedBytes = (this.#bit + 7) >> 3;
    this.#held =
      stop === 'end' || (this.#bit & 7) === 0
        ? Buffer.alloc(0)
        : Buffer.from(this.#src.subarray(usedBytes - 1, usedBytes));
    this.#heldBit = stop === 'end' ? 0 : this.#bit & 7;
    return { output, consumed: Math.max(0, usedBytes - heldBytes), ended: stop === 'end' };
  }

  #hasPending(): boolean {
    return this.#pendingLength > 0;
  }

  #flushPending(out: Buffer, at: number): number {
    let written = at;
    while (this.#pendingLength > 0 && written < out.length) {
      const byte =
        this.#pendingLiteral >= 0
          ? this.#pendingLiteral
          : this.#window[(this.#windowAt - this.#pendingDistance + WINDOW_BYTES) % WINDOW_BYTES]!;
      out[written++] = byte;
      this.#remember(byte);
      this.#pendingLength--;
    }
    if (this.#pendingLength === 0) this.#pendingLiteral = -1;
    return written;
  }

  #remember(byte: number): void {
    this.#window[this.#windowAt] = byte;
    this.#windowAt = (this.#windowAt + 1) % WINDOW_BYTES;
    this.#totalOut++;
  }

  #rememberAll(bytes: Uint8Array): void {
    const first = Math.min(bytes.length, WINDOW_BYTES - this.#windowAt);
    this.#window.set(bytes.subarray(0, first), this.#windowAt);
    this.#window.set(bytes.subarray(first), 0);
    this.#windowAt = (this.#windowAt + bytes.length) % WINDOW_BYTES;
    this.#totalOut += bytes.length;
  }

  #copyStored(out: Buffer, at: number): number {
    const from = this.#bit >> 3;
    const count = Math.min(this.#storedLeft, this.#src.length - from, out.length - at);
    if (count <= 0) return 0;
    this.#src.copy(out, at, from, from + count);
    this.#rememberAll(out.subarray(Math.max(at, at + count - WINDOW_BYTES), at + count));
    this.#totalOut += count - Math.min(count, WINDOW_BYTES);
    this.#bit += count * 8;
    this.#storedLeft -= count;
    return count;
  }

  #readBlockHeader(): void {
    const last = this.#take(1) === 1;
    const type = this.#take(2);
    if (type === 0) {
      this.#bit = (this.#bit + 7) & ~7;
      const length = this.#take(16);
      const complement = this.#take(16);
      if ((length ^ 0xffff) !== complement)
        throw new InflateError(Z_DATA_ERROR, 'invalid stored block lengths');
      this.#lastBlock = last;
      this.#storedLeft = length;
      this.#mode = 'stored';
      return;
    }
    if (type === 1) {
      this.#literals = FIXED_LITERALS;
      this.#distances = FIXED_DISTANCES;
    } else if (type === 2) {
      this.#readDynamicTables();
    } else {
      throw new InflateError(Z_DATA_ERROR, 'invalid block type');
    }
    this.#lastBlock = last;
    this.#mode = 'codes';
  }

  #readDynamicTables(): void {
    const literalCount = this.#take(5) + 257;
    const distanceCount = this.#take(5) + 1;
    const codeLengthCount = this.#take(4) + 4;
    if (literalCount > 286 || distanceCount > 30) {
      throw new InflateError(Z_DATA_ERROR, 'too many length or distance symbols');
    }
    const codeLengthLengths = new Uint8Array(19);
    for (let i = 0; i < codeLengthCount; i++) codeLengthLengths[CODE_LENGTH_ORDER[i]!] = this.#take(3);
    const codeLengths = buildTable(codeLengthLengths, 'codes');
    if (!codeLengths) throw new InflateError(Z_DATA_ERROR, 'invalid code lengths set');
    const lengths = new Uint8Array(literalCount + distanceCount);
    for (let i = 0; i < lengths.length; ) {
      const symbol = this.#decode(codeLengths);
      if (symbol < 16) {
        lengths[i++] = symbol;
        continue;
      }
      let repeat: number;
      let value = 0;
      if (symbol === 16) {
        if (i === 0) throw new InflateError(Z_DATA_ERROR, 'invalid bit length repeat');
        value = lengths[i - 1]!;
        repeat = 3 + this.#take(2);
      } else if (symbol === 17) {
        repeat = 3 + this.#take(3);
      } else {
        repeat = 11 + this.#take(7);
      }
      if (i + repeat > lengths.length) throw new InflateError(Z_DATA_ERROR, 'invalid bit length repeat');
      lengths.fill(value, i, i + repeat);
      i += repeat;
    }
    if (lengths[256] === 0) throw new InflateError(Z_DATA_ERROR, 'invalid code -- missing end-of-block');
    const literals = buildTable(lengths.subarray(0, literalCount), 'lengths');
    if (!literals) throw new InflateError(Z_DATA_ERROR, 'invalid literal/lengths set');
    const distances = buildTable(lengths.subarray(literalCount), 'distances');
    if (!distances) throw new InflateError(Z_DATA_ERROR, 'invalid distances set');
    this.#literals = literals;
    this.#distances = distances;
  }

  #readSymbol(): void {
    const symbol = this.#decode(this.#literals!, 'invalid literal/length code');
    if (symbol < 256) {
      this.#pendingLiteral = symbol;
      this.#pendingLength = 1;
      return;
    }
    if (symbol === 256) {
      this.#mode = this.#lastBlock ? 'done' : 'header';
      return;
    }
    const lengthIndex = symbol - 257;
    if (lengthIndex >= 29) throw new InflateError(Z_DATA_ERROR, 'invalid literal/length code');
    const length = LENGTH_BASE[lengthIndex]! + this.#take(LENGTH_EXTRA[lengthIndex]!);
    const distanceCode = this.#decode(this.#distances!, 'invalid distance code');
    if (distanceCode >= 30) throw new InflateError(Z_DATA_ERROR, 'invalid distance code');
    const distance = DISTANCE_BASE[distanceCode]! + this.#take(DISTANCE_EXTRA[distanceCode]!);
    if (distance > Math.min(this.#totalOut, WINDOW_BYTES)) {
      throw new InflateError(Z_DATA_ERROR, 'invalid distance too far back');
    }
    this.#pendingLiteral = -1;
    this.#pendingDistance = distance;
    this.#pendingLength = length;
  }

  #decode(table: HuffmanTable, invalid = 'invalid code'): number {
    const available = this.#src.length * 8 - this.#bit;
    const entry = table.entries[this.#peek(table.bits)]!;
    const length = entry & 15;
    if (entry === 0) {
      if (available < table.bits) throw NEED_INPUT;
      throw new InflateError(Z_DATA_ERROR, invalid);
    }
    if (length > available) throw NEED_INPUT;
    this.#bit += length;
    return entry >> 4;
  }

  /** `count` bits LSB first; bits past the end of the input read as 0. */
  #peek(count: number): number {
    let value = 0;
    let have = 0;
    let bit = this.#bit;
    while (have < count) {
      const byteIndex = bit >> 3;
      const byte = byteIndex < this.#src.length ? this.#src[byteIndex]! : 0;
      const offset = bit & 7;
      const take = Math.min(8 - offset, count - have);
      value |= ((byte >> offset) & ((1 << take) - 1)) << have;
      have += take;
      bit += take;
    }
    return value;
  }

  #take(count: number): number {
    if (count === 0) return 0;
    if (this.#src.length * 8 - this.#bit < count) throw NEED_INPUT;
    const value = this.#peek(count);
    this.#bit += count;
    return value;
  }
}
