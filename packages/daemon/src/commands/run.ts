import { mkdirSync } from 'node:fs';
import type { CliOptions } from '../cli.js';
import { configPath, loadConfig } from '../config/load.js';
import { Daemon } from '../daemon.js';
import { prepareDevice, removeStaleDownloads } from '../device-setup.js';
import { acquireLock } from '../lock.js';
import type { DaemonLogger } from '../log.js';
import { VERSION } from '../version.js';

/** `nerves-hub-link run`: the long-lived daemon. Resolves with the exit code. */
export async function runCommand(options: CliOptions, logger: DaemonLogger): Promise<number> {
  const file = configPath(options.configFlag);
  const { config, warnings } = loadConfig(file);
  if (config.auth.method === 'shared_secret') logger.addSecret(config.auth.secret);
  for (const warning of warnings) logger.warn(warning);
  logger.info(`nerves-hub-link ${VERSION} starting`, { config: file });

  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const lock = acquireLock(config.dataDir, logger);
  try {
    await removeStaleDownloads(config.dataDir, logger);
    const setup = await prepareDevice(config, logger);
    const daemon = new Daemon(config, setup, logger);
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
