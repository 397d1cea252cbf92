import { shown, shownTail } from '@nerves-hub-link/message-text';
import { ProcessGroupError, runProcessGroup } from '@nerves-hub-link/process-group';
import { DaemonError } from '../errors/daemon-errors.js';
import { childEnvironment } from '../link/child-environment.js';

export interface CommandResult {
  readonly stdout: string;
  readonly stderr: string;
}

/** A command's whole output is its result: more than this is an error, not something to cut. */
const MAX_OUTPUT_BYTES = 1024 * 1024;
/** How much of the last line of a failed command's stderr its message shows. */
const STDERR_IN_MESSAGE_CHARS = 300;

/**
 * Runs a configured command (reboot, identify) without a shell, in a process group of its own
 * (@nerves-hub-link/process-group). On a timeout or when `signal` is aborted (the daemon stops) the whole group is
 * stopped (SIGTERM, then SIGKILL after a grace), so what a script started ends with it. It gets the daemon's
 * environment without proxy credentials. The program and its arguments are the config's own words, so a failure
 * message names them as written: `command "reboot" failed: timed out after 30 s`.
 */
export async function runConfiguredCommand(
  argv: readonly string[],
  options: { timeoutMs: number; signal?: AbortSignal; env?: NodeJS.ProcessEnv; killGraceMs?: number },
): Promise<CommandResult> {
  if (argv.length === 0) throw new DaemonError('DAEMON_COMMAND_FAILED', 'empty command');
  try {
    const { stdout, stderr } = await runProcessGroup(argv, {
      timeoutMs: options.timeoutMs,
      maxOutputBytes: MAX_OUTPUT_BYTES,
      failOnExcessOutput: true,
      env: childEnvironment(options.env ?? process.env),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.killGraceMs !== undefined ? { killGraceMs: options.killGraceMs } : {}),
    });
    return { stdout: stdout.text, stderr: stderr.text };
  } catch (error) {
    throw new DaemonError(
      'DAEMON_COMMAND_FAILED',
      `command "${shown(argv.join(' '))}" failed: ${describeFailure(error)}`,
      { cause: error },
    );
  }
}

/** Whether the command was stopped because the daemon is stopping (its `signal` was aborted). */
export function wasStopped(error: unknown): boolean {
  const cause = (error as { cause?: unknown } | undefined)?.cause;
  return cause instanceof ProcessGroupError && cause.code === 'PROC_ABORTED';
}

/** "timed out after 10 s", "exited with status 4: <last line of stderr, escaped and bounded>". */
function describeFailure(error: unknown): string {
  if (!(error instanceof ProcessGroupError)) return shown(String((error as Error)?.message ?? error));
  const { code, message, result } = error;
  if ((code !== 'PROC_EXIT_STATUS' && code !== 'PROC_SIGNALLED') || !result) return message;
  const stderr = result.stderr.text.trim();
  const lastLine = stderr.slice(stderr.lastIndexOf('\n') + 1);
  return lastLine ? `${message}: ${shownTail(lastLine, STDERR_IN_MESSAGE_CHARS)}` : message;
}
