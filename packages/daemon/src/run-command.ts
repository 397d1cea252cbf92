import { execFile } from 'node:child_process';
import { DaemonError } from './errors.js';

export interface CommandResult {
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a configured command (reboot, identify) without a shell, with a timeout. The program and its
 * arguments are the config's own words, so a failure message names them as written.
 */
export function runCommand(
  argv: readonly string[],
  options: { timeoutMs: number; signal?: AbortSignal; env?: NodeJS.ProcessEnv },
): Promise<CommandResult> {
  const [program, ...args] = argv;
  if (!program) return Promise.reject(new DaemonError('DAEMON_COMMAND_FAILED', 'empty command'));
  return new Promise((resolve, reject) => {
    execFile(
      program,
      args,
      {
        timeout: options.timeoutMs,
        killSignal: 'SIGKILL',
        maxBuffer: 1024 * 1024,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.env ? { env: options.env } : {}),
      },
      (error, stdout, stderr) => {
        if (!error) return resolve({ stdout, stderr });
        const { code, killed, signal } = error as NodeJS.ErrnoException & {
          killed?: boolean;
          signal?: string;
        };
        const shown = argv.join(' ');
        const why =
          code === 'ENOENT'
            ? 'program not found'
            : killed && signal === 'SIGKILL'
              ? `timed out after ${options.timeoutMs} ms`
              : typeof code === 'number'
                ? `exited with status ${code}${stderr.trim() ? `: ${stderr.trim().split('\n').at(-1)}` : ''}`
                : (error.message ?? String(code));
        reject(
          new DaemonError('DAEMON_COMMAND_FAILED', `command "${shown}" failed: ${why}`, { cause: error }),
        );
      },
    );
  });
}
