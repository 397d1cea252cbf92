import { CommandError, runGroupedCommand } from '@nerves-hub-link/firmware';
import { shown } from '@nerves-hub-link/message-text';
import { DaemonError } from '../errors/daemon-errors.js';

export interface CommandResult {
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a configured command (reboot, identify) without a shell, in a process group of its own. On a timeout the
 * whole group is stopped (SIGTERM, then SIGKILL after a grace), so what a script started ends with it; the error
 * then says "timed out after N s". The program and its arguments are the config's own words, so a failure
 * message names them as written.
 */
export async function runConfiguredCommand(
  argv: readonly string[],
  options: { timeoutMs: number; signal?: AbortSignal; env?: NodeJS.ProcessEnv; killGraceMs?: number },
): Promise<CommandResult> {
  if (argv.length === 0) throw new DaemonError('DAEMON_COMMAND_FAILED', 'empty command');
  try {
    return await runGroupedCommand(argv, {
      timeoutMs: options.timeoutMs,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.env ? { env: options.env } : {}),
      ...(options.killGraceMs !== undefined ? { killGraceMs: options.killGraceMs } : {}),
    });
  } catch (error) {
    // The message may end with the program's stderr: escaped and bounded like anything a program prints.
    const why = error instanceof CommandError ? error.message : String(error);
    throw new DaemonError(
      'DAEMON_COMMAND_FAILED',
      `command "${shown(argv.join(' '))}" failed: ${shown(why)}`,
      {
        cause: error,
      },
    );
  }
}
