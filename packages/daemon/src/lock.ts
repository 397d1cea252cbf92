import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DaemonError } from './errors.js';

export const LOCK_FILE = 'nerves-hub-link.lock';

export interface InstanceLock {
  readonly path: string;
  release(): void;
}

/**
 * Makes sure only one daemon works in `dataDir`: two would download into the same folder and could run
 * fwup at the same time. The lock is a file holding our pid; one left by a process that is gone (after
 * a crash or a power cut) is taken over.
 */
export function acquireLock(dataDir: string): InstanceLock {
  const path = join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: 'wx', mode: 0o644 });
      let released = false;
      return {
        path,
        release() {
          if (released) return;
          released = true;
          rmSync(path, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = readHolder(path);
    if (holder !== undefined && isDaemonAlive(holder)) {
      throw new DaemonError(
        'DAEMON_LOCKED',
        `another nerves-hub-link (pid ${holder}) is running with data_dir ${dataDir}; stop it first, or give this one its own data_dir`,
      );
    }
    rmSync(path, { force: true });
  }
  throw new DaemonError(
    'DAEMON_LOCKED',
    `could not take the lock ${path}; remove it if no daemon is running`,
  );
}

function readHolder(path: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Alive and still a node process: after a reboot the pid may belong to something else entirely. */
function isDaemonAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const commandLine = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return /node|nerves-hub-link/.test(commandLine);
  } catch {
    return true;
  }
}
