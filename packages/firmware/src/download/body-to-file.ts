/**
 * The 200 response body on its way to the `.part` file: free-space check, hashing, block writes. It reads no more
 * than the body may be: the announced size (the update's `size`, else `Content-Length`), or, when nothing was
 * announced, what fits in the file system with room kept free (and the caller's `maxSize`). The byte after it ends
 * the attempt, as does a write error, an encoded body or a body slower than the rate floor, so a hostile or broken
 * host can neither fill the disk nor keep the attempt going.
 *
 * The file is not fsynced. What reads it next (fwup's verify and apply) reads it through the page cache, which
 * holds every byte once its write has returned, whether or not it has reached the disk yet; the kernel writes it
 * back in its own time, or never if the file is deleted first. A power cut before then can leave a torn file, so
 * a caller keeps no file across one: the daemon deletes whatever it finds in its download folder when it starts
 * and downloads again from byte 0 (there is no resume), and fwup would refuse a torn archive anyway (it checks the
 * signature and every resource's hash). An fsync here would make the device wait for the whole firmware to reach
 * its flash, and wear it, for a file deleted minutes later.
 */
import { createHash } from 'node:crypto';
import { type FileHandle, open, rm } from 'node:fs/promises';
import { FirmwareError } from '../errors.js';
import { BlockWriter } from './block-writer.js';
import { ensureFreeSpace, freeBytes, KEPT_FREE_BYTES } from './free-space.js';
import type { BodySink, StopBody } from './http-get.js';
import { RateFloor } from './rate-floor.js';
import { redactUrl } from './redact-url.js';
import { transportError } from './transport-error.js';

export interface BodyOptions {
  readonly partPath: string;
  readonly directory: string;
  readonly expectedSize: number | undefined;
  /** The most a firmware may be, whatever it announces. */
  readonly maxSize: number | undefined;
  readonly minRate: { readonly bytesPerSecond: number; readonly windowMs: number };
  readonly signal: AbortSignal | undefined;
  readonly onBytes: (bytes: number, total: number | undefined) => void;
}

export interface BodyResult {
  readonly size: number;
  readonly sha256: string;
}

/** The most the body may be, and why: each reason is its own failure. */
interface Limit {
  readonly bytes: number;
  readonly why: 'update' | 'content-length' | 'max-size' | 'free-space';
}

export class BodyToFile {
  readonly #options: BodyOptions;
  readonly #hash = createHash('sha256');
  #file: Promise<FileHandle> | undefined;
  #writer: BlockWriter | undefined;
  #contentLength: number | undefined;
  /** The size the update or the host announced, if any. */
  #announced: number | undefined;
  #limit: Limit = { bytes: Number.POSITIVE_INFINITY, why: 'max-size' };
  #size = 0;
  /** Why the body was refused, once it was: reported instead of the transport error the stop causes. */
  #failure: FirmwareError | undefined;
  #stop: StopBody | undefined;

  constructor(options: BodyOptions) {
    this.#options = options;
  }

  /** Called with the response headers; returns the sink the body flows into. */
  start(headers: Record<string, string | undefined>, url: URL, stop: StopBody): BodySink | undefined {
    const { directory, partPath, expectedSize, maxSize, minRate } = this.#options;
    this.#stop = stop;
    const encoding = headers['content-encoding']?.trim().toLowerCase();
    if (encoding && encoding !== 'identity') {
      const shown = encoding.length > 40 ? `${encoding.slice(0, 40)}…` : encoding;
      this.#fail(
        new FirmwareError(
          'FW_CONTENT_ENCODING',
          `encoded body refused: ${redactUrl(url)} sent Content-Encoding ${JSON.stringify(shown)}, the firmware must come as it is (identity)`,
        ),
      );
      return undefined;
    }
    const contentLength = parseContentLength(headers['content-length']);
    this.#contentLength = contentLength;
    if (expectedSize === undefined && contentLength !== undefined && maxSize !== undefined) {
      if (contentLength > maxSize) {
        this.#fail(
          new FirmwareError(
            'FW_TOO_LARGE',
            `too large: ${redactUrl(url)} announced ${contentLength} bytes (Content-Length), more than the ${maxSize} allowed (maxSize)`,
          ),
        );
        return undefined;
      }
    }
    const announced = expectedSize ?? contentLength;
    this.#announced = announced;
    if (announced !== undefined) {
      this.#limit = { bytes: announced, why: expectedSize !== undefined ? 'update' : 'content-length' };
    } else if (maxSize !== undefined) {
      this.#limit = { bytes: maxSize, why: 'max-size' };
    }
    this.#file = (async () => {
      // No room for what the update announced is the first thing to say; then a host announcing another size.
      if (announced !== undefined) await ensureFreeSpace(directory, announced);
      else await this.#boundByFreeSpace(url);
      if (this.#failure) throw this.#failure;
      if (expectedSize !== undefined && contentLength !== undefined && contentLength !== expectedSize) {
        throw new FirmwareError(
          'FW_SIZE_MISMATCH',
          `size mismatch: ${redactUrl(url)} announced ${contentLength} bytes (Content-Length), the update ${expectedSize}`,
        );
      }
      return open(partPath, 'w', 0o600);
    })();
    this.#file.catch(() => {});
    const floor = new RateFloor(minRate.bytesPerSecond, minRate.windowMs);
    const queued: Buffer[] = [];
    let waiting: (() => void) | undefined;
    const onWriteError = (cause: unknown) => this.#fail(writeError(cause, directory));
    // Until the file is open, chunks wait in memory and reading is held.
    void this.#file.then(
      (file) => {
        const writer = new BlockWriter(file, onWriteError);
        this.#writer = writer;
        for (const chunk of queued.splice(0)) writer.push(chunk);
        if (waiting) writer.onDrain(waiting);
      },
      () => {},
    );
    return {
      push: (chunk) => {
        if (this.#failure) return true;
        if (this.#size + chunk.length > this.#limit.bytes) {
          this.#fail(this.#overLimit(url));
          return true;
        }
        this.#hash.update(chunk);
        this.#size += chunk.length;
        this.#options.onBytes(this.#size, announced);
        const slow = floor.add(chunk.length);
        if (slow) {
          this.#fail(
            new FirmwareError(
              'FW_TOO_SLOW',
              `too slow: ${redactUrl(url)}: ${slow.bytes} bytes in the last ${(slow.ms / 1000).toFixed(1)} s (${Math.floor(slow.bytesPerSecond)} B/s), below the minimum of ${minRate.bytesPerSecond} B/s, after ${this.#size} bytes`,
            ),
          );
          return true;
        }
        if (!this.#writer) {
          queued.push(chunk);
          return false;
        }
        return this.#writer.push(chunk);
      },
      onDrain: (resume) => {
        if (!this.#writer) waiting = resume;
        else this.#writer.onDrain(resume);
      },
    };
  }

  async complete(response: { ended: Promise<void>; abort(): void }, url: URL): Promise<BodyResult> {
    const { ended } = response;
    const { partPath, directory, signal } = this.#options;
    let file: FileHandle | undefined;
    try {
      if (this.#failure) throw this.#failure;
      file = await this.#file!.catch((cause) => {
        throw cause instanceof FirmwareError ? cause : writeError(cause, directory);
      });
      try {
        await ended;
      } catch (cause) {
        // Every byte announced has arrived: what the connection does next (a reset, a close before the last
        // chunk's terminator, a stall) takes nothing from the body.
        if (this.#failure || signal?.aborted || this.#size !== this.#announced) {
          throw this.#failure ?? transportError(cause, url, signal, this.#size);
        }
      }
      if (this.#failure) throw this.#failure;
      await this.#writer!.finish().catch((cause) => {
        throw this.#failure ?? writeError(cause, directory);
      });
      // No fsync: see the top of this file.
      await file.close();
      file = undefined;
    } catch (error) {
      response.abort();
      await file?.close().catch(() => {});
      await rm(partPath, { force: true });
      throw error;
    }
    if (this.#contentLength !== undefined && this.#size !== this.#contentLength) {
      throw new FirmwareError(
        'FW_SIZE_MISMATCH',
        `size mismatch: ${redactUrl(url)}: got ${this.#size} bytes, Content-Length said ${this.#contentLength}`,
      );
    }
    return { size: this.#size, sha256: this.#hash.digest('hex').toUpperCase() };
  }

  /**
   * With no size announced, the body may take what the file system has free, less the room kept for the rest of
   * the device: measured once, before the first byte is written. Bytes already queued past it end the body.
   */
  async #boundByFreeSpace(url: URL): Promise<void> {
    const room = Math.max(0, (await freeBytes(this.#options.directory)) - KEPT_FREE_BYTES);
    if (room < this.#limit.bytes) this.#limit = { bytes: room, why: 'free-space' };
    if (this.#size > this.#limit.bytes) this.#fail(this.#overLimit(url));
  }

  #overLimit(url: URL): FirmwareError {
    const { bytes, why } = this.#limit;
    const where = redactUrl(url);
    switch (why) {
      case 'update':
        return new FirmwareError(
          'FW_SIZE_MISMATCH',
          `size mismatch: ${where} sent more than the ${bytes} bytes the update announced`,
        );
      case 'content-length':
        return new FirmwareError(
          'FW_SIZE_MISMATCH',
          `size mismatch: ${where} sent more than the ${bytes} bytes Content-Length said`,
        );
      case 'max-size':
        return new FirmwareError(
          'FW_TOO_LARGE',
          `too large: ${where} sent more than the ${bytes} bytes allowed (maxSize), and announced no size`,
        );
      case 'free-space':
        return new FirmwareError(
          'FW_NO_SPACE',
          `not enough free space: ${where} announced no size and sent more than the ${bytes} bytes free in ${this.#options.directory} (less ${KEPT_FREE_BYTES} kept free)`,
        );
    }
  }

  /** Ends the body with this reason (the first one wins). */
  #fail(error: FirmwareError): void {
    if (this.#failure) return;
    this.#failure = error;
    this.#stop?.(error);
  }
}

/** A `Content-Length` that is not a plain non-negative integer counts as none; the update's size still bounds. */
function parseContentLength(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+$/.test(value.trim())) return undefined;
  const length = Number(value.trim());
  return Number.isSafeInteger(length) ? length : undefined;
}

function writeError(cause: unknown, directory: string): FirmwareError {
  if ((cause as NodeJS.ErrnoException)?.code === 'ENOSPC') {
    return new FirmwareError(
      'FW_NO_SPACE',
      `not enough free space: the disk filled up while writing the firmware to ${directory}`,
      { cause },
    );
  }
  return new FirmwareError(
    'FW_WRITE_FAILED',
    `write error: cannot write the firmware to ${directory}: ${(cause as Error)?.message ?? String(cause)}`,
    { cause },
  );
}
