/**
 * fwup's `--framing` output: each frame is a 4-byte big-endian length, then a 2-letter type (`PR`, `WN`, `ER`,
 * `OK`), a 2-byte big-endian code and a message (fwup src/util.c). Frames arrive split and merged arbitrarily.
 */

export type FwupFrame =
  | { readonly type: 'PR'; readonly progress: number }
  | { readonly type: 'WN' | 'ER' | 'OK'; readonly code: number; readonly message: string }
  | { readonly type: 'other'; readonly tag: string; readonly code: number; readonly message: string };

/** The largest frame fwup writes is a metadata listing, far below this; anything larger is not a frame. */
const MAX_FRAME_BYTES = 1024 * 1024;

export class FwupFrameParser {
  #buffer: Buffer = Buffer.alloc(0);
  #broken = false;
  #garbage = '';

  /** Bytes that could not be frames (a usage text, `--unsafe` output): kept for logs. */
  get unframedText(): string {
    return this.#garbage;
  }

  /** Feeds stdout bytes; returns the frames completed by them, in order. */
  push(chunk: Buffer): FwupFrame[] {
    if (this.#broken) {
      this.#garbage += chunk.toString('utf8');
      return [];
    }
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    const frames: FwupFrame[] = [];
    while (this.#buffer.length >= 4) {
      const length = this.#buffer.readUInt32BE(0);
      if (length < 4 || length > MAX_FRAME_BYTES) {
        // Not framing (e.g. the usage text starts "fwup"): stop parsing; the exit status decides.
        this.#broken = true;
        this.#garbage += this.#buffer.toString('utf8');
        this.#buffer = Buffer.alloc(0);
        break;
      }
      if (this.#buffer.length < 4 + length) break;
      const tag = this.#buffer.toString('latin1', 4, 6);
      const code = this.#buffer.readUInt16BE(6);
      const message = this.#buffer.toString('utf8', 8, 4 + length);
      this.#buffer = this.#buffer.subarray(4 + length);
      if (tag === 'PR') frames.push({ type: 'PR', progress: code });
      else if (tag === 'WN' || tag === 'ER' || tag === 'OK') frames.push({ type: tag, code, message });
      else frames.push({ type: 'other', tag, code, message });
    }
    return frames;
  }

  /** Bytes left over at the end of output (a frame cut short). */
  get pendingBytes(): number {
    return this.#buffer.length;
  }
}
