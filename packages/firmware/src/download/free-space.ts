import { statfs } from 'node:fs/promises';
import { FirmwareError } from '../errors.js';

/** Room kept free beyond the firmware itself. */
const MARGIN_BYTES = 1024 * 1024;

/** Fails with FW_NO_SPACE, before any byte is written, when `bytes` cannot fit in `directory`. */
export async function ensureFreeSpace(directory: string, bytes: number): Promise<void> {
  const stats = await statfs(directory);
  const available = Number(stats.bavail) * Number(stats.bsize);
  if (available < bytes + MARGIN_BYTES) {
    throw new FirmwareError(
      'FW_NO_SPACE',
      `not enough free space in ${directory} for the firmware: ${bytes} bytes needed, ${available} available`,
    );
  }
}
