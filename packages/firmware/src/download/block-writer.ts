/**
 * Writes the firmware body to its file in blocks, off the thread that reads the socket. The chunks undici hands
 * over (one TLS record each, 16 KiB) are gathered, not copied, until they make a block of `BLOCK_BYTES`; the block
 * goes to the file with one pwritev on libuv's thread pool while the next one fills. While the thread pool writes,
 * the main thread goes on reading, decrypting and hashing: on two cores the page-cache copy runs beside them, and
 * on one core a write that waits (a page fault the hypervisor serves, dirty-page throttling) no longer stops the
 * socket. Blocks of 256 KiB cost the kernel less than 16 KiB writes (fewer calls) and less than 1 MiB ones (still
 * in the core's cache when they are copied): measured in packages/daemon/bench/ceiling.bench.mjs.
 *
 * Back-pressure: when a block is full and the one before it is still being written, `push` returns false and
 * reading is held until that write is done (`onDrain`). At most two blocks and the rest of a socket read are in
 * memory; a chunk is garbage as soon as its block is written.
 *
 * Nothing here flushes to disk: see body-to-file.ts for why the download needs no fsync.
 *
 * The first write error is reported through `onError` (in a microtask, never from inside `push`) and ends the
 * writing: later chunks are dropped, and `finish` throws it.
 */
import type { FileHandle } from 'node:fs/promises';

export const BLOCK_BYTES = 256 * 1024;

export class BlockWriter {
  readonly #file: FileHandle;
  readonly #onError: ((error: unknown) => void) | undefined;
  readonly #blockBytes: number;
  /** The block being filled: chunks as they came, and their length. */
  #block: Buffer[] = [];
  #blockLength = 0;
  /** Where the block being filled goes in the file. */
  #position = 0;
  #written = 0;
  /** The block on its way to the file, if any. */
  #writing: Promise<void> | undefined;
  /** The reader held until the block in flight is written. */
  #resume: (() => void) | undefined;
  #error: unknown;

  /** `onError` is called once, with the first write error. */
  constructor(file: FileHandle, onError?: (error: unknown) => void, blockBytes: number = BLOCK_BYTES) {
    this.#file = file;
    this.#onError = onError;
    this.#blockBytes = blockBytes;
  }

  /** The first write error, if any: nothing more is written after it. */
  get error(): unknown {
    return this.#error;
  }

  /** Bytes in the file so far. */
  get written(): number {
    return this.#written;
  }

  /** Takes `chunk`, to be written after what came before. Returns false while reading should be held. */
  push(chunk: Buffer): boolean {
    if (this.#error !== undefined) return true;
    this.#block.push(chunk);
    this.#blockLength += chunk.length;
    if (this.#blockLength < this.#blockBytes) return true;
    if (this.#writing) return false;
    this.#writeBlock();
    return true;
  }

  /** Calls `resume` once reading may go on: at once, unless a full block waits for the one in flight. */
  onDrain(resume: () => void): void {
    if (this.#error === undefined && this.#writing && this.#blockLength >= this.#blockBytes) {
      this.#resume = resume;
    } else {
      resume();
    }
  }

  /** Writes what is left and waits for every write. Throws the first error. */
  async finish(): Promise<void> {
    // A write that ends may start the next block: wait until none is in flight.
    while (this.#writing) await this.#writing;
    if (this.#error === undefined && this.#blockLength > 0) {
      this.#writeBlock();
      while (this.#writing) await this.#writing;
    }
    if (this.#error !== undefined) throw this.#error;
  }

  #writeBlock(): void {
    const buffers = this.#block;
    const length = this.#blockLength;
    const position = this.#position;
    this.#block = [];
    this.#blockLength = 0;
    this.#position += length;
    this.#writing = writeFully(this.#file, buffers, position).then(
      () => {
        this.#written += length;
        this.#writing = undefined;
        if (this.#blockLength >= this.#blockBytes) this.#writeBlock();
        this.#wake();
      },
      (error: unknown) => {
        this.#writing = undefined;
        this.#fail(error);
        this.#wake();
      },
    );
  }

  /** Lets a held reader go on (after an error too: what it reads next is dropped). */
  #wake(): void {
    const resume = this.#resume;
    this.#resume = undefined;
    resume?.();
  }

  #fail(error: unknown): void {
    if (this.#error !== undefined) return;
    this.#error = error ?? new Error('write failed');
    this.#block = [];
    this.#blockLength = 0;
    const reported = this.#error;
    queueMicrotask(() => this.#onError?.(reported));
  }
}

/**
 * pwritev may write less than asked (a file system filling up takes what fits): the rest is written at its own
 * offset, and a write that takes nothing at all is an error, never a silent gap in the file.
 */
async function writeFully(file: FileHandle, buffers: Buffer[], position: number): Promise<void> {
  let rest = buffers;
  let at = position;
  while (rest.length > 0) {
    const { bytesWritten } = await file.writev(rest, at);
    if (bytesWritten <= 0) throw new Error(`the file took no more bytes at offset ${at}`);
    at += bytesWritten;
    rest = after(rest, bytesWritten);
  }
}

/** What of `buffers` comes after their first `bytes`. */
function after(buffers: Buffer[], bytes: number): Buffer[] {
  let skip = bytes;
  let index = 0;
  while (index < buffers.length && skip >= buffers[index]!.length) {
    skip -= buffers[index]!.length;
    index++;
  }
  const rest = buffers.slice(index);
  if (skip > 0 && rest.length > 0) rest[0] = rest[0]!.subarray(skip);
  return rest;
}
