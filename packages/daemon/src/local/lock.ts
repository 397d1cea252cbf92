import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fstatSync,
  linkSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { DaemonError } from '../errors/daemon-errors.js';
import type { Logger } from '../log/logger.js';
import { isAlive, pidOf, staleReason } from './lock-holder.js';

export const LOCK_FILE = 'nerves-hub-link.lock';

/** How often a start that lost a race looks again before it gives up (each after a short pause). */
const MAX_TRIES = 50;
const PAUSE_MS = 10;

export interface InstanceLock {
  readonly path: string;
  release(): void;
}

/** A file as the lock sees it: which inode, and the pid in it. */
interface Holder {
  readonly dev: bigint;
  readonly ino: bigint;
  readonly uid: number;
  readonly pid: number | undefined;
}

/**
 * Makes sure only one daemon works in `dataDir`: two would download into the same folder and could run fwup at
 * the same time. The lock is a file holding our pid. Every change of it is one atomic step, so two daemons
 * started at once never both run, whatever else happens at that moment:
 * - the pid is written to a file of our own first, then linked to the lock's name (which fails when a lock
 *   exists), so a lock is never seen empty or half written;
 * - a lock whose holder is not a running nerves-hub-link is stale (see `staleReason`) and taken over with a
 *   warning naming the old pid and why: by renaming our file over it, after taking a marker named after that
 *   lock file's inode, which only one daemon can create, and after looking again that the lock is still the
 *   same file and still stale. So a daemon that judged a lock stale cannot replace a lock another one has just
 *   taken over;
 * - afterwards the lock is read back: it must be our file.
 */
export function acquireLock(dataDir: string, logger?: Pick<Logger, 'warn'>): InstanceLock {
  const path = join(dataDir, LOCK_FILE);
  const ours = join(dataDir, `${LOCK_FILE}.${process.pid}.${randomBytes(6).toString('hex')}`);
  writeFileSync(ours, `${process.pid}\n`, { flag: 'wx', mode: 0o644 });
  try {
    const own = inspect(ours)!;
    for (let attempt = 0; attempt < MAX_TRIES; attempt++) {
      if (attempt > 0) pause(PAUSE_MS);
      if (linked(ours, path) && isOurs(path, own)) return held(path, own, dataDir);
      const found = inspect(path);
      // Released meanwhile: try again.
      if (!found) continue;
      if (found.dev === own.dev && found.ino === own.ino) return held(path, own, dataDir);
      const stale = staleReason(found.pid, found.uid);
      if (stale === undefined) throw locked(found.pid, dataDir);
      if (takeOver(path, found, ours) && isOurs(path, own)) {
        logger?.warn(`taking over the stale lock ${path}: ${stale.reason}`, { stale_pid: stale.pid ?? null });
        return held(path, own, dataDir);
      }
    }
  } finally {
    rmSync(ours, { force: true });
  }
  throw new DaemonError(
    'DAEMON_LOCKED',
    `could not take the lock ${path}; remove it if no daemon is running`,
  );
}

function locked(pid: number | undefined, dataDir: string): DaemonError {
  return new DaemonError(
    'DAEMON_LOCKED',
    `another nerves-hub-link (pid ${pid}) is running with data_dir ${dataDir}; stop it first, or give this one its own data_dir`,
  );
}

/** Creates `path` as another name of `file`; false when `path` exists. */
function linked(file: string, path: string): boolean {
  try {
    linkSync(file, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/**
 * Replaces the stale lock `found` with our file. Only the daemon that creates the marker of `found`'s inode may
 * do it; it looks again that the lock is that file and stale before the rename. False when another daemon is at
 * it, or the lock changed: the caller looks again.
 */
function takeOver(path: string, found: Holder, ours: string): boolean {
  const marker = `${path}.takeover-${found.dev}-${found.ino}`;
  if (!linked(ours, marker)) {
    clearAbandonedMarker(marker);
    return false;
  }
  try {
    const again = inspect(path);
    if (!again || again.dev !== found.dev || again.ino !== found.ino) return false;
    if (staleReason(again.pid, again.uid) === undefined) return false;
    renameSync(ours, path);
    return true;
  } finally {
    rmSync(marker, { force: true });
  }
}

/**
 * A marker whose daemon died in the middle of a take-over would block every later one: it is moved aside under
 * a name of our own, and put back if what was moved turns out to be a live daemon's marker. (Only a daemon
 * dying within those few system calls, and three more starting at that very moment, could still make two.)
 */
function clearAbandonedMarker(marker: string): void {
  const found = inspect(marker);
  if (!found || staleReason(found.pid, found.uid) === undefined) return;
  const aside = `${marker}.${process.pid}.${randomBytes(6).toString('hex')}`;
  try {
    renameSync(marker, aside);
  } catch {
    return;
  }
  const moved = inspect(aside);
  if (moved && (moved.dev !== found.dev || moved.ino !== found.ino)) {
    try {
      linkSync(aside, marker);
    } catch {
      // A newer marker is there already.
    }
  }
  rmSync(aside, { force: true });
}

function held(path: string, own: Holder, dataDir: string): InstanceLock {
  removeLeftovers(dataDir);
  let released = false;
  return {
    path,
    release() {
      if (released) return;
      released = true;
      // Never remove a lock that is no longer ours.
      if (isOurs(path, own)) rmSync(path, { force: true });
    },
  };
}

/** The lock at `path` is our file and names our pid: the check after every change. */
function isOurs(path: string, own: Holder): boolean {
  const found = inspect(path);
  return found !== undefined && found.dev === own.dev && found.ino === own.ino && found.pid === process.pid;
}

/** Files of daemons that died while taking the lock (`nerves-hub-link.lock.<pid>.<random>`). */
function removeLeftovers(dataDir: string): void {
  let names: string[];
  try {
    names = readdirSync(dataDir);
  } catch {
    return;
  }
  for (const name of names) {
    const match = /^nerves-hub-link\.lock\.(\d+)\.[0-9a-f]{12}$/.exec(name);
    if (!match) continue;
    const pid = Number(match[1]);
    if (pid !== process.pid && !isAlive(pid)) rmSync(join(dataDir, name), { force: true });
  }
}

/** The file at `path` and the pid in it (both of one open file), or undefined when there is none. */
function inspect(path: string): Holder | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const stat = fstatSync(fd, { bigint: true });
    return { dev: stat.dev, ino: stat.ino, uid: Number(stat.uid), pid: pidOf(readFileSync(fd, 'utf8')) };
  } finally {
    closeSync(fd);
  }
}

/** A short synchronous pause: the lock is taken before anything else runs. */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
