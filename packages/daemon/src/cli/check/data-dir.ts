import { accessSync, constants, statfsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { CheckReport } from './report.js';

/** Below this much free space, a firmware image (downloaded whole before it is applied) is unlikely to fit. */
const LOW_SPACE_BYTES = 64 * 1024 * 1024;

/**
 * data_dir: a folder this user can write (or can create, as `run` does), and how much room it has for the one
 * firmware the daemon downloads before it applies it. Returns the free bytes, when known.
 */
export function checkDataDir(dir: string, report: CheckReport): number | undefined {
  const existing = firstExisting(dir);
  if (!existing.stat.isDirectory()) {
    const what =
      existing.path === dir ? `data_dir ${dir} is` : `data_dir ${dir} cannot be created: ${existing.path} is`;
    report.fail('data_dir', `${what} a file, not a folder (data_dir)`, true);
    return undefined;
  }
  try {
    accessSync(existing.path, constants.W_OK | constants.X_OK);
  } catch {
    const what =
      existing.path === dir ? `data_dir ${dir} is` : `data_dir ${dir} cannot be created: ${existing.path} is`;
    report.fail(
      'data_dir',
      `${what} not writable by this user (uid ${process.getuid?.() ?? '?'}); run check as the daemon's user, or change data_dir`,
      true,
    );
    return undefined;
  }
  const { bavail, bsize } = statfsSync(existing.path);
  const free = Number(bavail) * Number(bsize);
  const where =
    existing.path === dir
      ? `data_dir ${dir}: writable`
      : `data_dir ${dir}: created by run, in ${existing.path}`;
  if (free < LOW_SPACE_BYTES) {
    report.warn(
      'data_dir',
      `${where}, only ${formatBytes(free)} free: the whole firmware is downloaded here before it is applied`,
    );
  } else {
    report.ok('data_dir', `${where}, ${formatBytes(free)} free`);
  }
  return free;
}

/** The path itself when it exists, else its nearest existing ancestor (which may be a file). */
function firstExisting(path: string): { path: string; stat: ReturnType<typeof statSync> & object } {
  for (let current = path; ; current = dirname(current)) {
    try {
      return { path: current, stat: statSync(current) };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || dirname(current) === current) throw error;
    }
  }
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(0)} MiB`;
  return `${(bytes / 1024).toFixed(0)} KiB`;
}
