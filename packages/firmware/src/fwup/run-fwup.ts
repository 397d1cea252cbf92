/** Runs fwup once with framed output and collects what it said. */
import { spawn } from 'node:child_process';
import { FirmwareError } from '../errors.js';
import { type FwupFrame, FwupFrameParser } from './frame-parser.js';

export interface FwupRunOptions {
  readonly fwupPath: string;
  readonly args: readonly string[];
  /** Added to this process's environment for the fwup process. */
  readonly env?: Readonly<Record<string, string>>;
  readonly onFrame?: (frame: FwupFrame) => void;
  /** Reported (not killed) when fwup prints nothing for this long. */
  readonly hangTimeoutMs?: number;
  readonly onHang?: (silentForMs: number) => void;
}

export interface FwupRunResult {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly ok: FwupFrame | undefined;
  readonly error: string | undefined;
  readonly warnings: readonly string[];
  readonly stderr: string;
  readonly unframed: string;
}

/**
 * Spawns fwup with stdin ignored and stdout/stderr drained to the end (a full pipe would block fwup mid-write).
 * Never signals the process: fwup has no signal handlers and a killed apply leaves a half-written target.
 */
export function runFwup(options: FwupRunOptions): Promise<FwupRunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(options.fwupPath, [...options.args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.env ? { env: { ...process.env, ...options.env } } : {}),
    });
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
      clearInterval(hangTimer);
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
      clearInterval(hangTimer);
      resolve({ exitCode, signal, ok, error, warnings, stderr, unframed: parser.unframedText });
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
