/** Every way a command run fails, as an error with a stable `code`. Match `err.code`, not the message. */
import type { ProcessGroupResult } from './result.js';

export const PROCESS_GROUP_ERROR_CODES = [
  /** A caller's argument is out of range (a programming error, never a config value: those are checked first). */
  'PROC_INVALID_ARGUMENT',
  /** The program does not exist (ENOENT): say "not found" and how to install it. */
  'PROC_NOT_FOUND',
  /** The program exists but could not be started (not executable, out of processes). */
  'PROC_START_FAILED',
  /** It exited with a status other than 0. */
  'PROC_EXIT_STATUS',
  /** A signal this package did not send killed it. */
  'PROC_SIGNALLED',
  /** It ran past `timeoutMs` and its group was stopped. */
  'PROC_TIMED_OUT',
  /** The `signal` was aborted and its group was stopped (or it never started). */
  'PROC_ABORTED',
  /** Its stdout passed `maxOutputBytes` with `failOnExcessOutput` and its group was stopped. */
  'PROC_OUTPUT_LIMIT',
] as const;

export type ProcessGroupErrorCode = (typeof PROCESS_GROUP_ERROR_CODES)[number];

export class ProcessGroupError extends Error {
  override readonly name = 'ProcessGroupError';
  readonly code: ProcessGroupErrorCode;
  /** How the command ended; undefined when it never ran (invalid argument, not found, could not start). */
  readonly result: ProcessGroupResult | undefined;

  constructor(
    code: ProcessGroupErrorCode,
    message: string,
    options: { readonly result?: ProcessGroupResult; readonly cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.result = options.result;
  }
}

/**
 * The error a result stands for, or undefined for a success (exit status 0). Messages hold only what this package
 * decided ("timed out after 10 s"), never the program's output: callers show that escaped, from `result.stderr`.
 */
export function failureOf(
  result: ProcessGroupResult,
  limits: { readonly timeoutMs: number; readonly maxOutputBytes: number; readonly abortReason: unknown },
): ProcessGroupError | undefined {
  switch (result.ending) {
    case 'exited':
      return result.exitCode === 0
        ? undefined
        : new ProcessGroupError('PROC_EXIT_STATUS', `exited with status ${result.exitCode}`, { result });
    case 'signalled':
      return new ProcessGroupError('PROC_SIGNALLED', `was killed by ${result.signal}`, { result });
    case 'timed-out':
      return new ProcessGroupError('PROC_TIMED_OUT', `timed out after ${formatSeconds(limits.timeoutMs)}`, {
        result,
      });
    case 'aborted':
      return new ProcessGroupError('PROC_ABORTED', 'cancelled', { result, cause: limits.abortReason });
    case 'output-limit':
      return new ProcessGroupError('PROC_OUTPUT_LIMIT', `printed more than ${limits.maxOutputBytes} bytes`, {
        result,
      });
  }
}

/** "10 s", "0.3 s": how durations are named in messages. */
export function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}
