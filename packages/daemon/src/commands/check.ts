import { Socket } from '@nerves-hub-link/phoenix-channel';
import type { CliOptions } from '../cli.js';
import { EXIT } from '../cli.js';
import { CONFIG_DEFAULTS } from '../config/defaults.js';
import { configPath, loadConfig } from '../config/load.js';
import { DEVICE_TOPIC } from '../constants.js';
import { redactedEndpoint } from '../device-session.js';
import { prepareDevice } from '../device-setup.js';
import { ExitError } from '../errors.js';
import { buildJoinParams } from '../join-params.js';
import type { DaemonLogger } from '../log.js';
import { redact } from '../redact.js';

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
  out(`ok   fwup ${setup.fwupVersion}, writes to ${setup.devpath}`);
  if (config.fwup.publicKeys.length === 0) {
    out('warn fwup.public_keys is empty: firmware signatures are checked only with keys the server sends');
  }

  const joinParams = buildJoinParams({
    firmware: setup.metadata.firmware,
    fwupVersion: setup.fwupVersion,
    currentlyDownloadingUuid: null,
    firmwareValidated: setup.metadata.firmwareValidated,
    autoRevertDetected: setup.metadata.autoRevertDetected,
    requestFwupPublicKeys: config.fwup.publicKeys.length === 0,
  });
  await joinOnce(setup.connection, joinParams, config.uri);
  out(
    `ok   joined "${DEVICE_TOPIC}" at ${redactedEndpoint(config.uri)} (device_api_version ${CONFIG_DEFAULTS.deviceApiVersion})`,
  );
  out('join payload:');
  out(JSON.stringify(joinParams, null, 2));
  return EXIT.ok;
}

/** One connection attempt and one join; the first error ends it, with the reason. */
async function joinOnce(
  connection: Awaited<ReturnType<typeof prepareDevice>>['connection'],
  joinParams: Record<string, unknown>,
  uri: string,
): Promise<void> {
  const socket = new Socket(connection.url, {
    ...connection.socketOptions,
    // One attempt is enough to tell; `run` retries forever.
    reconnectAfterMs: () => CHECK_JOIN_TIMEOUT_MS * 10,
  });
  const channel = socket.channel(DEVICE_TOPIC, joinParams, {
    rejoinAfterMs: () => CHECK_JOIN_TIMEOUT_MS * 10,
  });
  const failure = new Promise<never>((_, reject) => {
    socket.on('error', (error) => {
      connection.onConnectionError(error);
      reject(error);
    });
    channel.on('join_error', (error) => reject(error));
  });
  const timeout = AbortSignal.timeout(CHECK_JOIN_TIMEOUT_MS);
  try {
    socket.connect();
    await Promise.race([channel.join({ signal: timeout }), failure]);
  } catch (error) {
    const message = timeout.aborted
      ? `no join within ${CHECK_JOIN_TIMEOUT_MS / 1000} s`
      : connection.describeError(error as Error);
    throw new ExitError(EXIT.unavailable, `could not join at ${redactedEndpoint(uri)}: ${message}`, {
      cause: error,
    });
  } finally {
    await socket.close();
  }
}
