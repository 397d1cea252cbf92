/**
 * Writes a stream of chunks to a file in blocks: the chunks are copied into a small pool of reused 1 MiB blocks,
 * and each full block is written at its own offset (pwrite) while the next one fills, up to MAX_IN_FLIGHT at once.
 * Reading pauses when every block is busy, so memory stays flat whatever the size of the firmware.
 * The first write error is reported at once through `onError` and ends the writing: later chunks are dropped
 * and a paused reader is released, so the caller can stop the body instead of waiting for a drain that never
 * comes.
 */
import type { FileHandle } from 'node:fs/promises';

const BLOCK_BYTES = 1024 * 1024;
const MAX_IN_FLIGHT = 4;

export class BlockWriter {
  readonly #file: FileHandle;
  readonly #free: Buffer[] = [];
  #current: Buffer | undefined;
  #filled = 0;
  /** Bytes accepted while every block was busy; copied in as blocks come back. */
  #overflow: Buffer[] = [];
  #position = 0;
  #inFlight = 0;
  #allocated = 0;
  #error: unknown;
  #drainWaiters: (() => void)[] = [];
  #finishing: (() => void) | undefined;

  readonly #onError: ((error: unknown) => void) | undefined;

  constructor(file: FileHandle, onError?: (error: unknown) => void) {
    this.#file = file;
    this.#onError = onError;
  }

  /** The first write error, if any: nothing more is written after it. */
  get error(): unknown {
    return this.#error;
  }

  /** Adds a chunk; returns false when the caller should pause until `onDrain`. */
  push(chunk: Buffer): boolean {
    if (this.#error !== undefined) return true;
    if (this.#overflow.length > 0) this.#overflow.push(chunk);
    else this.#copy(chunk);
    return this.#overflow.length === 0;
  }

  onDrain(resume: () => void): void {
    if (this.#overflow.length === 0 || this.#error !== undefined) resume();
    else this.#drainWaiters.push(resume);
  }

  /** Writes what is left and waits for every write. Throws the first write error. */
  async finish(): Promise<void> {
    while (this.#overflow.length > 0 && this.#error === undefined) await this.#settledOnce();
    if (this.#current && this.#filled > 0 && this.#error === undefined)
      this.#write(this.#current, this.#filled);
    while (this.#inFlight > 0) await this.#settledOnce();
    if (this.#error !== undefined) throw this.#error;
  }

  #settledOnce(): Promise<void> {
    return new Promise((resolve) => {
      this.#finishing = resolve;
    });
  }

  /** Copies as much of `chunk` as the free blocks hold; the rest waits in `#overflow`. */
  #copy(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (!this.#current) {
        const block =
          this.#free.pop() ?? (this.#allocated < MAX_IN_FLIGHT + 1 ? this.#allocate() : undefined);
        if (!block) {
          this.#overflow.push(chunk.subarray(offset));
          return;
        }
        this.#current = block;
        this.#filled = 0;
      }
      const copied = chunk.copy(this.#current, this.#filled, offset);
      this.#filled += copied;
      offset += copied;
      if (this.#filled === BLOCK_BYTES) {
        const full = this.#current;
        this.#current = undefined;
        this.#write(full, BLOCK_BYTES);
      }
    }
  }

  #allocate(): Buffer {
    this.#allocated += 1;
    return Buffer.allocUnsafe(BLOCK_BYTES);
  }

  #write(block: Buffer, length: number): void {
    const position = this.#position;
    this.#position += length;
    this.#inFlight += 1;
    writeFully(this.#file, block, length, position).then(
      () => this.#settled(block),
      (error: unknown) => {
        const first = this.#error === undefined;
        this.#error ??= error ?? new Error('write failed');
        if (first) {
          this.#overflow = [];
          this.#current = undefined;
        }
        this.#settled(block);
        if (first) this.#onError?.(this.#error);
      },
    );
  }

  #settled(block: Buffer): void {
    this.#inFlight -= 1;
    this.#free.push(block);
    if (this.#error === undefined && this.#overflow.length > 0) {
      const waiting = this.#overflow;
      this.#overflow = [];
      for (const chunk of waiting) {
        if (this.#overflow.length > 0) this.#overflow.push(chunk);
        else this.#copy(chunk);
      }
    }
    if (this.#overflow.length === 0 || this.#error !== undefined) {
      const waiters = this.#drainWaiters;
      this.#drainWaiters = [];
      for (const resume of waiters) resume();
    }
    const finishing = this.#finishing;
    this.#finishing = undefined;
    finishing?.();
  }
}

/**
 * pwrite may write less than asked (a file system filling up takes what fits): the rest is written at its own
 * offset, and a write that takes nothing at all is an error, never a silent gap in the file.
 */
async function writeFully(file: FileHandle, block: Buffer, length: number, position: number): Promise<void> {
  let written = 0;
  while (written < length) {
    const { bytesWritten } = await file.write(block, written, length - written, position + written);
    if (bytesWritten <= 0) throw new Error(`the file took no more bytes at offset ${position + written}`);
    written += bytesWritten;
  }
}
