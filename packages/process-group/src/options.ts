/** The options of a command run, their defaults, and their checks at the edge. */
import { DEFAULT_MAX_OUTPUT_BYTES, KILL_GRACE_MS, MAX_TIMER_MS } from './constants.js';
import { ProcessGroupError } from './errors.js';

export interface RunProcessGroupOptions {
  /** After this long the command, with every process it started, is stopped (`PROC_TIMED_OUT`). */
  readonly timeoutMs: number;
  /** After SIGTERM, how long the group has to end before SIGKILL. @default 2000 (KILL_GRACE_MS) */
  readonly killGraceMs?: number;
  /**
   * Aborting it stops the command like a timeout (`PROC_ABORTED`). One signal may serve every command a program
   * runs, so that stopping the program stops them all at once.
   */
  readonly signal?: AbortSignal;
  /** The command's whole environment. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** Written to the command's stdin, which is then closed. Without it stdin is /dev/null. */
  readonly input?: string | Uint8Array;
  /**
   * Bytes kept of each of stdout and stderr: the end of the stream, where a result or an error usually is
   * (`CapturedOutput.totalBytes` tells how much there was). @default 1048576 (1 MiB)
   */
  readonly maxOutputBytes?: number;
  /**
   * Stdout beyond `maxOutputBytes` stops the command (`PROC_OUTPUT_LIMIT`) instead of keeping only its end: for a
   * command whose whole output is its result. @default false
   */
  readonly failOnExcessOutput?: boolean;
  /**
   * `false`: resolve with the result however a command that started ended (non-zero status, signal, timeout,
   * abort, output limit) and reject only when it could not start. @default true
   */
  readonly reject?: boolean;
}

export interface RunSettings {
  readonly file: string;
  readonly args: readonly string[];
  readonly timeoutMs: number;
  readonly killGraceMs: number;
  readonly signal: AbortSignal | undefined;
  readonly env: NodeJS.ProcessEnv | undefined;
  readonly input: string | Uint8Array | undefined;
  readonly maxOutputBytes: number;
  readonly failOnExcessOutput: boolean;
  readonly reject: boolean;
}

/**
 * The options with their defaults, checked. These are the calling code's own arguments, never configuration
 * values (a config reader has checked and echoed those already), so a message says what was expected only.
 */
export function readOptions(command: readonly string[], options: RunProcessGroupOptions): RunSettings {
  if (
    !Array.isArray(command) ||
    command.length === 0 ||
    command.some((part) => typeof part !== 'string' || part.includes('\0')) ||
    command[0] === ''
  ) {
    throw invalid('command', 'a non-empty array of strings without NUL bytes, the program first');
  }
  const [file, ...args] = command as [string, ...string[]];
  const killGraceMs = options.killGraceMs ?? KILL_GRACE_MS;
  const maxOutputBytes = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  checkWholeNumber('timeoutMs', options.timeoutMs, 1, MAX_TIMER_MS);
  checkWholeNumber('killGraceMs', killGraceMs, 0, MAX_TIMER_MS);
  checkWholeNumber('maxOutputBytes', maxOutputBytes, 1, Number.MAX_SAFE_INTEGER);
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    throw invalid('signal', 'an AbortSignal');
  }
  return {
    file,
    args,
    timeoutMs: options.timeoutMs,
    killGraceMs,
    signal: options.signal,
    env: options.env,
    input: options.input,
    maxOutputBytes,
    failOnExcessOutput: options.failOnExcessOutput ?? false,
    reject: options.reject ?? true,
  };
}

function checkWholeNumber(name: string, value: unknown, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(name, `a whole number from ${min} to ${max}`);
  }
}

function invalid(name: string, expected: string): ProcessGroupError {
  return new ProcessGroupError('PROC_INVALID_ARGUMENT', `${name}: expected ${expected}`);
}
