/**
 * raw_write hands the cache whole 512-byte blocks whatever sizes the decompressor returns, keeping a partial
 * block until more data arrives, and pads the last one with zeros (fwup src/pad_to_block_writer.c @6f3bf79). The
 * lag matters: a 128 KiB segment counts as written, and goes to the target, only once its last block is complete.
 */
import type { BlockCache } from './block-cache.js';

const BLOCK_BYTES = 512;

export class PadToBlockWriter {
  readonly #partial = Buffer.alloc(BLOCK_BYTES);
  #partialLength = 0;
  #offset: number;

  constructor(
    private readonly cache: BlockCache,
    offset: number,
  ) {
    this.#offset = offset;
  }

  /** Appends `data` at the current offset. */
  write(data: Buffer): void {
    let rest = data;
    if (this.#partialLength > 0) {
      const take = Math.min(BLOCK_BYTES - this.#partialLength, rest.length);
      rest.copy(this.#partial, this.#partialLength, 0, take);
      this.#partialLength += take;
      rest = rest.subarray(take);
      if (this.#partialLength < BLOCK_BYTES) return;
      this.cache.write(this.#partial, this.#offset, true);
      this.#offset += BLOCK_BYTES;
      this.#partialLength = 0;
    }
    // fwup keeps even an exact single block back until the next write (its test is `count > 512`).
    if (rest.length > BLOCK_BYTES) {
      const whole = rest.length - (rest.length % BLOCK_BYTES);
      this.cache.write(rest.subarray(0, whole), this.#offset, true);
      this.#offset += whole;
      rest = rest.subarray(whole);
    }
    rest.copy(this.#partial, 0);
    this.#partialLength = rest.length;
  }

  flush(): void {
    if (this.#partialLength === 0) return;
    this.#partial.fill(0, this.#partialLength);
    this.cache.write(this.#partial, this.#offset, true);
    this.#offset += BLOCK_BYTES;
    this.#partialLength = 0;
  }
}
