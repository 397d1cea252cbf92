/** Runs fwup once with framed output and collects what it said. */
import { spawn } from 'node:child_process';
import { KILL_GRACE_MS } from '@nerves-hub-link/process-group';
import { FirmwareError } from '../errors.js';
import { type FwupFrame, FwupFrameParser } from './frame-parser.js';

export interface FwupRunOptions {
  readonly fwupPath: string;
  readonly args: readonly string[];
  /** fwup's whole environment. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  readonly onFrame?: (frame: FwupFrame) => void;
  /** Reported (not killed) when fwup prints nothing for this long. */
  readonly hangTimeoutMs?: number;
  readonly onHang?: (silentForMs: number) => void;
  /**
   * Aborting it stops fwup's process group (SIGTERM, then SIGKILL after KILL_GRACE_MS). Only for runs that write
   * nothing (`-V`): an apply is never given one.
   */
  readonly signal?: AbortSignal;
}

export interface FwupRunResult {
  /** `signal` was aborted and fwup was stopped (or never started). */
  readonly aborted: boolean;
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly ok: FwupFrame | undefined;
  readonly error: string | undefined;
  readonly warnings: readonly string[];
  readonly stderr: string;
  readonly unframed: string;
}

/**
 * Spawns fwup in a process group of its own, with stdin ignored and stdout/stderr drained to the end (a full pipe
 * would block fwup mid-write). Signals it only when `signal` is aborted: fwup has no signal handlers and a killed
 * apply leaves a half-written target, so an apply never passes one.
 */
export function runFwup(options: FwupRunOptions): Promise<FwupRunResult> {
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      resolve({
        aborted: true,
        exitCode: null,
        signal: null,
        ok: undefined,
        error: undefined,
        warnings: [],
        stderr: '',
        unframed: '',
      });
      return;
    }
    const child = spawn(options.fwupPath, [...options.args], {
      // Its own group: a stop signals fwup and whatever it started, and a Ctrl-C on the terminal reaches
      // only the daemon, which decides (an apply is waited for).
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.env ? { env: options.env } : {}),
    });
    let aborted = false;
    let killTimer: NodeJS.Timeout | undefined;
    const signalGroup = (name: NodeJS.Signals) => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, name);
      } catch {
        // Already gone.
      }
    };
    const onAbort = () => {
      aborted = true;
      signalGroup('SIGTERM');
      killTimer = setTimeout(() => signalGroup('SIGKILL'), KILL_GRACE_MS);
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const settled = () => {
      clearInterval(hangTimer);
      clearTimeout(killTimer);
      options.signal?.removeEventListener('abort', onAbort);
    };
    const parser = new FwupFrameParser();
    const warnings: string[] = [];
    let ok: FwupFrame | undefined;
    let error: string | undefined;
    let stderr = '';
    let lastOutput = Date.now();
    const hangTimer =
      options.hangTimeoutMs !== undefined
        ? setInterval(
            () => {
              const silent = Date.now() - lastOutput;
              if (silent >= options.hangTimeoutMs!) options.onHang?.(silent);
            },
            Math.max(50, Math.min(options.hangTimeoutMs, 60_000)),
          )
        : undefined;
    child.stdout.on('data', (chunk: Buffer) => {
      lastOutput = Date.now();
      for (const frame of parser.push(chunk)) {
        if (frame.type === 'OK') ok = frame;
        else if (frame.type === 'ER') error = frame.message;
        else if (frame.type === 'WN') warnings.push(frame.message);
        options.onFrame?.(frame);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      lastOutput = Date.now();
      stderr = (stderr + text).slice(-4096);
    });
    child.on('error', (cause: NodeJS.ErrnoException) => {
      settled();
      reject(
        new FirmwareError(
          'FW_FWUP_NOT_FOUND',
          cause.code === 'ENOENT'
            ? `fwup not found at "${options.fwupPath}": install fwup or set fwup.path`
            : `fwup at "${options.fwupPath}" cannot be started: ${cause.message}`,
          { cause },
        ),
      );
    });
    child.on('close', (exitCode, signal) => {
      settled();
      resolve({ aborted, exitCode, signal, ok, error, warnings, stderr, unframed: parser.unframedText });
    });
  });
}

/** The reason of a failed run, in fwup's own words where it gave any. */
export function failureText(result: FwupRunResult): string {
  if (result.error) return result.error;
  if (result.signal) return `fwup was killed by ${result.signal}`;
  const detail = [...result.warnings, result.unframed.trim(), result.stderr.trim()]
    .filter(Boolean)
    .join('; ');
  return `fwup exited with status ${result.exitCode}${detail ? `: ${detail.slice(0, 300)}` : ''}`;
}
