import { ConfigError, DaemonError, ExitError } from '../errors/daemon-errors.js';
import { EXIT } from '../errors/exit-codes.js';
import type { DaemonLogger } from '../log/logger.js';

/**
 * Logs what ended a command and returns its exit code. Several configuration problems are one line each for a
 * person (a message with newlines would be escaped onto one line), and one JSON record with the list as
 * `problems`.
 */
export function reportError(error: unknown, logger: DaemonLogger, format: 'human' | 'json'): number {
  const config = configProblems(error);
  if (config && config.problems.length > 1) {
    const head = `invalid configuration: ${config.file}: ${config.problems.length} problems`;
    const code = (error as DaemonError).code;
    if (format === 'json') {
      logger.error(head, { code, file: config.file, problems: config.problems });
    } else {
      logger.error(head, { code });
      for (const problem of config.problems) logger.error(`  - ${problem}`);
    }
    return EXIT.config;
  }
  if (error instanceof ConfigError) {
    logger.error(`invalid configuration: ${error.message}`, { code: error.code });
    return EXIT.config;
  }
  if (error instanceof ExitError) {
    logger.error(error.message, { code: error.code });
    return error.exitCode;
  }
  if (error instanceof DaemonError || (error as { code?: unknown })?.code !== undefined) {
    logger.error((error as Error).message, { code: (error as { code: unknown }).code });
    return EXIT.failure;
  }
  logger.error(`unexpected error: ${(error as Error)?.stack ?? String(error)}`);
  return EXIT.failure;
}

/** The config problems behind an error: a ConfigError, or an ExitError (78) made from one at start. */
function configProblems(error: unknown): { file: string; problems: readonly string[] } | undefined {
  if (error instanceof ConfigError) return error;
  if (error instanceof ExitError && error.exitCode === EXIT.config && error.cause instanceof ConfigError) {
    return error.cause;
  }
  return undefined;
}
