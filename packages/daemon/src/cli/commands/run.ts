import { mkdirSync } from 'node:fs';
import { configPath, loadConfig } from '../../config/load.js';
import { ExitError } from '../../errors/daemon-errors.js';
import { EXIT } from '../../errors/exit-codes.js';
import { Daemon } from '../../lifecycle/daemon.js';
import { prepareDevice } from '../../lifecycle/prepare-device.js';
import { acquireLock } from '../../local/lock.js';
import type { DaemonLogger } from '../../log/logger.js';
import { createServiceNotifier, takeNotifySocket } from '../../runtime/service-notifier.js';
import { takeWatchdogPeriod } from '../../runtime/watchdog.js';
import { removeStaleDownloads } from '../../update/download-folder.js';
import type { CliOptions } from '../parse-cli.js';
import { VERSION } from '../version.js';

/** `nerves-hub-link run`: the long-lived daemon. Resolves with the exit code. */
export async function runCommand(options: CliOptions, logger: DaemonLogger): Promise<number> {
  // Taken first, so that nothing the daemon starts (fwup, hooks, commands) talks to systemd as the daemon.
  const notifier = createServiceNotifier({
    socket: takeNotifySocket(),
    onError: (message) => logger.warn(message),
  });
  const watchdogPeriodMs = takeWatchdogPeriod();
  const file = configPath(options.configFlag);
  const { config, warnings } = loadConfig(file);
  if (config.auth.method === 'shared_secret') logger.addSecret(config.auth.secret);
  for (const warning of warnings) logger.warn(warning);
  // Packages are 0.0.0 until their first release: say so, so that it does not read as a broken version.
  const version = VERSION === '0.0.0' ? '0.0.0 (unreleased development build)' : VERSION;
  logger.info(`nerves-hub-link ${version} starting`, { config: file });

  try {
    mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  } catch (error) {
    // A folder the daemon may not create is the config's to fix; restarting changes nothing.
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new ExitError(
      EXIT.config,
      `cannot create data_dir ${config.dataDir} (${code}) (config file ${file})`,
      {
        cause: error,
        code: 'CONFIG_INVALID',
      },
    );
  }
  const lock = acquireLock(config.dataDir, logger);
  try {
    await removeStaleDownloads(config.dataDir, logger);
    const setup = await prepareDevice(config, logger);
    const daemon = new Daemon(config, setup, logger, {
      notifier,
      ...(watchdogPeriodMs !== undefined ? { watchdogPeriodMs } : {}),
    });
    const onSignal = (signal: NodeJS.Signals) => void daemon.stop(signal);
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    try {
      const exit = await daemon.run();
      return exit.exitCode;
    } finally {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    }
  } finally {
    lock.release();
  }
}
