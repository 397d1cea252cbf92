import { redactUrl } from '@nerves-hub-link/message-text';
import { Socket } from '@nerves-hub-link/phoenix-channel';
import type { Config } from '../../config/config.js';
import { CONFIG_DEFAULTS } from '../../config/defaults.js';
import { configPath, loadConfig } from '../../config/load.js';
import { formatByteRate } from '../../config/values/byte-rate.js';
import { ExitError } from '../../errors/daemon-errors.js';
import { EXIT } from '../../errors/exit-codes.js';
import { prepareDevice } from '../../lifecycle/prepare-device.js';
import type { Connection } from '../../link/connection.js';
import { isUriProblem } from '../../link/connection-errors.js';
import { DEVICE_TOPIC, SOCKET_MAX_REDIRECTS } from '../../link/constants.js';
import { isJoinCrash, versionWarning } from '../../link/firmware-version.js';
import { buildJoinParams } from '../../link/join-params.js';
import type { DaemonLogger } from '../../log/logger.js';
import { redact } from '../../log/redact.js';
import { operatorSummary, validationSummary } from '../operator-summary.js';
import type { CliOptions } from '../parse-cli.js';

const CHECK_JOIN_TIMEOUT_MS = 20_000;

/**
 * `nerves-hub-link check`: everything `run` does before it waits for updates, once, loudly. Prints the
 * join payload (no secrets are in it) and exits 0 only when the device joined.
 */
export async function checkCommand(options: CliOptions, logger: DaemonLogger): Promise<number> {
  const out = (line: string) => process.stdout.write(`${redact(line)}\n`);
  const file = configPath(options.configFlag);
  const { config, warnings } = loadConfig(file);
  if (config.auth.method === 'shared_secret') logger.addSecret(config.auth.secret);
  out(`ok   config ${file}`);
  for (const warning of warnings) out(`warn ${warning}`);

  const setup = await prepareDevice(config, logger);
  const certificate = setup.certificate;
  if (certificate) {
    for (const warning of certificate.warnings) out(`warn ${warning}`);
    out(
      `ok   certificate ${certificate.subject}, key matches, valid until ${certificate.notAfter.toISOString()}, sha1 ${certificate.fingerprint}`,
    );
  }
  out(`ok   identifier ${setup.identifier}`);
  out(
    `ok   firmware ${setup.metadata.firmware.nerves_fw_uuid} (${setup.metadata.firmware.nerves_fw_version})`,
  );
  const versionProblem = versionWarning(setup.metadata.firmware.nerves_fw_version);
  if (versionProblem) out(`warn ${versionProblem}`);
  out(`ok   fwup ${setup.fwupVersion}, writes to ${setup.devpath}`);
  if (config.fwup.allowUnsigned) {
    for (const line of [
      'WARNING: fwup.allow_unsigned = true',
      'WARNING: without a key (fwup.public_keys, or one sent by NervesHub) firmware is applied with NO signature check',
      'WARNING: anyone who can get a firmware URL to this device can install anything; development boards only',
    ]) {
      out(line);
    }
  } else if (config.fwup.publicKeys.length === 0) {
    out(
      'warn fwup.public_keys is empty: updates are refused unless NervesHub sends a signing key of the organization when the device joins',
    );
  }
  for (const line of operatorSummary(config)) out(line);
  const { metadata } = setup;
  for (const line of validationSummary(config.validation, {
    validated: metadata.firmwareValidated,
    uuid: metadata.firmware.nerves_fw_uuid,
    detail: metadata.validationDetail,
  })) {
    out(line);
  }
  for (const line of networkLines(config, setup.connection)) out(line);

  const joinParams = buildJoinParams({
    firmware: setup.metadata.firmware,
    fwupVersion: setup.fwupVersion,
    currentlyDownloadingUuid: null,
    firmwareValidated: setup.metadata.firmwareValidated,
    autoRevertDetected: setup.metadata.autoRevertDetected,
    requestFwupPublicKeys: config.fwup.publicKeys.length === 0,
  });
  await joinWithClockRetry(setup.connection, joinParams, config.uri, out, versionProblem);
  out(
    `ok   joined "${DEVICE_TOPIC}" at ${redactUrl(config.uri)} (device_api_version ${CONFIG_DEFAULTS.deviceApiVersion})`,
  );
  for (const line of serverPinLines(config, setup.connection)) out(line);
  out('join payload:');
  out(JSON.stringify(joinParams, null, 2));
  return EXIT.ok;
}

/** How the socket gets out (proxy or direct, and why), and what limits the downloads. */
function networkLines(config: Config, connection: Connection): string[] {
  const lines = [`ok   device socket ${connection.route}`];
  const { maxBytesPerSecond, pins } = config.download;
  if (maxBytesPerSecond !== undefined) {
    lines.push(`ok   firmware downloads capped at ${formatByteRate(maxBytesPerSecond)} (download.max_rate)`);
  }
  if (pins)
    lines.push(`ok   firmware hosts must present one of ${pins.length} pinned key(s) (download.pins)`);
  return lines;
}

/**
 * The public-key pins of the chain the server presented, in the form auth.server_pins takes, so an operator can
 * copy one; with pins configured, which one matched.
 */
function serverPinLines(config: Config, connection: Connection): string[] {
  const chain = connection.presentedChain();
  if (!chain || chain.length === 0) return [];
  const pinned = config.auth.serverPins ?? [];
  const matched = chain.find((certificate) => pinned.includes(certificate.pin));
  const header = matched
    ? `ok   server key pinned (auth.server_pins): ${matched.pin} (${matched.subject}) matched; the chain presented:`
    : 'ok   server key pins of the chain presented (any one may go in auth.server_pins):';
  return [header, ...chain.map((certificate) => `       ${certificate.pin}  ${certificate.subject}`)];
}

/**
 * Joins once, like `run` would on its first attempt; when that attempt was refused with a 401 that taught us the
 * server's clock, tries once more on the server's time, as `run` does on its next attempt. Throws an ExitError
 * (69) with the reason otherwise.
 */
export async function joinWithClockRetry(
  connection: Connection,
  joinParams: Record<string, unknown>,
  uri: string,
  out: (line: string) => void,
  /** Why NervesHub may crash this device's join (its firmware version), told when the join crashes. */
  crashHint?: string,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const failure = await joinOnce(connection, joinParams);
    if (failure === undefined) return;
    const learnedClock = failure.error !== undefined && connection.onConnectionError(failure.error);
    if (learnedClock && attempt === 1) {
      out("warn the server refused the first attempt and told its time; trying again on the server's clock");
      continue;
    }
    let message = failure.error ? connection.describeError(failure.error) : failure.message;
    if (crashHint && isJoinCrash(failure.error)) message += `; ${crashHint}`;
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
  const timeout = AbortSignal.timeout(CHECK_JOIN_TIMEOUT_MS);
  try {
    socket.connect();
    await Promise.race([channel.join({ signal: timeout }), failure]);
    return undefined;
  } catch (error) {
    if (timeout.aborted) return { message: `no join within ${CHECK_JOIN_TIMEOUT_MS / 1000} s` };
    return { error: error as Error, message: (error as Error).message };
  } finally {
    await socket.close();
  }
}
