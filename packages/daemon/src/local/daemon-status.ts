import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { formatDuration } from '../config/values/duration.js';
import { LOCK_FILE } from './lock.js';
import { staleReason } from './lock-holder.js';
import {
  type DaemonState,
  readStateFile,
  STATE_FILE,
  STATE_HEARTBEAT_MS,
  STATE_STALE_AFTER_MS,
} from './state-file.js';

/** Exit codes of `nerves-hub-link status`, for health checks (LSB's 3 and 4 for "not running" and "unknown"). */
export const STATUS_EXIT = {
  /** The daemon runs and its device channel is joined. */
  connected: 0,
  /**
   * A nerves-hub-link holds the lock but does not move: stopped (SIGSTOP) or stuck, its status file unchanged
   * for STATE_STALE_AFTER_MS (LSB's "dead, and the pid file exists").
   */
  notResponding: 1,
  /** The daemon runs but is not connected (starting, connecting, or the connection is down). */
  notConnected: 2,
  /** No live nerves-hub-link holds the lock in data_dir. */
  notRunning: 3,
  /** The lock or the status file cannot be read (permissions, a damaged file). */
  unknown: 4,
} as const;

export interface DaemonStatus {
  readonly running: boolean;
  /** The pid holding the lock, when a live daemon holds it. */
  readonly pid: number | null;
  /** False for a daemon that holds the lock but does not move (stopped, or stuck). */
  readonly responding: boolean;
  readonly connected: boolean;
  /** The status file; from an earlier run when `current` is false. */
  readonly state: DaemonState | null;
  /** The file was written by the daemon running now. */
  readonly current: boolean;
  /** Why the answer is less than complete, in words for the operator. */
  readonly note: string | null;
  readonly exitCode: number;
}

/**
 * Whether a daemon runs in `dataDir`, and what its status file says; `now` tells how old the file is. Reads
 * only; never takes the lock.
 */
export function readDaemonStatus(dataDir: string, now: number = Date.now()): DaemonStatus {
  const holder = lockHolder(dataDir);
  const file = readStateFile(dataDir);
  const state = file.kind === 'ok' ? file.state : null;
  if (holder.kind === 'unreadable') {
    return result(false, null, state, false, holder.reason, STATUS_EXIT.unknown);
  }
  if (holder.kind === 'none') {
    return result(
      false,
      null,
      state,
      false,
      'no nerves-hub-link is running with this data_dir',
      STATUS_EXIT.notRunning,
    );
  }
  const { pid } = holder;
  if (file.kind === 'unreadable') return result(true, pid, null, false, file.reason, STATUS_EXIT.unknown);
  if (!state || state.pid !== pid) {
    return result(
      true,
      pid,
      state,
      false,
      'the daemon is starting: no status from it yet',
      STATUS_EXIT.notConnected,
    );
  }
  const stuck = notMoving(pid, join(dataDir, STATE_FILE), now);
  if (stuck !== undefined) {
    return { ...result(true, pid, state, true, stuck, STATUS_EXIT.notResponding), responding: false };
  }
  const connected = state.connection.state === 'joined';
  return {
    running: true,
    pid,
    responding: true,
    connected,
    state,
    current: true,
    note: null,
    exitCode: connected ? STATUS_EXIT.connected : STATUS_EXIT.notConnected,
  };
}

function result(
  running: boolean,
  pid: number | null,
  state: DaemonState | null,
  current: boolean,
  note: string,
  exitCode: number,
): DaemonStatus {
  return { running, pid, responding: running, connected: false, state, current, note, exitCode };
}

/**
 * Why the daemon `pid` is not moving, or undefined while it is: stopped by a signal (its state in
 * /proc/PID/stat), or its status file older than STATE_STALE_AFTER_MS (a file from the future, after the clock
 * was set back, counts as fresh).
 */
function notMoving(pid: number, stateFile: string, now: number): string | undefined {
  try {
    // "pid (comm) S …": the state follows the last ")", as comm may hold one.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const processState = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (processState === 'T' || processState === 't') {
      return `it is stopped (SIGSTOP or a debugger) and does nothing until it gets SIGCONT`;
    }
  } catch {
    // No procfs: the file's age alone tells.
  }
  let modified: number;
  try {
    modified = statSync(stateFile).mtimeMs;
  } catch {
    return undefined;
  }
  const silentMs = now - modified;
  if (silentMs <= STATE_STALE_AFTER_MS) return undefined;
  return `its status file has not moved for ${formatDuration(silentMs)} (it moves every ${formatDuration(STATE_HEARTBEAT_MS)}): the daemon is stuck or stopped`;
}

type Holder =
  | { readonly kind: 'live'; readonly pid: number }
  | { readonly kind: 'none' }
  | { readonly kind: 'unreadable'; readonly reason: string };

/** The live nerves-hub-link holding the lock: the same test the daemon uses before it takes a lock over. */
function lockHolder(dataDir: string): Holder {
  const path = join(dataDir, LOCK_FILE);
  let text: string;
  let owner: number;
  try {
    text = readFileSync(path, 'utf8');
    owner = statSync(path).uid;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { kind: 'none' };
    return {
      kind: 'unreadable',
      reason: `cannot read the lock ${path} (${code}); run status as the daemon's user`,
    };
  }
  const pid = Number.parseInt(text.trim(), 10);
  if (!Number.isInteger(pid) || pid <= 0) return { kind: 'none' };
  return staleReason(pid, owner) === undefined ? { kind: 'live', pid } : { kind: 'none' };
}
