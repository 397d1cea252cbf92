/**
 * The input side of fwup: its read callback hands libarchive the archive in 16 KiB reads (fwup
 * src/archive_open.c @6f3bf79, DEFAULT_LIBARCHIVE_BLOCK_SIZE, counting every byte read for progress "in"), and
 * libarchive's read-ahead layer serves look-ahead requests from the last read, falling back to a copy buffer only
 * when a request straddles two reads (libarchive archive_read.c `__archive_read_filter_ahead`,
 * `advance_file_pointer` @v3.6.2). How much is "available" at each moment decides how the zip reader splits an
 * entry into pieces, and so fwup's progress values.
 */
import { readSync } from 'node:fs';

export const FWUP_READ_BYTES = 16 * 1024;

export class ReadAheadError extends Error {
  override name = 'ReadAheadError';
}

/** Reads a file (or FIFO) the way fwup's read callback does: blocking 16 KiB reads, counting the bytes. */
export class BlockSource {
  #bytesRead = 0;
  constructor(
    private readonly fd: number,
    private readonly onRead: (totalBytes: number) => void = () => {},
  ) {}

  get bytesRead(): number {
    return this.#bytesRead;
  }

  read(): Buffer {
    const buffer = Buffer.allocUnsafe(FWUP_READ_BYTES);
    const count = readSync(this.fd, buffer, 0, buffer.length, null);
    this.#bytesRead += count;
    this.onRead(this.#bytesRead);
    return buffer.subarray(0, count);
  }
}

export interface Ahead {
  /** The bytes available right now: at least the requested count, unless the input ended. */
  readonly bytes: Buffer;
  /** False when fewer than the requested bytes exist before the end of the input. */
  readonly satisfied: boolean;
}

export class ReadAhead {
  #client: Buffer = Buffer.alloc(0);
  #clientNext = 0;
  #clientAvail = 0;
  #clientTotal = 0;
  #copy: Buffer = Buffer.alloc(0);
  #copyNext = 0;
  #copyAvail = 0;
  #endOfFile = false;
  #position = 0;

  constructor(private readonly source: BlockSource) {}

  /** Bytes consumed so far. */
  get position(): number {
    return this.#position;
  }

  /** `__archive_read_ahead(a, min, &avail)`. */
  ahead(min: number): Ahead {
    for (;;) {
      if (this.#copyAvail >= min && this.#copyAvail > 0) {
        return {
          bytes: this.#copy.subarray(this.#copyNext, this.#copyNext + this.#copyAvail),
          satisfied: true,
        };
      }
      if (
        this.#clientTotal >= this.#clientAvail + this.#copyAvail &&
        this.#clientAvail + this.#copyAvail >= min
      ) {
        // Everything in the copy buffer is still in the last read: serve from that read directly.
        this.#clientAvail += this.#copyAvail;
        this.#clientNext -= this.#copyAvail;
        this.#copyAvail = 0;
        this.#copyNext = 0;
        return {
          bytes: this.#client.subarray(this.#clientNext, this.#clientNext + this.#clientAvail),
          satisfied: true,
        };
      }
      if (this.#copyNext > 0 && this.#copyNext + min > this.#copy.length) {
        this.#copy.copy(this.#copy, 0, this.#copyNext, this.#copyNext + this.#copyAvail);
        this.#copyNext = 0;
      }
      if (this.#clientAvail <= 0) {
        if (this.#endOfFile) return { bytes: Buffer.alloc(0), satisfied: false };
        const block = this.source.read();
        if (block.length === 0) {
          this.#client = Buffer.alloc(0);
          this.#clientTotal = this.#clientAvail = this.#clientNext = 0;
          this.#endOfFile = true;
          return {
            bytes: this.#copy.subarray(this.#copyNext, this.#copyNext + this.#copyAvail),
            satisfied: false,
          };
        }
        this.#client = block;
        this.#clientTotal = this.#clientAvail = block.length;
        this.#clientNext = 0;
        continue;
      }
      if (min > this.#copy.length) this.#growCopy(min);
      // Copy no more than the request needs, and no more than the last read holds.
      let toCopy = this.#copy.length - (this.#copyNext + this.#copyAvail);
      if (toCopy + this.#copyAvail > min) toCopy = min - this.#copyAvail;
      toCopy = Math.min(toCopy, this.#clientAvail);
      this.#client.copy(
        this.#copy,
        this.#copyNext + this.#copyAvail,
        this.#clientNext,
        this.#clientNext + toCopy,
      );
      this.#clientNext += toCopy;
      this.#clientAvail -= toCopy;
      this.#copyAvail += toCopy;
    }
  }

  /** `__archive_read_consume(a, n)`: skips by reading when the buffered bytes run out. */
  consume(count: number): void {
    if (count === 0) return;
    let request = count;
    const fromCopy = Math.min(request, this.#copyAvail);
    this.#copyNext += fromCopy;
    this.#copyAvail -= fromCopy;
    request -= fromCopy;
    const fromClient = Math.min(request, this.#clientAvail);
    this.#clientNext += fromClient;
    this.#clientAvail -= fromClient;
    request -= fromClient;
    this.#position += fromCopy + fromClient;
    while (request > 0) {
      const block = this.source.read();
      if (block.length === 0) {
        this.#endOfFile = true;
        throw new ReadAheadError(
          `Truncated input file (needed ${count} bytes, only ${count - request} available)`,
        );
      }
      const used = Math.min(request, block.length);
      this.#client = block;
      this.#clientTotal = block.length;
      this.#clientNext = used;
      this.#clientAvail = block.length - used;
      this.#position += used;
      request -= used;
    }
  }

  #growCopy(min: number): void {
    let size = this.#copy.length === 0 ? min : this.#copy.length;
    while (size < min) size *= 2;
    const grown = Buffer.allocUnsafe(size);
    this.#copy.copy(grown, 0, this.#copyNext, this.#copyNext + this.#copyAvail);
    this.#copy = grown;
    this.#copyNext = 0;
  }
}
