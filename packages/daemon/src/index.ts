/**
 * The daemon as a library, for a program that embeds it instead of running the `nerves-hub-link` CLI.
 * The CLI's `run` command is this sequence plus signal handling:
 *
 * ```ts
 * const logger = createLogger({ format: 'json' });
 * const { config, warnings } = loadConfig(configPath(undefined)); // throws ConfigError listing every problem
 * for (const warning of warnings) logger.warn(warning);
 * mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
 * const lock = acquireLock(config.dataDir, logger);
 * await removeStaleDownloads(config.dataDir, logger);
 * const daemon = new Daemon(config, await prepareDevice(config, logger), logger);
 * process.once('SIGTERM', () => void daemon.stop('SIGTERM'));
 * const { exitCode } = await daemon.run(); // after a reboot request or `stop()`
 * lock.release();
 * ```
 */

export const PACKAGE_NAME = '@nerves-hub-link/daemon';

export { CONFIG_DEFAULTS } from './config/defaults.js';
export type { LoadedConfig } from './config/load.js';
export { configPath, loadConfig, parseConfig } from './config/load.js';
export type { AuthConfig, Config, IdentitySource } from './config/schema.js';
export type { DaemonExit } from './daemon.js';
export { Daemon } from './daemon.js';
export type { DaemonStatus } from './daemon-status.js';
export { readDaemonStatus, STATUS_EXIT } from './daemon-status.js';
export type { Connection, DeviceSetup, FirmwareState } from './device-setup.js';
export { prepareDevice, removeStaleDownloads } from './device-setup.js';
export type { DaemonErrorCode } from './errors.js';
export { ConfigError, DaemonError } from './errors.js';
export type { InstanceLock } from './lock.js';
export { acquireLock } from './lock.js';
export type { DaemonLogger, LogFields, Logger, LoggerOptions, LogLevel } from './log.js';
export { createLogger } from './log.js';
export type { DaemonState } from './state-file.js';
export type { UpdateSteps } from './update-manager.js';
export { VERSION } from './version.js';
