/**
 * Reading files named in a configuration: only regular files, and only up to a size cap. A path that names a
 * device, a FIFO or a socket is refused before anything is read: `/dev/zero` would be read until memory runs
 * out, and a FIFO without a writer would block start-up for ever without a word.
 */
import type { Stats } from 'node:fs';
import { constants, open, stat } from 'node:fs/promises';
import { RefusedFileError } from './errors.js';

const CHUNK_BYTES = 16 * 1024;

export interface RegularFile {
  readonly bytes: Buffer;
  /** Of the opened file (its mode, for permission warnings). */
  readonly stats: Stats;
}

/**
 * The bytes of the regular file at `path` (symbolic links are followed), at most `maxBytes` of them.
 * Throws `RefusedFileError` for anything else or anything larger, and the fs error (ENOENT, EACCES…) when it
 * cannot be opened. Anything but a regular file is refused before it is opened (opening some devices acts,
 * e.g. a watchdog); it is opened non-blocking, so that a FIFO swapped in meanwhile cannot block, and checked
 * again on the opened descriptor, so that nothing swapped in after the first check is read.
 */
export async function readRegularFile(path: string, maxBytes: number): Promise<RegularFile> {
  checkRegular(path, maxBytes, await stat(path));
  const handle = await open(
    path,
    constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0),
  );
  try {
    const stats = await handle.stat();
    checkRegular(path, maxBytes, stats);
    // Read up to one byte past the cap: a file that grew since `stat` is refused, not cut short.
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.alloc(Math.min(CHUNK_BYTES, maxBytes + 1 - total));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      total += bytesRead;
      if (total > maxBytes) throw tooLarge(path, maxBytes);
    }
    return { bytes: Buffer.concat(chunks, total), stats };
  } finally {
    await handle.close();
  }
}

function checkRegular(path: string, maxBytes: number, stats: Stats): void {
  if (!stats.isFile()) throw new RefusedFileError(path, `it is not a regular file (it is ${kindOf(stats)})`);
  if (stats.size > maxBytes) throw tooLarge(path, maxBytes);
}

function tooLarge(path: string, maxBytes: number): RefusedFileError {
  return new RefusedFileError(path, `it is larger than ${formatKiB(maxBytes)} KiB`);
}

function formatKiB(bytes: number): string {
  const kib = bytes / 1024;
  return Number.isInteger(kib) ? String(kib) : kib.toFixed(1);
}

function kindOf(info: Stats): string {
  if (info.isDirectory()) return 'a directory';
  if (info.isCharacterDevice()) return 'a character device';
  if (info.isBlockDevice()) return 'a block device';
  if (info.isFIFO()) return 'a FIFO';
  if (info.isSocket()) return 'a socket';
  return 'not a file';
}
