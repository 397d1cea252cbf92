import { statfs } from 'node:fs/promises';
import { FirmwareError } from '../errors.js';

/** Room kept free beyond the firmware itself, so that the rest of the device can go on writing. */
export const KEPT_FREE_BYTES = 1024 * 1024;

/** Bytes an unprivileged process may still write in `directory`'s file system. */
export async function freeBytes(directory: string): Promise<number> {
  const stats = await statfs(directory);
  return Number(stats.bavail) * Number(stats.bsize);
}

/** Fails with FW_NO_SPACE, before any byte is written, when `bytes` cannot fit in `directory`. */
export async function ensureFreeSpace(directory: string, bytes: number): Promise<void> {
  const available = await freeBytes(directory);
  if (available < bytes + KEPT_FREE_BYTES) {
    throw new FirmwareError(
      'FW_NO_SPACE',
      `not enough free space in ${directory} for the firmware: ${bytes} bytes needed, ${available} available`,
    );
  }
}
