/**
 * Reading a `.fw` archive front to back the way fwup does: libarchive 3.6.2's streaming zip reader (fwup gives it
 * no seek callback, so the central directory is never read). Local headers only; sizes and CRCs of entries
 * written with a data descriptor (general purpose flag bit 3, what libarchive's zip writer always sets, csize 0
 * in the local header) come from that descriptor, found by inflating to the end of the deflate stream. Messages
 * and failure points are libarchive's (archive_read_support_format_zip.c @v3.6.2: `zip_read_local_file_header`,
 * `zip_read_data_deflate`, `zip_read_data_none`, `consume_optional_marker`,
 * `archive_read_format_zip_read_data`, `..._streamable_read_header`, `..._read_data_skip_streamable`).
 */
import { crc32 } from 'node:zlib';
import { InflateError, RawInflater } from './inflate.js';
import { type ReadAhead, ReadAheadError } from './read-ahead.js';

/** libarchive's `uncompressed_buffer_size` for deflated entries. */
const INFLATE_OUTPUT_BYTES = 256 * 1024;
const FLAG_LENGTH_AT_END = 0x08;
const FLAG_ENCRYPTED = 0x01;

/** An archive-level failure. `warn` is ARCHIVE_WARN (bad CRC and sizes), everything else is fatal. */
export class ArchiveError extends Error {
  override name = 'ArchiveError';
  constructor(
    message: string,
    readonly severity: 'fatal' | 'warn' = 'fatal',
  ) {
    super(message);
  }
}

export interface ZipEntry {
  readonly name: string;
  /** 0 stored, 8 deflated. */
  readonly method: number;
  readonly flags: number;
  /** `archive_entry_size_is_set`: false for a length-at-end entry whose local header says size 0. */
  readonly sizeIsSet: boolean;
  readonly size: number;
  /** Modification time in seconds since the epoch, from the extended timestamp field when present. */
  readonly mtime: number | undefined;
}

interface EntryState {
  name: string;
  method: number;
  flags: number;
  crc32: number;
  compressedSize: number;
  uncompressedSize: number;
  usesZip64: boolean;
  mtime: number | undefined;
}

export class ZipStream {
  #entry: EntryState | undefined;
  #unconsumed = 0;
  #endOfEntry = false;
  #bytesRemaining = 0;
  #compressedRead = 0;
  #uncompressedRead = 0;
  #crc = 0;
  #inflater: RawInflater | undefined;
  #state: 'header' | 'data' | 'eof' | 'fatal' = 'header';

  private constructor(private readonly input: ReadAhead) {}

  /** Opens the archive; fails like `archive_read_open1` when the start is not a zip signature. */
  static open(input: ReadAhead): ZipStream {
    const { bytes, satisfied } = input.ahead(4);
    const signature = satisfied ? bytes.toString('latin1', 0, 4) : '';
    if (!['PK\x01\x02', 'PK\x03\x04', 'PK\x05\x06', 'PK\x06\x06', 'PK\x07\x08', 'PK00'].includes(signature)) {
      throw new ArchiveError('Unrecognized archive format');
    }
    return new ZipStream(input);
  }

  /** `archive_read_next_header`: the next entry, or undefined at the central directory. */
  nextHeader(): ZipEntry | undefined {
    if (this.#state === 'eof') return undefined;
    if (this.#state === 'fatal') throw new ArchiveError('Previous fatal error');
    try {
      if (this.#state === 'data') this.#skipData();
      this.#state = 'header';
      const entry = this.#readHeader();
      this.#state = entry ? 'data' : 'eof';
      return entry;
    } catch (error) {
      this.#state = 'fatal';
      throw asArchiveError(error);
    }
  }

  /** `archive_read_data_block`: the next piece of the entry's data, or undefined at its end. */
  readDataBlock(): Buffer | undefined {
    if (this.#endOfEntry) return undefined;
    try {
      this.#consumeUnconsumed();
      const data = this.#entry!.method === 8 ? this.#readDeflated() : this.#readStored();
      if (data.length > 0) this.#crc = crc32(data, this.#crc);
      if (this.#endOfEntry) this.#checkEnd();
      return data;
    } catch (error) {
      throw asArchiveError(error);
    }
  }

  #checkEnd(): void {
    const entry = this.#entry!;
    if (entry.compressedSize !== this.#compressedRead) {
      throw new ArchiveError(
        `ZIP compressed data is wrong size (read ${this.#compressedRead}, expected ${entry.compressedSize})`,
        'warn',
      );
    }
    if (entry.uncompressedSize % 2 ** 32 !== this.#uncompressedRead % 2 ** 32) {
      throw new ArchiveError(
        `ZIP uncompressed data is wrong size (read ${this.#uncompressedRead}, expected ${entry.uncompressedSize})\n`,
        'warn',
      );
    }
    if (entry.crc32 !== this.#crc) {
      throw new ArchiveError(
        `ZIP bad CRC: 0x${this.#crc.toString(16)} should be 0x${entry.crc32.toString(16)}`,
        'warn',
      );
    }
  }

  #consumeUnconsumed(): void {
    this.input.consume(this.#unconsumed);
    this.#unconsumed = 0;
  }

  #readHeader(): ZipEntry | undefined {
    this.#consumeUnconsumed();
    // Search ahead for the next local file header, skipping anything else (data descriptors included).
    for (;;) {
      const { bytes, satisfied } = this.input.ahead(4);
      if (!satisfied) throw new ArchiveError('Truncated ZIP file header');
      let skipped = 0;
      for (let p = 0; p + 4 <= bytes.length; p++, skipped++) {
        if (bytes[p] !== 0x50 || bytes[p + 1] !== 0x4b) continue;
        const kind = bytes.readUInt16BE(p + 2);
        if (kind === 0x0304) {
          this.input.consume(skipped);
          return this.#readLocalHeader();
        }
        if (kind === 0x0102 || kind === 0x0506 || kind === 0x0606) return undefined;
      }
      this.input.consume(skipped);
    }
  }

  #readLocalHeader(): ZipEntry {
    const header = this.#need(30, 'Truncated ZIP file header');
    const flags = header.readUInt16LE(6);
    if (flags & FLAG_ENCRYPTED) throw new ArchiveError('Encrypted file is unsupported');
    const entry: EntryState = {
      name: '',
      method: header.readUInt16LE(8),
      flags,
      crc32: header.readUInt32LE(14),
      compressedSize: header.readUInt32LE(18),
      uncompressedSize: header.readUInt32LE(22),
      usesZip64: false,
      mtime: undefined,
    };
    const nameLength = header.readUInt16LE(26);
    const extraLength = header.readUInt16LE(28);
    this.input.consume(30);
    entry.name = this.#need(nameLength, 'Truncated ZIP file header').toString('utf8', 0, nameLength);
    this.input.consume(nameLength);
    readExtra(
      Buffer.from(this.#need(extraLength, 'Truncated ZIP file header').subarray(0, extraLength)),
      entry,
    );
    this.input.consume(extraLength);
    this.#entry = entry;
    this.#endOfEntry = false;
    this.#compressedRead = 0;
    this.#uncompressedRead = 0;
    this.#crc = 0;
    this.#inflater = undefined;
    this.#bytesRemaining = entry.compressedSize;
    const lengthAtEnd = (flags & FLAG_LENGTH_AT_END) !== 0;
    if (!lengthAtEnd && this.#bytesRemaining < 1) this.#endOfEntry = true;
    if (entry.method !== 0 && entry.method !== 8) {
      throw new ArchiveError(`Unsupported ZIP compression method (${entry.method})`);
    }
    return {
      name: entry.name,
      method: entry.method,
      flags,
      sizeIsSet: !lengthAtEnd || entry.uncompressedSize > 0,
      size: entry.uncompressedSize,
      mtime: entry.mtime,
    };
  }

  #need(count: number, message: string): Buffer {
    if (count === 0) return Buffer.alloc(0);
    const { bytes, satisfied } = this.input.ahead(count);
    if (!satisfied) throw new ArchiveError(message);
    return bytes;
  }

  #readDeflated(): Buffer {
    const entry = this.#entry!;
    this.#inflater ??= new RawInflater();
    let { bytes } = this.input.ahead(1);
    if ((entry.flags & FLAG_LENGTH_AT_END) === 0 && bytes.length > this.#bytesRemaining) {
      bytes = bytes.subarray(0, this.#bytesRemaining);
    }
    let step: ReturnType<RawInflater['inflate']>;
    try {
      step = this.#inflater.inflate(bytes, INFLATE_OUTPUT_BYTES);
    } catch (error) {
      if (error instanceof InflateError)
        throw new ArchiveError(`ZIP decompression failed (${error.zlibCode})`);
      throw error;
    }
    if (step.ended) this.#endOfEntry = true;
    this.input.consume(step.consumed);
    this.#bytesRemaining -= step.consumed;
    this.#compressedRead += step.consumed;
    this.#uncompressedRead += step.output.length;
    this.#consumeOptionalMarker();
    return step.output;
  }

  /** Reads the data descriptor's CRC and sizes once the deflate stream has ended (consumed later). */
  #consumeOptionalMarker(): void {
    const entry = this.#entry!;
    if (!this.#endOfEntry || (entry.flags & FLAG_LENGTH_AT_END) === 0) return;
    const { bytes, satisfied } = this.input.ahead(24);
    if (!satisfied) throw new ArchiveError('Truncated ZIP end-of-file record');
    let at = 0;
    if (bytes.readUInt32LE(0) === 0x08074b50) {
      at = 4;
      this.#unconsumed = 4;
    }
    entry.crc32 = bytes.readUInt32LE(at);
    if (entry.usesZip64) {
      entry.compressedSize = Number(bytes.readBigUInt64LE(at + 4));
      entry.uncompressedSize = Number(bytes.readBigUInt64LE(at + 12));
      this.#unconsumed += 20;
    } else {
      entry.compressedSize = bytes.readUInt32LE(at + 4);
      entry.uncompressedSize = bytes.readUInt32LE(at + 8);
      this.#unconsumed += 12;
    }
  }

  #readStored(): Buffer {
    const entry = this.#entry!;
    let count: number;
    let bytes: Buffer;
    if (entry.flags & FLAG_LENGTH_AT_END) {
      const ahead = this.input.ahead(24);
      bytes = ahead.bytes;
      if (!ahead.satisfied) throw new ArchiveError('Truncated ZIP file data');
      if (bytes.readUInt32LE(0) === 0x08074b50 && bytes.readUInt32LE(4) === this.#crc) {
        entry.crc32 = bytes.readUInt32LE(4);
        if (entry.usesZip64) {
          entry.compressedSize = Number(bytes.readBigUInt64LE(8));
          entry.uncompressedSize = Number(bytes.readBigUInt64LE(16));
          this.#unconsumed = 24;
        } else {
          entry.compressedSize = bytes.readUInt32LE(8);
          entry.uncompressedSize = bytes.readUInt32LE(12);
          this.#unconsumed = 16;
        }
        this.#endOfEntry = true;
        return Buffer.alloc(0);
      }
      // Data runs up to the next thing that looks like a descriptor signature (checked on the next call).
      count = scanToDescriptor(bytes);
    } else {
      if (this.#bytesRemaining === 0) {
        this.#endOfEntry = true;
        return Buffer.alloc(0);
      }
      const ahead = this.input.ahead(1);
      bytes = ahead.bytes;
      if (bytes.length === 0) throw new ArchiveError('Truncated ZIP file data');
      count = Math.min(bytes.length, this.#bytesRemaining);
    }
    const data = Buffer.from(bytes.subarray(0, count));
    this.#bytesRemaining -= count;
    this.#uncompressedRead += count;
    this.#compressedRead += count;
    this.#unconsumed += count;
    return data;
  }

  #skipData(): void {
    this.#consumeUnconsumed();
    if (this.#endOfEntry) return;
    const entry = this.#entry!;
    if ((entry.flags & FLAG_LENGTH_AT_END) === 0 || entry.compressedSize > 0) {
      this.input.consume(this.#bytesRemaining);
      return;
    }
    if (entry.method === 8) {
      while (!this.#endOfEntry) this.#readDeflated();
      return;
    }
    for (;;) {
      const { bytes } = this.input.ahead(16);
      if (bytes.length < 16) throw new ArchiveError('Truncated ZIP file data');
      let p = 0;
      while (p <= bytes.length - 16) {
        if (bytes.readUInt32LE(p) === 0x08074b50) {
          this.input.consume(p + (entry.usesZip64 ? 24 : 16));
          return;
        }
        p += descriptorScanStep(bytes, p);
      }
      this.input.consume(p);
    }
  }
}

/** How far libarchive's scan for `PK\007\010` advances from `p` (it looks at byte p + 3 first). */
function descriptorScanStep(bytes: Buffer, p: number): number {
  const b3 = bytes[p + 3];
  if (b3 === 0x50) return 3;
  if (b3 === 0x4b) return 2;
  if (b3 === 0x07) return 1;
  return 4;
}

/** Stored length-at-end data: the count of bytes before a possible descriptor; at least one. */
function scanToDescriptor(bytes: Buffer): number {
  let p = 1;
  while (p < bytes.length - 4) {
    if (bytes[p + 3] === 0x08 && bytes.readUInt32LE(p) === 0x08074b50) break;
    p += descriptorScanStep(bytes, p);
  }
  return p;
}

function readExtra(extra: Buffer, entry: EntryState): void {
  for (let offset = 0; offset + 4 <= extra.length; ) {
    const id = extra.readUInt16LE(offset);
    const size = extra.readUInt16LE(offset + 2);
    offset += 4;
    if (offset + size > extra.length) {
      throw new ArchiveError(
        `Extra data overflow: Need ${size} bytes but only found ${extra.length - offset} bytes`,
      );
    }
    const field = extra.subarray(offset, offset + size);
    if (id === 0x0001) {
      entry.usesZip64 = true;
      let at = 0;
      if (entry.uncompressedSize === 0xffffffff && field.length >= at + 8) {
        entry.uncompressedSize = Number(field.readBigUInt64LE(at));
        at += 8;
      }
      if (entry.compressedSize === 0xffffffff && field.length >= at + 8) {
        entry.compressedSize = Number(field.readBigUInt64LE(at));
      }
    } else if (id === 0x5455 && field.length >= 5 && field[0]! & 1) {
      entry.mtime = field.readUInt32LE(1);
    }
    offset += size;
  }
}

function asArchiveError(error: unknown): ArchiveError {
  if (error instanceof ArchiveError) return error;
  if (error instanceof ReadAheadError) return new ArchiveError(error.message);
  throw error;
}
