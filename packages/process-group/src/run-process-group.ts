/**
 * Runs a command (no shell) in a process group of its own, so that a timeout, a cancel or too much output stops
 * everything it started (a shell script's children included), not only its first process: SIGTERM to the group,
 * then SIGKILL once a grace is over. The run ends only when no process of the group is left running, so nothing
 * it started piles up from one run to the next.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { DRAIN_MS } from './constants.js';
import { failureOf, ProcessGroupError } from './errors.js';
import { countRunningMembers } from './group-members.js';
import { type RunProcessGroupOptions, type RunSettings, readOptions } from './options.js';
import { OutputCapture } from './output-capture.js';
import type { ProcessGroupEnding, ProcessGroupResult } from './result.js';
import { stopGroup } from './stop-group.js';

/** Why this package stopped a group. */
type StopReason = Extract<ProcessGroupEnding, 'timed-out' | 'aborted' | 'output-limit'>;

/**
 * Resolves with the result of a command that exited with status 0. Otherwise rejects with a ProcessGroupError
 * (`PROC_EXIT_STATUS`, `PROC_TIMED_OUT`, `PROC_NOT_FOUND`, …) whose `result` says how it ended, or, with
 * `reject: false`, resolves with that result whenever the command started.
 * @example await runProcessGroup(['fw_printenv'], { timeoutMs: 10_000 }) // { ending: 'exited', exitCode: 0, stdout: { text: 'a.nerves_fw_uuid=…' }, … }
 */
export async function runProcessGroup(
  command: readonly string[],
  options: RunProcessGroupOptions,
): Promise<ProcessGroupResult> {
  const settings = readOptions(command, options);
  const result = await run(settings);
  const failure = failureOf(result, { ...settings, abortReason: settings.signal?.reason });
  if (failure && settings.reject) throw failure;
  return result;
}

async function run(settings: RunSettings): Promise<ProcessGroupResult> {
  const startedAt = performance.now();
  if (settings.signal?.aborted) return notRun('aborted');
  const child = start(settings);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  await started(child);
  // detached: the child leads a new process group, whose id is its pid and which a negative pid addresses.
  const pgid = child.pid!;

  const stdout = new OutputCapture(settings.maxOutputBytes);
  const stderr = new OutputCapture(settings.maxOutputBytes);
  let ending: StopReason | undefined;
  let running = true;
  let stopping: Promise<number> | undefined;
  const stop = (why: StopReason) => {
    // Once the command's own process has exited it has ended on its own; only too much output still fails it.
    if (running || why === 'output-limit') ending ??= why;
    stopping ??= stopGroup(pgid, settings.killGraceMs);
  };
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout.add(chunk);
    if (settings.failOnExcessOutput && stdout.truncated) stop('output-limit');
  });
  child.stderr!.on('data', (chunk: Buffer) => stderr.add(chunk));
  if (child.stdin) {
    // A command that does not read its stdin may close it early: that is its right, not an error.
    child.stdin.on('error', () => {});
    child.stdin.end(settings.input);
  }
  const timer = setTimeout(() => stop('timed-out'), settings.timeoutMs);
  const onAbort = () => stop('aborted');
  settings.signal?.addEventListener('abort', onAbort, { once: true });
  if (settings.signal?.aborted) onAbort(); // while it was starting

  try {
    const exit = await exited;
    running = false;
    clearTimeout(timer);
    await settleWithin(closed, DRAIN_MS);
    let strayProcesses = 0;
    if (!stopping) {
      strayProcesses = countRunningMembers(pgid);
      if (strayProcesses > 0) stopping = stopGroup(pgid, settings.killGraceMs);
    }
    const leftRunning = (await stopping) ?? 0;
    await settleWithin(closed, DRAIN_MS);
    return {
      ending: ending ?? (exit.code !== null ? 'exited' : 'signalled'),
      exitCode: exit.code,
      signal: exit.signal,
      stdout: stdout.result(),
      stderr: stderr.result(),
      durationMs: Math.round(performance.now() - startedAt),
      strayProcesses,
      leftRunning,
    };
  } finally {
    clearTimeout(timer);
    settings.signal?.removeEventListener('abort', onAbort);
    // A process stuck in the kernel may still hold the pipes: they are not waited for.
    child.stdout?.destroy();
    child.stderr?.destroy();
    child.stdin?.destroy();
  }
}

function start(settings: RunSettings): ChildProcess {
  try {
    return spawn(settings.file, settings.args, {
      detached: true,
      stdio: [settings.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      ...(settings.env ? { env: settings.env } : {}),
    });
  } catch (error) {
    // spawn throws at once only for arguments it refuses (a NUL byte in the environment, say).
    throw new ProcessGroupError(
      String((error as NodeJS.ErrnoException).code).startsWith('ERR_INVALID_ARG')
        ? 'PROC_INVALID_ARGUMENT'
        : 'PROC_START_FAILED',
      `could not start: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/** Resolves once the process runs; rejects with PROC_NOT_FOUND or PROC_START_FAILED when it cannot. */
function started(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    const onSpawn = () => {
      child.off('error', onError);
      // Later errors (a failed kill of a process that is gone) change nothing: the run ends on 'exit'.
      child.on('error', () => {});
      resolve();
    };
    const onError = (error: NodeJS.ErrnoException) => {
      child.off('spawn', onSpawn);
      reject(
        error.code === 'ENOENT'
          ? new ProcessGroupError('PROC_NOT_FOUND', 'program not found', { cause: error })
          : new ProcessGroupError('PROC_START_FAILED', `could not start: ${error.message}`, { cause: error }),
      );
    };
    child.once('spawn', onSpawn);
    child.once('error', onError);
  });
}

/** The result of a command that was cancelled before it started. */
function notRun(ending: 'aborted'): ProcessGroupResult {
  const nothing = { text: '', totalBytes: 0, truncated: false };
  return {
    ending,
    exitCode: null,
    signal: null,
    stdout: nothing,
    stderr: nothing,
    durationMs: 0,
    strayProcesses: 0,
    leftRunning: 0,
  };
}

async function settleWithin(promise: Promise<void>, ms: number): Promise<void> {
  const cancel = new AbortController();
  try {
    await Promise.race([promise, sleep(ms, undefined, { signal: cancel.signal })]);
  } finally {
    cancel.abort();
  }
}
