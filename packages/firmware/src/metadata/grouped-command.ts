/**
 * The daemon's reboot and identify commands still run through this adapter over `runProcessGroup`
 * (@nerves-hub-link/process-group), which stops the whole group at a timeout, a cancel or too much output. They
 * are to call the runner themselves; then this file goes.
 */
import {
  type ProcessGroupErrorCode,
  ProcessGroupError as RunnerError,
  runProcessGroup,
} from '@nerves-hub-link/process-group';
import { describeCommandFailure } from './command-failure.js';

/** @deprecated Match the `code` of `runProcessGroup`'s ProcessGroupError instead. */
export class CommandError extends Error {
  override readonly name = 'CommandError';
  readonly code: ProcessGroupErrorCode;

  constructor(code: ProcessGroupErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export interface GroupedCommandOptions {
  readonly timeoutMs: number;
  /** stdout beyond this fails the command (and stops it). @default 1 MiB */
  readonly maxOutputBytes?: number;
  /** @default 2000 */
  readonly killGraceMs?: number;
  readonly env?: NodeJS.ProcessEnv;
  readonly signal?: AbortSignal;
}

export interface GroupedCommandResult {
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * @deprecated Use `runProcessGroup` from @nerves-hub-link/process-group.
 * Resolves with the output of a command that exited with status 0; rejects with a CommandError whose message
 * says why otherwise ("program not found", "timed out after 10 s", "exited with status 4: <last stderr line>").
 */
export async function runGroupedCommand(
  argv: readonly string[],
  options: GroupedCommandOptions,
): Promise<GroupedCommandResult> {
  try {
    const { stdout, stderr } = await runProcessGroup(argv, {
      timeoutMs: options.timeoutMs,
      maxOutputBytes: options.maxOutputBytes ?? 1024 * 1024,
      failOnExcessOutput: true,
      ...(options.killGraceMs !== undefined ? { killGraceMs: options.killGraceMs } : {}),
      ...(options.env ? { env: options.env } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return { stdout: stdout.text, stderr: stderr.text };
  } catch (error) {
    const code = error instanceof RunnerError ? error.code : 'PROC_START_FAILED';
    throw new CommandError(code, describeCommandFailure(error), { cause: error });
  }
}
