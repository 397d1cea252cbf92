import { readSecretFile, resolveIdentifier, type TlsOptions } from '@nerves-hub-link/auth';
import { fwupVersion } from '@nerves-hub-link/firmware';
import { redactUrl } from '@nerves-hub-link/message-text';
import { type Channel, Socket } from '@nerves-hub-link/phoenix-channel';
import type { Config } from '../../config/config.js';
import { CONFIG_DEFAULTS } from '../../config/defaults.js';
import { configPath, loadConfig } from '../../config/load.js';
import { formatByteRate } from '../../config/values/byte-rate.js';
import { ConfigError, ExitError } from '../../errors/daemon-errors.js';
import { EXIT } from '../../errors/exit-codes.js';
import { configuredPrograms, missingPrograms } from '../../lifecycle/configured-programs.js';
import { type FirmwareState, readFirmwareState } from '../../lifecycle/firmware-state.js';
import { identitySource } from '../../lifecycle/prepare-device.js';
import { asConfigProblem } from '../../lifecycle/setup-errors.js';
import { buildConnection, type Connection } from '../../link/connection.js';
import { isUriProblem } from '../../link/connection-errors.js';
import { DEVICE_TOPIC, SOCKET_MAX_REDIRECTS } from '../../link/constants.js';
import { isJoinCrash, versionWarning } from '../../link/firmware-version.js';
import { buildJoinParams } from '../../link/join-params.js';
import { proxySettings } from '../../link/proxy-route.js';
import { loadDeviceTls } from '../../link/tls.js';
import type { DaemonLogger } from '../../log/logger.js';
import { parseUpdateOffer } from '../../update/offer.js';
import { checkDataDir, formatBytes } from '../check/data-dir.js';
import { CheckReport } from '../check/report.js';
import { operatorSummary, validationSummary } from '../operator-summary.js';
import type { CliOptions } from '../parse-cli.js';

const CHECK_JOIN_TIMEOUT_MS = 20_000;
/**
 * How long after the join `check` waits for the signing keys it asked for. NervesHub sends them right after the
 * join, and only when the organization has some (nerves_hub_web lib/nerves_hub/device_link.ex,
 * maybe_send_public_keys): no answer at all means none.
 */
const SERVER_KEYS_WAIT_MS = 2_000;
/**
 * How long `check` stays joined at least, to see an update NervesHub offers on the join (its orchestrator runs
 * when the device comes online), so it can say it leaves that offer alone.
 */
const OFFER_WAIT_MS = 1_000;

/** What the joined channel brought: the signing keys asked for, and an update offer check does not take. */
interface JoinNews {
  keys?: readonly string[];
  offer?: unknown;
}

/**
 * `nerves-hub-link check`: everything `run` needs, each part on its own so that one run finds every problem (the
 * config, the files and programs it names, data_dir, fwup, the firmware metadata, the identifier), then one join
 * as `run` makes it. One line per check, or one JSON document with `--json`; exit 78 when any problem is the
 * config's, 69 when only the join failed, 1 for another failure.
 */
export async function checkCommand(
  options: CliOptions,
  logger: DaemonLogger,
  write: (text: string) => void = (text) => process.stdout.write(text),
): Promise<number> {
  const report = new CheckReport(options.json === true, write);
  const file = configPath(options.configFlag);
  let config: Config;
  try {
    const loaded = loadConfig(file);
    config = loaded.config;
    report.ok('config', `config ${file}`);
    for (const warning of loaded.warnings) report.warn('config', warning);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) report.fail('config', `${file}: ${problem}`, true);
    report.skip('everything else', 'the rest needs a configuration that can be read');
    const exitCode = report.exitCode(undefined);
    report.finish(exitCode, undefined, file);
    return exitCode;
  }
  if (config.auth.method === 'shared_secret') logger.addSecret(config.auth.secret);

  /** Runs one check; a failure becomes its line (the config's when asConfigProblem says so). */
  const attempt = async <T>(check: string, work: () => Promise<T> | T): Promise<T | undefined> => {
    try {
      return await work();
    } catch (error) {
      const problem = asConfigProblem(error, config);
      const message = (problem ?? (error as Error)).message ?? String(error);
      report.fail(check, message.replace(` (config file ${config.file})`, ''), problem !== undefined);
      return undefined;
    }
  };

  const tls = await attempt('credentials', () => checkCredentials(config, report, logger));
  checkCommands(config, report);
  const free = checkDataDir(config.dataDir, report);
  const version = await attempt('fwup', async () => {
    const found = await fwupVersion(config.fwup.path);
    report.ok('fwup', `fwup ${found} (fwup.path "${config.fwup.path}")`);
    return found;
  });
  const metadata = await attempt('metadata', async () => {
    const state = await readFirmwareState(config);
    report.ok('metadata', `firmware ${state.firmware.nerves_fw_uuid} (${state.firmware.nerves_fw_version})`);
    const versionProblem = versionWarning(state.firmware.nerves_fw_version);
    if (versionProblem) report.warn('metadata', versionProblem);
    return state;
  });
  if (metadata) {
    checkDevpath(config, metadata, report);
    checkValidation(config, metadata, report);
  }
  checkSigning(config, report);
  const identifier = await attempt('identifier', async () => {
    const found = await resolveIdentifier(identitySource(config));
    report.ok('identifier', `identifier ${found}`);
    return found;
  });
  const proxy = await attempt('network', () => proxySettings(config.network, process.env));
  for (const secret of proxy?.secrets ?? []) logger.addSecret(secret);

  const missing = [
    tls ? undefined : 'credentials',
    version ? undefined : 'fwup',
    metadata ? undefined : 'firmware metadata',
    identifier ? undefined : 'identifier',
    proxy ? undefined : 'proxy settings',
  ].filter(Boolean);
  if (!tls || !version || !metadata || !identifier || !proxy) {
    report.skip('join', `not joining NervesHub: it needs the ${missing.join(', ')} above`);
    if (config.fwup.publicKeys.length === 0 && !config.fwup.allowUnsigned) {
      report.warn('signing', NO_KEYS_UNTOLD);
    }
    const exitCode = report.exitCode(undefined);
    report.finish(exitCode, undefined, config.file);
    return exitCode;
  }

  const connection = await attempt('connection', () =>
    buildConnection(config, identifier, tls, logger, Date.now, proxy),
  );
  if (!connection) {
    const exitCode = report.exitCode(undefined);
    report.finish(exitCode, undefined, config.file);
    return exitCode;
  }
  for (const line of networkLines(config, connection)) report.ok('network', line);

  const joinParams = buildJoinParams({
    firmware: metadata.firmware,
    fwupVersion: version,
    currentlyDownloadingUuid: null,
    firmwareValidated: metadata.firmwareValidated,
    autoRevertDetected: metadata.autoRevertDetected,
    requestFwupPublicKeys: config.fwup.publicKeys.length === 0,
  });
  const askedForKeys = config.fwup.publicKeys.length === 0;
  let joinExit: number | undefined;
  const news: JoinNews = {};
  try {
    const crashHint = versionWarning(metadata.firmware.nerves_fw_version);
    await joinWithClockRetry(connection, joinParams, config.uri, (line) => report.warn('join', line), {
      listen: (channel) => listenWhileJoined(channel, news, askedForKeys),
      ...(crashHint ? { crashHint } : {}),
    });
    report.ok(
      'join',
      `joined "${DEVICE_TOPIC}" at ${redactUrl(config.uri)} (device_api_version ${CONFIG_DEFAULTS.deviceApiVersion})`,
    );
    report.note(
      'join',
      'that was a real device join: NervesHub shows the device as connected and may offer it an update, which check reports and does not take',
    );
    const pins = serverPins(config, connection);
    if (pins) report.ok('pins', pins.header, pins.details);
    reportJoinNews(config, news, askedForKeys, free, report);
  } catch (error) {
    if (!(error instanceof ExitError)) throw error;
    joinExit = error.exitCode;
    report.fail('join', error.message, error.exitCode === EXIT.config);
    if (askedForKeys && !config.fwup.allowUnsigned) report.warn('signing', NO_KEYS_UNTOLD);
  }
  const exitCode = report.exitCode(joinExit);
  report.finish(exitCode, joinExit === undefined ? joinParams : undefined, config.file);
  return exitCode;
}

const NO_KEYS_UNTOLD =
  'fwup.public_keys is empty: updates are refused unless NervesHub sends a signing key of the organization when the device joins';

/** The device's credentials: the certificate and key (mTLS), or the shared secret's file. */
async function checkCredentials(
  config: Config,
  report: CheckReport,
  logger: DaemonLogger,
): Promise<TlsOptions> {
  const tls = await loadDeviceTls(config);
  for (const warning of tls.warnings) report.warn('credentials', warning);
  const { certificate } = tls;
  if (certificate) {
    report.ok(
      'credentials',
      `certificate ${certificate.subject}, key matches, valid until ${certificate.notAfter.toISOString()}, sha1 ${certificate.fingerprint}`,
    );
    for (const warning of certificate.warnings) report.warn('credentials', warning);
  }
  if (config.auth.method === 'shared_secret') {
    if (config.auth.secretFile) {
      const { secret } = await readSecretFile(config.auth.secretFile);
      logger.addSecret(secret);
      report.ok(
        'credentials',
        `shared secret ${config.auth.secretFile} (auth.secret_file), key ${config.auth.key}`,
      );
    } else {
      report.ok('credentials', `shared secret in the config (auth.secret), key ${config.auth.key}`);
    }
  }
  return tls;
}

/** The reboot and identify commands and the hooks: each program there, or a line naming its key. */
function checkCommands(config: Config, report: CheckReport): void {
  const missing = missingPrograms(config);
  for (const problem of missing) report.fail('commands', problem, true);
  if (missing.length === 0) {
    const keys = configuredPrograms(config).map(({ key, program }) => `${key} (${program})`);
    report.ok('commands', `programs found: ${keys.join(', ')}`);
  }
  for (const line of operatorSummary(config)) report.ok('updates', line.replace(/^ok {3}/, ''));
}

/** The device fwup writes to: fwup.devpath, else the metadata's nerves_fw_devpath. */
function checkDevpath(config: Config, metadata: FirmwareState, report: CheckReport): void {
  const devpath = config.fwup.devpath ?? metadata.devpath;
  if (!devpath) {
    report.fail(
      'devpath',
      'no device to write firmware to: set fwup.devpath in the config, or nerves_fw_devpath in the firmware metadata',
      true,
    );
    return;
  }
  report.ok(
    'devpath',
    `fwup writes to ${devpath} (${config.fwup.devpath ? 'fwup.devpath' : 'nerves_fw_devpath'})`,
  );
}

/** What `[validation]` does with the running firmware, and whether its commands can run. */
function checkValidation(config: Config, metadata: FirmwareState, report: CheckReport): void {
  const lines = validationSummary(config.validation, {
    validated: metadata.firmwareValidated,
    uuid: metadata.firmware.nerves_fw_uuid,
    detail: metadata.validationDetail,
  });
  for (const line of lines) {
    if (line.startsWith('warn ')) report.warn('validation', line.slice(5));
    else report.ok('validation', line.replace(/^ok {3}/, ''));
  }
}

function checkSigning(config: Config, report: CheckReport): void {
  if (!config.fwup.allowUnsigned) return;
  for (const line of [
    'WARNING: fwup.allow_unsigned = true',
    'WARNING: without a key (fwup.public_keys, or one sent by NervesHub) firmware is applied with NO signature check',
    'WARNING: anyone who can get a firmware URL to this device can install anything; development boards only',
  ]) {
    report.warn('signing', line);
  }
}

/** How the socket gets out (proxy or direct, and why), and what limits the downloads. */
function networkLines(config: Config, connection: Connection): string[] {
  const lines = [`device socket ${connection.route}`];
  const { maxBytesPerSecond, pins } = config.download;
  if (maxBytesPerSecond !== undefined) {
    lines.push(`firmware downloads capped at ${formatByteRate(maxBytesPerSecond)} (download.max_rate)`);
  }
  if (pins) lines.push(`firmware hosts must present one of ${pins.length} pinned key(s) (download.pins)`);
  return lines;
}

/**
 * The public-key pins of the chain the server presented, in the form auth.server_pins takes, so an operator can
 * copy one; with pins configured, which one matched.
 */
function serverPins(
  config: Config,
  connection: Connection,
): { header: string; details: string[] } | undefined {
  const chain = connection.presentedChain();
  if (!chain || chain.length === 0) return undefined;
  const pinned = config.auth.serverPins ?? [];
  const matched = chain.find((certificate) => pinned.includes(certificate.pin));
  const header = matched
    ? `server key pinned (auth.server_pins): ${matched.pin} (${matched.subject}) matched; the chain presented:`
    : 'server key pins of the chain presented (any one may go in auth.server_pins):';
  return { header, details: chain.map((certificate) => `${certificate.pin}  ${certificate.subject}`) };
}

/**
 * Records what the channel brings once joined: the keys asked for and an offer, never acted on. Returns the wait
 * after the join: for the keys, a moment at most.
 */
function listenWhileJoined(channel: Channel, news: JoinNews, askedForKeys: boolean): () => Promise<void> {
  let keysArrived!: () => void;
  const arrived = new Promise<void>((resolve) => {
    keysArrived = resolve;
  });
  channel.on('fwup_public_keys', (payload) => {
    const keys = (payload as { keys?: unknown } | null)?.keys;
    if (Array.isArray(keys) && keys.every((key) => typeof key === 'string')) {
      news.keys = keys;
      keysArrived();
    }
  });
  channel.on('update', (payload) => {
    news.offer = payload;
  });
  const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
  return async () => {
    const keys =
      !askedForKeys || news.keys ? Promise.resolve() : Promise.race([arrived, pause(SERVER_KEYS_WAIT_MS)]);
    await Promise.all([keys, news.offer === undefined ? pause(OFFER_WAIT_MS) : undefined]);
  };
}

function reportJoinNews(
  config: Config,
  news: JoinNews,
  askedForKeys: boolean,
  free: number | undefined,
  report: CheckReport,
): void {
  if (askedForKeys) {
    if (news.keys && news.keys.length > 0) {
      report.ok(
        'signing',
        `NervesHub sent ${news.keys.length} fwup signing key(s) of the organization, as asked (fwup.public_keys is empty)`,
      );
    } else if (!config.fwup.allowUnsigned) {
      report.warn(
        'signing',
        `fwup.public_keys is empty and NervesHub sent no signing key within ${SERVER_KEYS_WAIT_MS / 1000} s of the join: every update will be refused ("Refusing unverified firmware"); add a signing key to the organization in NervesHub, or set fwup.public_keys`,
      );
    }
  } else {
    report.ok('signing', `${config.fwup.publicKeys.length} fwup signing key(s) in fwup.public_keys`);
  }
  if (news.offer === undefined) return;
  const parsed = parseUpdateOffer(news.offer);
  if (!parsed.ok) {
    report.note(
      'offer',
      `NervesHub pushed an update that cannot be taken (${parsed.reason}); check leaves it`,
    );
    return;
  }
  const { offer } = parsed;
  const name = `${offer.uuid}${offer.version ? ` (${offer.version})` : ''}`;
  report.note('offer', `NervesHub offered firmware ${name}: check does not take it; \`run\` would`);
  if (offer.size !== undefined && free !== undefined && offer.size > free) {
    report.warn(
      'data_dir',
      `the offered firmware is ${formatBytes(offer.size)} and data_dir has ${formatBytes(free)} free: the download would fail`,
    );
  }
}

/**
 * Joins once, like `run` would on its first attempt; when that attempt was refused with a 401 that taught us the
 * server's clock, tries once more on the server's time, as `run` does on its next attempt. Throws an ExitError
 * (69) with the reason otherwise. `listen` sees the channel before the join; what it returns is awaited once
 * joined, before the socket closes.
 */
export async function joinWithClockRetry(
  connection: Connection,
  joinParams: Record<string, unknown>,
  uri: string,
  out: (line: string) => void,
  options: {
    listen?: (channel: Channel) => () => Promise<void>;
    /** Why NervesHub may crash this device's join (its firmware version), told when the join crashes. */
    crashHint?: string;
  } = {},
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const failure = await joinOnce(connection, joinParams, options.listen);
    if (failure === undefined) return;
    const learnedClock = failure.error !== undefined && connection.onConnectionError(failure.error);
    if (learnedClock && attempt === 1) {
      out("the server refused the first attempt and told its time; trying again on the server's clock");
      continue;
    }
    let message = failure.error ? connection.describeError(failure.error) : failure.message;
    if (options.crashHint && isJoinCrash(failure.error)) message += `; ${options.crashHint}`;
    // A redirect away from the server's origin is the uri's to fix, not the network's: exit as a config error.
    const uriProblem = failure.error !== undefined && isUriProblem(failure.error);
    throw new ExitError(
      uriProblem ? EXIT.config : EXIT.unavailable,
      `could not join at ${redactUrl(uri)}: ${message}`,
      { cause: failure.error, ...(uriProblem ? { code: 'CONFIG_INVALID' as const } : {}) },
    );
  }
}

/** One connection attempt and one join; resolves with the first error, or undefined once joined. */
async function joinOnce(
  connection: Connection,
  joinParams: Record<string, unknown>,
  listen: ((channel: Channel) => () => Promise<void>) | undefined,
): Promise<{ error?: Error; message: string } | undefined> {
  const socket = new Socket(connection.url, {
    ...connection.socketOptions,
    maxRedirects: SOCKET_MAX_REDIRECTS,
    // One attempt is enough to tell; `run` retries forever.
    reconnectAfterMs: () => CHECK_JOIN_TIMEOUT_MS * 10,
  });
  const channel = socket.channel(DEVICE_TOPIC, joinParams, {
    rejoinAfterMs: () => CHECK_JOIN_TIMEOUT_MS * 10,
  });
  const failure = new Promise<never>((_, reject) => {
    socket.on('error', (error) => reject(error));
    channel.on('join_error', (error) => reject(error));
  });
  // Listening before the join: what the server pushes right after it must not be missed.
  const afterJoin = listen?.(channel);
  const timeout = AbortSignal.timeout(CHECK_JOIN_TIMEOUT_MS);
  try {
    socket.connect();
    await Promise.race([channel.join({ signal: timeout }), failure]);
    await afterJoin?.();
    return undefined;
  } catch (error) {
    if (timeout.aborted) return { message: `no join within ${CHECK_JOIN_TIMEOUT_MS / 1000} s` };
    return { error: error as Error, message: (error as Error).message };
  } finally {
    await socket.close();
  }
}
