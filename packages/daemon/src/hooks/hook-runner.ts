import { ProcessGroupError, type ProcessGroupResult, runProcessGroup } from '@nerves-hub-link/process-group';
import { childEnvironment } from '../link/child-environment.js';

/** The hooks an operator can configure in `[hooks]`. */
export type HookName =
  | 'update_available'
  | 'before_download'
  | 'before_apply'
  | 'after_apply'
  | 'on_error'
  | 'before_reboot';

export interface HookRequest {
  readonly name: HookName;
  /** Program and arguments, run without a shell (the config may name one, e.g. ["sh", "-c", "…"]). */
  readonly command: readonly string[];
  /** Added to the daemon's own environment, which children get without proxy credentials. */
  readonly env: Readonly<Record<string, string>>;
  /** Written to the hook's stdin as one JSON document, then stdin is closed. */
  readonly input: unknown;
  readonly timeoutMs: number;
  /** Aborting stops the hook and its whole process group (the daemon is stopping). */
  readonly signal?: AbortSignal;
}

interface Output {
  readonly stdout: string;
  readonly stderr: string;
  readonly durationMs: number;
}

export type HookOutcome =
  | ({ readonly kind: 'exited'; readonly code: number } & Output)
  | ({ readonly kind: 'signalled'; readonly signal: string } & Output)
  | ({ readonly kind: 'timed-out' } & Output)
  | ({ readonly kind: 'aborted' } & Output)
  | { readonly kind: 'not-started'; readonly message: string };

/** Bytes kept of each output stream, from its end: a decision is on the last line, an error usually near the end. */
export const HOOK_OUTPUT_LIMIT = 64 * 1024;

/**
 * Runs one hook in a process group of its own (@nerves-hub-link/process-group), so a timeout or a stop ends
 * everything it started, a shell's children included: SIGTERM to the group, SIGKILL after the runner's grace, and
 * the outcome only once nothing of the group runs. Never throws: every way a hook can end is an outcome.
 */
export async function runHook(request: HookRequest): Promise<HookOutcome> {
  if (request.command.length === 0) return { kind: 'not-started', message: 'empty command' };
  let result: ProcessGroupResult;
  try {
    result = await runProcessGroup(request.command, {
      timeoutMs: request.timeoutMs,
      input: `${JSON.stringify(request.input)}\n`,
      env: { ...childEnvironment(process.env), ...withoutNul(request.env) },
      maxOutputBytes: HOOK_OUTPUT_LIMIT,
      reject: false,
      ...(request.signal ? { signal: request.signal } : {}),
    });
  } catch (error) {
    return { kind: 'not-started', message: notStartedMessage(error, request.command[0]!) };
  }
  const output = {
    stdout: result.stdout.text,
    stderr: result.stderr.text,
    durationMs: result.durationMs,
  };
  switch (result.ending) {
    case 'exited':
      return { kind: 'exited', code: result.exitCode ?? -1, ...output };
    case 'signalled':
      return { kind: 'signalled', signal: result.signal ?? 'an unknown signal', ...output };
    case 'timed-out':
      return { kind: 'timed-out', ...output };
    case 'aborted':
      return { kind: 'aborted', ...output };
    case 'output-limit':
      // Only with failOnExcessOutput, which a hook never gets: it keeps the end of its output instead.
      return { kind: 'exited', code: result.exitCode ?? -1, ...output };
  }
}

function notStartedMessage(error: unknown, program: string): string {
  if (error instanceof ProcessGroupError && error.code === 'PROC_NOT_FOUND') {
    return `program not found: ${program}`;
  }
  return (error as Error)?.message ?? String(error);
}

function withoutNul(env: Readonly<Record<string, string>>): Record<string, string> {
  // A NUL byte cannot be in an environment variable; spawn would refuse the whole environment.
  return Object.fromEntries(Object.entries(env).map(([key, value]) => [key, value.replaceAll('\0', '')]));
}

/** One line for logs and reasons: how the hook ended. */
export function describeOutcome(outcome: HookOutcome, timeoutMs: number): string {
  switch (outcome.kind) {
    case 'exited':
      return `exited with status ${outcome.code}`;
    case 'signalled':
      return `was killed by ${outcome.signal}`;
    case 'timed-out':
      return `timed out after ${timeoutMs} ms and was killed`;
    case 'aborted':
      return 'was stopped: the daemon is stopping';
    case 'not-started':
      return `could not start: ${outcome.message}`;
  }
}
