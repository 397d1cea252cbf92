/**
 * The daemon as a library, for a program that embeds it instead of running the `nerves-hub-link` CLI.
 * The CLI's `run` command is this sequence plus signal handling (the README shows it with systemd's notifier):
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

export { VERSION } from './cli/version.js';
export type { Config } from './config/config.js';
export { CONFIG_DEFAULTS } from './config/defaults.js';
export type { LoadedConfig } from './config/load.js';
export { configPath, loadConfig, parseConfig } from './config/load.js';
export type { AuthConfig } from './config/sections/auth.js';
export type { IdentitySource } from './config/sections/identity.js';
export type { DaemonErrorCode } from './errors/daemon-errors.js';
export { ConfigError, DaemonError, ExitError } from './errors/daemon-errors.js';
export { EXIT } from './errors/exit-codes.js';
export type { DaemonExit, DaemonOptions, DaemonServiceOptions } from './lifecycle/daemon.js';
export { Daemon } from './lifecycle/daemon.js';
export type { FirmwareState } from './lifecycle/firmware-state.js';
export type { DeviceSetup } from './lifecycle/prepare-device.js';
export { prepareDevice } from './lifecycle/prepare-device.js';
export type { Connection } from './link/connection.js';
export type { DaemonStatus } from './local/daemon-status.js';
export { readDaemonStatus, STATUS_EXIT } from './local/daemon-status.js';
export type { InstanceLock } from './local/lock.js';
export { acquireLock } from './local/lock.js';
export type { DaemonState } from './local/state-file.js';
export type { DaemonLogger, LogFields, Logger, LoggerOptions, LogLevel } from './log/logger.js';
export { createLogger } from './log/logger.js';
export type { Clock, ClockTimer } from './runtime/clock.js';
export type { NotifierOptions, NotifyFields, ServiceNotifier } from './runtime/service-notifier.js';
export { createServiceNotifier, takeNotifySocket } from './runtime/service-notifier.js';
export { takeWatchdogPeriod } from './runtime/watchdog.js';
export { removeStaleDownloads } from './update/download-folder.js';
export type { UpdateSteps } from './update/steps.js';
export type { BootClock } from './validation/boot-clock.js';
