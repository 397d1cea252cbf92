// First: an older node stops here, before anything that might not run on it.
import './runtime/require-node.js';
// Then: V8 settings that must be in force before anything else runs.
import './runtime/v8-flags.js';
import { exitQuietlyOnBrokenPipe } from './cli/broken-pipe.js';
import { checkCommand } from './cli/commands/check.js';
import { runCommand as runDaemon } from './cli/commands/run.js';
import { statusCommand } from './cli/commands/status.js';
import { validateCommand } from './cli/commands/validate.js';
import { COMMAND_HELP, HELP, parseCli } from './cli/parse-cli.js';
import { reportError } from './cli/report-error.js';
import { VERSION } from './cli/version.js';
import { EXIT } from './errors/exit-codes.js';
import { createLogger } from './log/logger.js';

/** The one place that catches, logs and picks the exit code. */
async function main(argv: readonly string[]): Promise<number> {
  exitQuietlyOnBrokenPipe();
  let options: ReturnType<typeof parseCli>;
  try {
    options = parseCli(argv);
  } catch (error) {
    process.stderr.write(`nerves-hub-link: ${(error as Error).message}\n`);
    return EXIT.usage;
  }
  if (options.command === 'help') {
    process.stdout.write(options.helpFor ? COMMAND_HELP[options.helpFor] : HELP);
    return EXIT.ok;
  }
  if (options.command === 'version') {
    process.stdout.write(`${VERSION}\n`);
    return EXIT.ok;
  }
  const format = options.logFormat ?? 'human';
  const logger = createLogger({ format, level: options.logLevel ?? 'info' });
  try {
    if (options.command === 'status') return statusCommand(options);
    if (options.command === 'validate') return await validateCommand(options);
    return options.command === 'run' ? await runDaemon(options, logger) : await checkCommand(options, logger);
  } catch (error) {
    return reportError(error, logger, format);
  }
}

// No top-level await: the same entry also builds as CommonJS (single executable applications need that).
void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
  // Everything is closed by now; should a handle still be open, do not hang around after the work is done.
  setTimeout(() => process.exit(), 5_000).unref();
});
