import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type CertificateReport,
  createTlsOptions,
  type IdentifierSource,
  type PresentedCertificate,
  readSecretFile,
  resolveIdentifier,
  ServerClock,
  ServerPinCheck,
  signSharedSecretHeaders,
  type TlsOptions,
} from '@nerves-hub-link/auth';
import {
  applyFirmware,
  downloadFirmware,
  type FirmwareMetadata,
  fwupVersion,
  interpretEnvironment,
  REQUIRED_FIRMWARE_KEYS,
  readFirmwareMetadata,
  verifyFirmware,
} from '@nerves-hub-link/firmware';
import type { SocketOptions } from '@nerves-hub-link/phoenix-channel';
import { CONFIG_DEFAULTS } from '../config/defaults.js';
import type { Config } from '../config/schema.js';
import { formatByteRate } from '../config/values/byte-rate.js';
import { explainConnectionError } from '../link/connection-errors.js';
import { interfaceForAddress } from '../link/network-interface.js';
import { describeNetworkError, type ProxySettings, proxySettings } from '../link/proxy-route.js';
import type { DaemonLogger, Logger } from '../log/logger.js';
import { favouringSpeed } from '../runtime/memory-mode.js';
import type { UpdateSteps } from '../update/manager.js';
import { asConfigProblem } from './setup-errors.js';

export interface FirmwareState {
  /** Join metadata of the running firmware: nerves_fw_* keys without the slot prefix. */
  readonly firmware: Readonly<Record<string, string>>;
  readonly firmwareValidated: boolean | undefined;
  readonly autoRevertDetected: boolean;
  readonly devpath: string | undefined;
}

export interface Connection {
  readonly url: string;
  readonly socketOptions: SocketOptions;
  /**
   * Learns from a failed attempt (the server clock from a 401's Date header). True when it learnt something
   * that makes another attempt worth it at once.
   */
  onConnectionError(error: Error): boolean;
  /** A failed attempt explained for the operator (TLS, proxy and pin failures get their likely fix). */
  describeError(error: Error): string;
  /** How the socket reaches the server: through which proxy, or why directly (for `check`). */
  readonly route: string;
  /** The certificate chain of the last server the socket reached: the pins an operator may copy. */
  presentedChain(): readonly PresentedCertificate[] | undefined;
}

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
  readFirmwareValidated(): Promise<boolean | undefined>;
  updateSteps(publicKeys: () => readonly string[], logger: Logger): UpdateSteps;
}

const DOWNLOAD_DIR = 'downloads';

/**
 * Resolves identifier, firmware metadata, fwup and credentials, in that order, each failure with a
 * message that says what to fix. Shared by `run` and `check`. A failure the config caused (a file it names, a
 * key that does not match, a wrong PIN) is an ExitError (78) naming the config key.
 */
export async function prepareDevice(config: Config, logger: DaemonLogger): Promise<DeviceSetup> {
  try {
    return await resolveDevice(config, logger);
  } catch (error) {
    throw asConfigProblem(error, config) ?? error;
  }
}

async function resolveDevice(config: Config, logger: DaemonLogger): Promise<DeviceSetup> {
  const tls = await loadTls(config);
  for (const warning of tls.warnings) logger.warn(warning);
  const identifier = await resolveIdentifier(identitySource(config));
  logger.info(`device identifier: ${identifier}`);

  const metadata = await readMetadata(config);
  const version = await fwupVersion(config.fwup.path);
  const devpath = config.fwup.devpath ?? metadata.devpath;
  if (!devpath) {
    throw Object.assign(
      new Error(
        'no device to write firmware to: set fwup.devpath in the config, or nerves_fw_devpath in the firmware metadata',
      ),
      { code: 'CONFIG_INVALID' },
    );
  }

  const proxy = proxySettings(config.network, process.env);
  for (const secret of proxy.secrets) logger.addSecret(secret);
  const connection = await buildConnection(config, identifier, tls, logger, Date.now, proxy);
  const downloadPins = config.download.pins
    ? new ServerPinCheck({ pins: config.download.pins, setting: 'download.pins' })
    : undefined;
  const { maxBytesPerSecond } = config.download;
  const downloadDir = join(config.dataDir, DOWNLOAD_DIR);
  return {
    identifier,
    certificate: tls.certificate,
    metadata,
    fwupVersion: version,
    devpath,
    connection,
    proxy,
    async readFirmwareValidated() {
      return (await readMetadata(config)).firmwareValidated;
    },
    updateSteps(publicKeys, stepLogger) {
      return {
        download: (offer, { signal, onProgress, onConnection }) =>
          favouringSpeed(async () => {
            await mkdir(downloadDir, { recursive: true, mode: 0o700 });
            if (maxBytesPerSecond !== undefined) {
              stepLogger.info(`download capped at ${formatByteRate(maxBytesPerSecond)} (download.max_rate)`);
            }
            const result = await downloadFirmware({
              url: offer.firmwareUrl,
              directory: downloadDir,
              ...(offer.size !== undefined ? { expectedSize: offer.size } : {}),
              ...(offer.checksum !== undefined ? { expectedSha256: offer.checksum } : {}),
              ca: tls.ca,
              allowHttp: config.download.allowHttp,
              signal,
              onProgress: (progress: { percent?: number; bytes: number; total?: number }) =>
                onProgress(progress.percent, progress.bytes, progress.total),
              onConnection: (info: { attempt: number; localAddress: string | undefined }) =>
                onConnection({ networkInterface: interfaceForAddress(info.localAddress) }),
              retry: {
                maxAttempts: config.download.maxAttempts,
                idleTimeoutMs: config.download.idleTimeoutMs,
              },
              proxy: proxy.routeFor,
              ...(downloadPins ? { checkServerIdentity: downloadPins.checkServerIdentity } : {}),
              ...(maxBytesPerSecond !== undefined ? { maxBytesPerSecond } : {}),
              logger: stepLogger,
            });
            return result.path;
          }),
        async verify(path) {
          await verifyFirmware({
            fwupPath: config.fwup.path,
            file: path,
            publicKeys: publicKeys(),
            env: config.fwup.env,
          });
        },
        async apply(path, { onProgress }) {
          await applyFirmware({
            fwupPath: config.fwup.path,
            file: path,
            devpath,
            task: config.fwup.task,
            publicKeys: publicKeys(),
            noUnmount: config.fwup.noUnmount,
            extraArgs: config.fwup.extraOptions,
            env: config.fwup.env,
            hangTimeoutMs: config.fwup.timeoutMs,
            onProgress,
            onWarning: (message: string) => stepLogger.info(`fwup: ${message}`),
            onHang: (silentMs: number) =>
              stepLogger.warn(
                `fwup has printed nothing for ${Math.round(silentMs / 1000)} s; still waiting for it`,
              ),
          });
        },
        async discard(path) {
          await rm(path, { force: true });
        },
      };
    },
  };
}

/** Files left in the download folder by a crash or a power cut: never applied, always removed. */
export async function removeStaleDownloads(dataDir: string, logger: Logger): Promise<void> {
  const dir = join(dataDir, DOWNLOAD_DIR);
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    await rm(join(dir, name), { force: true, recursive: true });
    logger.info(`removed ${name}, left over from an earlier run`);
  }
}

function identitySource(config: Config): IdentifierSource {
  const { identity, auth } = config;
  if (identity.kind === 'command') return { command: identity.command, timeoutMs: identity.timeoutMs };
  if (identity.kind === 'value') return { value: identity.value };
  if (auth.method !== 'mtls')
    throw new Error('a shared-secret device needs identity.serial or serial_command');
  return { certFile: auth.certFile };
}

async function readMetadata(config: Config): Promise<FirmwareState> {
  const { command, file, values } = config.metadata;
  let result: FirmwareMetadata;
  if (file === undefined && command === undefined && REQUIRED_FIRMWARE_KEYS.every((key) => values[key])) {
    // Everything is in the config: no bootloader environment to read (e.g. a device without U-Boot).
    result = interpretEnvironment({}, values, '[metadata.values]');
  } else {
    result = await readFirmwareMetadata({
      ...(file !== undefined ? { file } : { command: command ?? [...CONFIG_DEFAULTS.metadataCommand] }),
      values,
    });
  }
  return {
    firmware: result.params,
    firmwareValidated: result.firmwareValidated,
    autoRevertDetected: result.autoRevertDetected,
    devpath: result.devpath,
  };
}

/** One secure context for the WebSocket, with the device key for mTLS; trust anchors for both sockets. */
function loadTls(config: Config): Promise<TlsOptions> {
  const { auth, tlsVersion } = config;
  const caFile = auth.caFile ? { caFile: auth.caFile } : {};
  if (auth.method !== 'mtls') return createTlsOptions({ ...caFile, tlsVersion });
  const key = auth.keyEngine ? { keyEngine: auth.keyEngine, keyId: auth.keyId! } : { keyFile: auth.keyFile! };
  return createTlsOptions({ certFile: auth.certFile, ...key, ...caFile, tlsVersion });
}

/** The device socket's URL, options and error handling. `now` is the device clock (tests shift it). */
export async function buildConnection(
  config: Config,
  identifier: string,
  tls: Pick<TlsOptions, 'secureContext' | 'minVersion' | 'maxVersion'>,
  logger: DaemonLogger,
  now: () => number = Date.now,
  proxy: ProxySettings = proxySettings(config.network, {}),
): Promise<Connection> {
  const { auth } = config;
  // Always installed: it records the chain each server presents (for `check`), and enforces the pins if any.
  const pins = new ServerPinCheck({ pins: auth.serverPins ?? [], setting: 'auth.server_pins' });
  const socketTls = {
    secureContext: tls.secureContext,
    minVersion: tls.minVersion,
    maxVersion: tls.maxVersion,
    checkServerIdentity: pins.checkServerIdentity,
  };
  const network = {
    route: proxy.decide(new URL(config.uri)).description,
    presentedChain: () => pins.lastPresented?.chain,
  };
  if (auth.method === 'mtls') {
    return {
      url: config.uri,
      socketOptions: { tls: socketTls, proxy: proxy.routeFor },
      onConnectionError: () => false,
      describeError: (error) =>
        describeNetworkError(error) ??
        explainConnectionError(error, { method: 'mtls', uri: config.uri, certFile: auth.certFile }),
      ...network,
    };
  }
  let secret = auth.secret;
  if (secret === undefined) {
    const file = await readSecretFile(auth.secretFile!);
    for (const warning of file.warnings) logger.warn(warning);
    secret = file.secret;
  }
  logger.addSecret(secret);
  const signingSecret = secret;
  const clock = new ServerClock({ now });
  return {
    url: config.uri,
    socketOptions: {
      tls: socketTls,
      proxy: proxy.routeFor,
      // Signed immediately before every attempt, on the server's clock as far as we know it.
      headers: () => ({
        ...signSharedSecretHeaders({
          key: auth.key,
          secret: signingSecret,
          identifier,
          nowMs: clock.nowMs(),
        }),
      }),
    },
    onConnectionError(error) {
      const before = clock.offsetMs;
      if (!clock.observeError(error)) return false;
      if (Math.abs(clock.offsetMs) > 5_000) {
        logger.warn(
          `the device clock is ${Math.round(clock.offsetMs / 1000)} s off the server's; signing with the server's time`,
        );
      }
      // A retry helps only when the refusal could have been the clock: a 401 and an offset that moved noticeably.
      return statusOf(error) === 401 && Math.abs(clock.offsetMs - before) > 5_000;
    },
    ...network,
    describeError: (error) =>
      describeNetworkError(error) ??
      explainConnectionError(error, {
        method: 'shared_secret',
        uri: config.uri,
        secretFile: auth.secretFile,
        serverClockOffsetMs: () => clock.offsetMs,
      }),
  };
}

function statusOf(error: unknown): number | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== null && typeof current === 'object'; depth++) {
    const status = (current as { statusCode?: unknown }).statusCode;
    if (typeof status === 'number') return status;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
