/**
 * Runs a command (no shell) in a process group of its own. On a timeout, a cancel or too much output the whole
 * group is stopped: SIGTERM, then SIGKILL once a grace is over, so a script's children end with it instead of
 * piling up at every poll. The metadata reader uses it, and so do the daemon's reboot and identify commands.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** How long a stopped group has to exit after SIGTERM before it gets SIGKILL. */
export const KILL_GRACE_MS = 2_000;

/** Why a command failed; `message` of the error says the same in words. */
export type CommandFailure =
  | { readonly kind: 'not-found' }
  | { readonly kind: 'start-failed' }
  | { readonly kind: 'timed-out'; readonly timeoutMs: number }
  | { readonly kind: 'aborted' }
  | { readonly kind: 'too-much-output'; readonly maxOutputBytes: number }
  | {
      readonly kind: 'exited';
      readonly exitCode: number | null;
      readonly signal: NodeJS.Signals | null;
      /** The last line of stderr, as printed (not escaped). */
      readonly stderrTail: string;
    };

export class CommandError extends Error {
  override readonly name = 'CommandError';
  readonly failure: CommandFailure;

  constructor(failure: CommandFailure, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.failure = failure;
  }
}

export interface GroupedCommandOptions {
  readonly timeoutMs: number;
  /** stdout beyond this fails the command (and stops it). @default 1 MiB */
  readonly maxOutputBytes?: number;
  /** @default KILL_GRACE_MS */
  readonly killGraceMs?: number;
  readonly env?: NodeJS.ProcessEnv;
  readonly signal?: AbortSignal;
}

export interface GroupedCommandResult {
  readonly stdout: string;
  readonly stderr: string;
}

/** "10 s", "0.5 s": how durations are named in messages. */
export function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}

/**
 * Resolves with the output of a command that exited with status 0; rejects with a CommandError otherwise.
 * A command that was stopped is reported only once no process of its group is left.
 */
export function runGroupedCommand(
  argv: readonly string[],
  options: GroupedCommandOptions,
): Promise<GroupedCommandResult> {
  const [file, ...args] = argv;
  if (!file) return Promise.reject(new CommandError({ kind: 'not-found' }, 'empty command'));
  const maxOutputBytes = options.maxOutputBytes ?? 1024 * 1024;
  return new Promise((resolve, reject) => {
    // detached: the child leads a new process group, which a negative pid addresses as a whole.
    const child = spawn(file, args, {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.env ? { env: options.env } : {}),
    });
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let stderr = '';
    let failure: CommandError | undefined;
    let stopping: Promise<void> | undefined;
    const stop = (error: CommandError) => {
      failure ??= error;
      stopping ??= stopGroup(child.pid, options.killGraceMs ?? KILL_GRACE_MS);
    };
    const timer = setTimeout(
      () =>
        stop(
          new CommandError(
            { kind: 'timed-out', timeoutMs: options.timeoutMs },
            `timed out after ${formatSeconds(options.timeoutMs)}`,
          ),
        ),
      options.timeoutMs,
    );
    const onAbort = () => stop(new CommandError({ kind: 'aborted' }, 'cancelled'));
    if (options.signal?.aborted) onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });

    child.stdout.on('data', (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      if (stdoutBytes <= maxOutputBytes) stdout.push(chunk);
      else {
        stop(
          new CommandError(
            { kind: 'too-much-output', maxOutputBytes },
            `printed more than ${maxOutputBytes} bytes`,
          ),
        );
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-8192);
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      failure ??=
        error.code === 'ENOENT'
          ? new CommandError({ kind: 'not-found' }, 'program not found', { cause: error })
          : new CommandError({ kind: 'start-failed' }, `could not start: ${error.message}`, { cause: error });
    });
    child.on('close', (exitCode, signal) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      void Promise.resolve(stopping).then(() => {
        if (failure) return reject(failure);
        if (exitCode === 0) return resolve({ stdout: Buffer.concat(stdout).toString('utf8'), stderr });
        const stderrTail = stderr.trim().split('\n').at(-1) ?? '';
        const how = exitCode !== null ? `exited with status ${exitCode}` : `was killed by ${signal}`;
        reject(
          new CommandError(
            { kind: 'exited', exitCode, signal, stderrTail },
            `${how}${stderrTail ? `: ${stderrTail}` : ''}`,
          ),
        );
      });
    });
  });
}

/** SIGTERM to the group, then SIGKILL once the grace is over if any of it is still running. */
async function stopGroup(pid: number | undefined, graceMs: number): Promise<void> {
  if (pid === undefined) return;
  signalGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (groupRunning(pid)) {
    if (Date.now() >= deadline) {
      signalGroup(pid, 'SIGKILL');
      return;
    }
    await sleep(50);
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether a process of the group is still running. A zombie counts as gone: where PID 1 does not reap orphans
 * (many containers) they would otherwise keep the group alive for ever. Without /proc, any member counts.
 */
function groupRunning(pgid: number): boolean {
  if (!signalGroup(pgid, 0)) return false;
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return true;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    // pid (comm) state ppid pgrp …: comm may hold spaces and parentheses, so read after the last ')'.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (pgrp === String(pgid) && state !== 'Z' && state !== 'X') return true;
  }
  return false;
}
