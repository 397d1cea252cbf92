/**
 * Writes a stream of chunks to a file in blocks: one disk write per WRITE_BLOCK bytes instead of one per TLS
 * record, the next block filling while the previous one is written. At most two blocks are held, so memory
 * stays flat whatever the size of the firmware.
 */
import type { FileHandle } from 'node:fs/promises';

const WRITE_BLOCK = 1024 * 1024;
/** Reading pauses when this much waits for the disk. */
const MAX_QUEUED = 4 * WRITE_BLOCK;

export class BlockWriter {
  readonly #file: FileHandle;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #writing: Promise<void> | undefined;
  #error: unknown;
  #drainWaiters: (() => void)[] = [];

  constructor(file: FileHandle) {
    this.#file = file;
  }

  /** The first write error, if any (ENOSPC…). */
  get error(): unknown {
    return this.#error;
  }

  /** Adds a chunk; returns false when the caller should pause until `onDrain`. */
  push(chunk: Buffer): boolean {
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
    if (this.#pendingBytes >= WRITE_BLOCK && this.#writing === undefined) this.#flush();
    return this.#pendingBytes < MAX_QUEUED;
  }

  onDrain(resume: () => void): void {
    this.#drainWaiters.push(resume);
  }

  /** Writes what is left and waits for every write. Throws the first write error. */
  async finish(): Promise<void> {
    for (;;) {
      if (this.#error) throw this.#error;
      if (this.#writing) await this.#writing;
      else if (this.#pendingBytes > 0) this.#flush();
      else return;
    }
  }

  #flush(): void {
    const block =
      this.#pending.length === 1 ? this.#pending[0]! : Buffer.concat(this.#pending, this.#pendingBytes);
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#writing = this.#file.write(block).then(
      () => undefined,
      (error: unknown) => {
        this.#error ??= error;
      },
    );
    this.#writing.then(() => {
      this.#writing = undefined;
      if (this.#error) return;
      if (this.#pendingBytes >= WRITE_BLOCK) this.#flush();
      if (this.#pendingBytes < MAX_QUEUED) {
        const waiters = this.#drainWaiters;
        this.#drainWaiters = [];
        for (const resume of waiters) resume();
      }
    });
  }
}
