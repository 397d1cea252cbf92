// First: V8 settings that must be in force before anything else runs.
import './runtime/v8-flags.js';
import { checkCommand } from './cli/commands/check.js';
import { runCommand as runDaemon } from './cli/commands/run.js';
import { statusCommand } from './cli/commands/status.js';
import { validateCommand } from './cli/commands/validate.js';
import { HELP, parseCli } from './cli/parse-cli.js';
import { VERSION } from './cli/version.js';
import { ConfigError, DaemonError, ExitError } from './errors/daemon-errors.js';
import { EXIT } from './errors/exit-codes.js';
import { createLogger } from './log/logger.js';

/** The one place that catches, logs and picks the exit code. */
async function main(argv: readonly string[]): Promise<number> {
  let options: ReturnType<typeof parseCli>;
  try {
    options = parseCli(argv);
  } catch (error) {
    process.stderr.write(`nerves-hub-link: ${(error as Error).message}\n`);
    return EXIT.usage;
  }
  if (options.command === 'help') {
    process.stdout.write(HELP);
    return EXIT.ok;
  }
  if (options.command === 'version') {
    process.stdout.write(`${VERSION}\n`);
    return EXIT.ok;
  }
  const logger = createLogger({ format: options.logFormat ?? 'human', level: options.logLevel ?? 'info' });
  try {
    if (options.command === 'status') return statusCommand(options);
    if (options.command === 'validate') return await validateCommand(options);
    return options.command === 'run' ? await runDaemon(options, logger) : await checkCommand(options, logger);
  } catch (error) {
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
}

// No top-level await: the same entry also builds as CommonJS (single executable applications need that).
void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
  // Everything is closed by now; should a handle still be open, do not hang around after the work is done.
  setTimeout(() => process.exit(), 5_000).unref();
});
