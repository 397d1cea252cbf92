import {
  type CertificateReport,
  type IdentifierSource,
  resolveIdentifier,
  ServerPinCheck,
} from '@nerves-hub-link/auth';
import { fwupVersion } from '@nerves-hub-link/firmware';
import type { Config } from '../config/config.js';
import { ConfigError } from '../errors/daemon-errors.js';
import { childEnvironment } from '../link/child-environment.js';
import { buildConnection, type Connection } from '../link/connection.js';
import { type ProxySettings, proxySettings } from '../link/proxy-route.js';
import { loadDeviceTls } from '../link/tls.js';
import type { DaemonLogger, Logger } from '../log/logger.js';
import { type Clock, SYSTEM_CLOCK } from '../runtime/clock.js';
import { firmwareSteps } from '../update/firmware-steps.js';
import type { UpdateSteps } from '../update/steps.js';
import { missingPrograms } from './configured-programs.js';
import { type FirmwareState, readFirmwareState } from './firmware-state.js';
import { asConfigProblem } from './setup-errors.js';

/** Everything the daemon resolves once at start, before it connects. */
export interface DeviceSetup {
  readonly identifier: string;
  /** The device certificate (mTLS), checked: dates, key match. */
  readonly certificate: CertificateReport | undefined;
  readonly metadata: FirmwareState;
  readonly fwupVersion: string;
  readonly devpath: string;
  readonly connection: Connection;
  /** The proxies of the socket and the downloads (config, else environment). */
  readonly proxy: ProxySettings;
  /** Reads the firmware's validation state again, with what the environment says of it. */
  readValidationState(): Promise<{ readonly validated: boolean | undefined; readonly detail: string }>;
  updateSteps(publicKeys: () => readonly string[], logger: Logger): UpdateSteps;
}

/**
 * Resolves identifier, firmware metadata, fwup and credentials, in that order, each failure with a
 * message that says what to fix. Shared by `run` and `check`. A failure the config caused (a file it names, a
 * key that does not match, a wrong PIN) is an ExitError (78) naming the config key.
 */
export async function prepareDevice(
  config: Config,
  logger: DaemonLogger,
  options: { readonly clock?: Clock } = {},
): Promise<DeviceSetup> {
  try {
    return await resolveDevice(config, logger, options.clock ?? SYSTEM_CLOCK);
  } catch (error) {
    throw asConfigProblem(error, config) ?? error;
  }
}

async function resolveDevice(config: Config, logger: DaemonLogger, clock: Clock): Promise<DeviceSetup> {
  const missing = missingPrograms(config);
  if (missing.length > 0) throw new ConfigError('CONFIG_INVALID', config.file, missing);
  const tls = await loadDeviceTls(config);
  for (const warning of tls.warnings) logger.warn(warning);
  const identifier = await resolveIdentifier(identitySource(config));
  logger.info(`device identifier: ${identifier}`);

  const metadata = await readFirmwareState(config);
  const version = await fwupVersion(config.fwup.path, {
    env: { ...childEnvironment(process.env), ...config.fwup.env },
  });
  const devpath = config.fwup.devpath ?? metadata.devpath;
  if (!devpath) {
    throw new ConfigError('CONFIG_INVALID', config.file, [
      'no device to write firmware to: set fwup.devpath in the config, or nerves_fw_devpath in the firmware metadata',
    ]);
  }

  const proxy = proxySettings(config.network, process.env);
  for (const secret of proxy.secrets) logger.addSecret(secret);
  // The device clock signs the shared-secret headers (and learns the server's from a refusal).
  const connection = await buildConnection(config, identifier, tls, logger, () => clock.now(), proxy);
  const downloadPins = config.download.pins
    ? new ServerPinCheck({ pins: config.download.pins, setting: 'download.pins' })
    : undefined;
  return {
    identifier,
    certificate: tls.certificate,
    metadata,
    fwupVersion: version,
    devpath,
    connection,
    proxy,
    async readValidationState() {
      const state = await readFirmwareState(config);
      return { validated: state.firmwareValidated, detail: state.validationDetail };
    },
    updateSteps: (publicKeys, stepLogger) =>
      firmwareSteps({
        config,
        devpath,
        ca: tls.ca,
        proxy,
        ...(downloadPins ? { checkServerIdentity: downloadPins.checkServerIdentity } : {}),
        publicKeys,
        logger: stepLogger,
        clock,
      }),
  };
}

export function identitySource(config: Config): IdentifierSource {
  const { identity, auth } = config;
  if (identity.kind === 'command') {
    return { command: identity.command, timeoutMs: identity.timeoutMs, env: childEnvironment(process.env) };
  }
  if (identity.kind === 'value') return { value: identity.value };
  if (auth.method !== 'mtls') {
    // The config reader already refuses this; a Config built another way gets the same answer.
    throw new ConfigError('CONFIG_INVALID', config.file, [
      'a shared-secret device needs identity.serial or serial_command',
    ]);
  }
  return { certFile: auth.certFile };
}
