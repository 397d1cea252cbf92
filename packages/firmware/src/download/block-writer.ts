/**
 * Writes the firmware body to its file as it arrives: each chunk is written at once, at its offset, straight
 * from the chunk undici hands over (no copy into blocks, nothing held for later), with a synchronous pwrite on
 * the calling thread. On a 1 GiB download (packages/daemon/bench/update.bench.mjs) this took about half the
 * system time of 1 MiB blocks written by the thread pool four at a time: no hand-over between threads, no
 * writers contending for the file's lock, and writes of a chunk's size (16 KiB) cost the kernel less on a new
 * file than 1 MiB ones. Blocks of 64 KiB written by the thread pool one at a time were twice as slow, and a
 * worker thread that hashed and wrote did not pay on two cores and cost on one. Memory stays flat because a
 * chunk is garbage as soon as it is written.
 *
 * A write into the page cache is a memory copy; when the disk falls behind, the kernel's dirty-page throttling
 * makes the write wait, which here also pauses reading the socket: the back-pressure comes from the kernel.
 * While the body arrives, the data is flushed to disk in the background every `flushEveryBytes` (fdatasync on
 * the thread pool, one at a time), so few dirty pages pile up and the fsync after the last byte finds little
 * left to write.
 *
 * The first write or flush error is reported through `onError` (in a microtask, never from inside `push`) and
 * ends the writing: later chunks are dropped, and `finish` throws it.
 */
import { writeSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';

/** Background flush interval: small against the RAM of a device, large against one write. */
export const FLUSH_EVERY_BYTES = 32 * 1024 * 1024;

export class BlockWriter {
  readonly #file: FileHandle;
  readonly #onError: ((error: unknown) => void) | undefined;
  readonly #flushEveryBytes: number;
  #position = 0;
  #unflushed = 0;
  #flushing: Promise<void> | undefined;
  #error: unknown;

  /**
   * `onError` is called once, with the first write or flush error. `flushEveryBytes` 0 turns the background
   * flush off.
   */
  constructor(
    file: FileHandle,
    onError?: (error: unknown) => void,
    flushEveryBytes: number = FLUSH_EVERY_BYTES,
  ) {
    this.#file = file;
    this.#onError = onError;
    this.#flushEveryBytes = flushEveryBytes;
  }

  /** The first write or flush error, if any: nothing more is written after it. */
  get error(): unknown {
    return this.#error;
  }

  /** Bytes written so far. */
  get written(): number {
    return this.#position;
  }

  /** Writes `chunk` after what came before. Returns whether to go on reading, which is always: see above. */
  push(chunk: Buffer): boolean {
    if (this.#error !== undefined) return true;
    try {
      writeFully(this.#file.fd, chunk, this.#position);
    } catch (error) {
      this.#fail(error);
      return true;
    }
    this.#position += chunk.length;
    this.#unflushed += chunk.length;
    if (this.#flushEveryBytes > 0 && this.#unflushed >= this.#flushEveryBytes && !this.#flushing) {
      this.#unflushed = 0;
      this.#flushing = this.#flush();
    }
    return true;
  }

  /** For a caller that paused: this writer never asks it to, so it resumes at once. */
  onDrain(resume: () => void): void {
    resume();
  }

  /** Waits for a background flush still running. Throws the first error. */
  async finish(): Promise<void> {
    await this.#flushing;
    if (this.#error !== undefined) throw this.#error;
  }

  /** Through the FileHandle, so that closing it waits for a flush still running. */
  async #flush(): Promise<void> {
    try {
      await this.#file.datasync();
    } catch (error) {
      this.#fail(error);
    } finally {
      this.#flushing = undefined;
    }
  }

  #fail(error: unknown): void {
    if (this.#error !== undefined) return;
    this.#error = error ?? new Error('write failed');
    const reported = this.#error;
    queueMicrotask(() => this.#onError?.(reported));
  }
}

/**
 * pwrite may write less than asked (a file system filling up takes what fits): the rest is written at its own
 * offset, and a write that takes nothing at all is an error, never a silent gap in the file.
 */
function writeFully(fd: number, chunk: Buffer, position: number): void {
  let written = 0;
  while (written < chunk.length) {
    const bytes = writeSync(fd, chunk, written, chunk.length - written, position + written);
    if (bytes <= 0) throw new Error(`the file took no more bytes at offset ${position + written}`);
    written += bytes;
  }
}
