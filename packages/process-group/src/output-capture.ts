/** Keeps the end of an output stream, at most a given number of bytes, and counts all it carried. */
import type { CapturedOutput } from './result.js';

export class OutputCapture {
  readonly #maxBytes: number;
  readonly #chunks: Buffer[] = [];
  #keptBytes = 0;
  #totalBytes = 0;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** More has been written than is kept. */
  get truncated(): boolean {
    return this.#totalBytes > this.#maxBytes;
  }

  add(chunk: Buffer): void {
    this.#totalBytes += chunk.length;
    this.#chunks.push(chunk);
    this.#keptBytes += chunk.length;
    // Whole chunks are dropped from the front while the rest still holds the bound; `result` cuts the remainder.
    while (this.#chunks.length > 1 && this.#keptBytes - this.#chunks[0]!.length >= this.#maxBytes) {
      this.#keptBytes -= this.#chunks.shift()!.length;
    }
  }

  result(): CapturedOutput {
    let bytes = Buffer.concat(this.#chunks, this.#keptBytes);
    if (bytes.length > this.#maxBytes) bytes = bytes.subarray(bytes.length - this.#maxBytes);
    // A cut may have fallen inside a UTF-8 sequence: its continuation bytes would decode as U+FFFD.
    let start = 0;
    if (this.truncated) while (start < 3 && isContinuationByte(bytes[start])) start++;
    return {
      text: bytes.subarray(start).toString('utf8'),
      totalBytes: this.#totalBytes,
      truncated: this.truncated,
    };
  }
}

function isContinuationByte(byte: number | undefined): boolean {
  return byte !== undefined && (byte & 0xc0) === 0x80;
}
