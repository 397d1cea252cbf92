/**
 * fwup's write cache in front of the target (fwup src/block_cache.c @6f3bf79), which decides what is on the
 * target after a failure: 128 KiB segments tracked in 512-byte blocks; a segment completely written by streamed
 * data (raw_write, raw_memset) goes to the target at once; anything else (U-Boot environment writes) stays in the
 * cache until the end, or until the least recently used segment must make room (8 MiB of segments by default,
 * `block-cache-size-mb`). A failed task throws the cache away; a successful one flushes it in order of last use.
 * A segment is always written whole, read-modify-write, so a regular file grows to a segment boundary.
 */
import { readSync, writeSync } from 'node:fs';

export const SEGMENT_BYTES = 128 * 1024;
const BLOCK_BYTES = 512;
const BLOCKS_PER_SEGMENT = SEGMENT_BYTES / BLOCK_BYTES;

interface Segment {
  readonly offset: number;
  readonly data: Buffer;
  readonly valid: Uint8Array;
  readonly dirty: Uint8Array;
  streamed: boolean;
  lastAccess: number;
}

export class BlockCache {
  readonly #segments = new Map<number, Segment>();
  readonly #capacity: number;
  #clock = 0;

  constructor(
    private readonly fd: number,
    cacheSizeMb = 8,
  ) {
    this.#capacity = Math.max(
      8,
      Math.floor(((cacheSizeMb > 0 ? cacheSizeMb : 8) * 1024 * 1024) / SEGMENT_BYTES),
    );
  }

  read(offset: number, length: number): Buffer {
    const out = Buffer.alloc(length);
    for (let done = 0; done < length; ) {
      const position = offset + done;
      const segment = this.#segment(position - (position % SEGMENT_BYTES));
      this.#makeValid(segment);
      const inside = position - segment.offset;
      const count = Math.min(length - done, SEGMENT_BYTES - inside);
      segment.data.copy(out, done, inside, inside + count);
      done += count;
    }
    return out;
  }

  /** Writes whole 512-byte blocks (`data.length` is a multiple of 512, as fwup's writers guarantee). */
  write(data: Buffer, offset: number, streamed: boolean): void {
    for (let done = 0; done < data.length; ) {
      const position = offset + done;
      const segment = this.#segment(position - (position % SEGMENT_BYTES));
      const inside = position - segment.offset;
      const count = Math.min(data.length - done, SEGMENT_BYTES - inside);
      data.copy(segment.data, inside, done, done + count);
      for (let block = inside / BLOCK_BYTES; block < (inside + count) / BLOCK_BYTES; block++) {
        segment.valid[block] = 1;
        segment.dirty[block] = 1;
      }
      if (streamed && segment.streamed && segment.dirty.every(Boolean)) {
        this.#writeSegment(segment);
      } else if (!streamed) {
        segment.streamed = false;
      }
      done += count;
    }
  }

  /** Writes every dirty segment, least recently used first. */
  flush(): void {
    const order = [...this.#segments.values()].sort((a, b) => a.lastAccess - b.lastAccess);
    for (const segment of order) this.#flushSegment(segment);
  }

  /** Forgets everything not yet written (fwup's `block_cache_reset` after an error). */
  reset(): void {
    this.#segments.clear();
  }

  #segment(offset: number): Segment {
    const hit = this.#segments.get(offset);
    if (hit) {
      hit.lastAccess = this.#clock++;
      return hit;
    }
    if (this.#segments.size >= this.#capacity) {
      let oldest: Segment | undefined;
      for (const segment of this.#segments.values()) {
        if (!oldest || segment.lastAccess < oldest.lastAccess) oldest = segment;
      }
      this.#flushSegment(oldest!);
      this.#segments.delete(oldest!.offset);
    }
    const segment: Segment = {
      offset,
      data: Buffer.alloc(SEGMENT_BYTES),
      valid: new Uint8Array(BLOCKS_PER_SEGMENT),
      dirty: new Uint8Array(BLOCKS_PER_SEGMENT),
      streamed: true,
      lastAccess: this.#clock++,
    };
    this.#segments.set(offset, segment);
    return segment;
  }

  #makeValid(segment: Segment): void {
    if (segment.valid.every(Boolean)) return;
    const disk = Buffer.alloc(SEGMENT_BYTES);
    readSync(this.fd, disk, 0, SEGMENT_BYTES, segment.offset);
    for (let block = 0; block < BLOCKS_PER_SEGMENT; block++) {
      if (segment.valid[block]) continue;
      disk.copy(segment.data, block * BLOCK_BYTES, block * BLOCK_BYTES, (block + 1) * BLOCK_BYTES);
      segment.valid[block] = 1;
    }
  }

  #flushSegment(segment: Segment): void {
    if (!segment.dirty.some(Boolean)) return;
    this.#writeSegment(segment);
  }

  #writeSegment(segment: Segment): void {
    this.#makeValid(segment);
    for (let written = 0; written < SEGMENT_BYTES; ) {
      written += writeSync(this.fd, segment.data, written, SEGMENT_BYTES - written, segment.offset + written);
    }
    segment.dirty.fill(0);
  }
}
