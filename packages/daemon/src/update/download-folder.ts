import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../log/logger.js';

/** Where firmware is downloaded to, inside `data_dir`: one file at a time, never kept. */
export function downloadFolder(dataDir: string): string {
  return join(dataDir, 'downloads');
}

/** Files left in the download folder by a crash or a power cut: never applied, always removed. */
export async function removeStaleDownloads(dataDir: string, logger: Logger): Promise<void> {
  const dir = downloadFolder(dataDir);
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    await rm(join(dir, name), { force: true, recursive: true });
    logger.info(`removed ${name}, left over from an earlier run`);
  }
}
