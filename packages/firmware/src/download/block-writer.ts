/**
 * Writes a stream of chunks to a file in blocks: one disk write per WRITE_BLOCK bytes instead of one per TLS
 * record, several blocks in flight at their own offsets (pwrite) while the next ones fill. Reading pauses when
 * MAX_IN_FLIGHT blocks are being written and another is full, so memory stays flat whatever the firmware size.
 */
import type { FileHandle } from 'node:fs/promises';

const WRITE_BLOCK = 1024 * 1024;
const MAX_IN_FLIGHT = 4;

export class BlockWriter {
  readonly #file: FileHandle;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #position = 0;
  readonly #inFlight = new Set<Promise<void>>();
  #error: unknown;
  #drainWaiters: (() => void)[] = [];

  constructor(file: FileHandle) {
    this.#file = file;
  }

  /** Adds a chunk; returns false when the caller should pause until `onDrain`. */
  push(chunk: Buffer): boolean {
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
    if (this.#pendingBytes >= WRITE_BLOCK && this.#inFlight.size < MAX_IN_FLIGHT) this.#flush();
    return !this.#full();
  }

  onDrain(resume: () => void): void {
    if (!this.#full()) resume();
    else this.#drainWaiters.push(resume);
  }

  /** Writes what is left and waits for every write. Throws the first write error. */
  async finish(): Promise<void> {
    if (this.#pendingBytes > 0 && !this.#error) this.#flush();
    while (this.#inFlight.size > 0) await Promise.all(this.#inFlight);
    if (this.#error) throw this.#error;
  }

  #full(): boolean {
    return this.#inFlight.size >= MAX_IN_FLIGHT && this.#pendingBytes >= WRITE_BLOCK;
  }

  #flush(): void {
    const block =
      this.#pending.length === 1 ? this.#pending[0]! : Buffer.concat(this.#pending, this.#pendingBytes);
    this.#pending = [];
    this.#pendingBytes = 0;
    const position = this.#position;
    this.#position += block.length;
    const write: Promise<void> = this.#file.write(block, 0, block.length, position).then(
      () => this.#settled(write),
      (error: unknown) => {
        this.#error ??= error;
        this.#settled(write);
      },
    );
    this.#inFlight.add(write);
  }

  #settled(write: Promise<void>): void {
    this.#inFlight.delete(write);
    if (this.#error) return;
    if (this.#pendingBytes >= WRITE_BLOCK) this.#flush();
    if (!this.#full()) {
      const waiters = this.#drainWaiters;
      this.#drainWaiters = [];
      for (const resume of waiters) resume();
    }
  }
}
