/**
 * `nerves-hub-test-server`: a fake NervesHub on this machine, for trying the daemon by hand. Without a firmware file
 * it serves the bundled example (signed, with its key) and deploys it to every device. Prints a device config for
 * each way a device authenticates (mTLS and shared secret) and the command that runs the daemon with it, then one
 * line per thing a device does; keeps DIR/records.json (the device pages) current. `nerves-hub-test-server
 * records` prints that file. Ctrl-C stops it.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ActivityPrinter } from './cli/activity-printer.js';
import { CliError } from './cli/cli-error.js';
import { cloneRoot, daemonCommands } from './cli/daemon-command.js';
import { deviceConfig } from './cli/device-config.js';
import { EXAMPLE_FIRMWARE, EXAMPLE_PUBLIC_KEY } from './cli/example-firmware.js';
import { checkFirmwareFile, readPublicKeyFile } from './cli/input-files.js';
import { formatRecords, RecordsFileWriter, readRecordsFile } from './cli/records-file.js';
import { fakeFwupPath } from './fake-fwup-path.js';
import { startTestServer } from './server.js';

const HELP = `Usage: nerves-hub-test-server [options] [firmware.fw ...]
       nerves-hub-test-server records [--dir DIR]

Starts a fake NervesHub on 127.0.0.1, writes a nerves-hub-link config for a certificate (mTLS) device and one
for a shared-secret device, prints how to run the daemon with each, then one line per connection, join, status,
progress milestone and records change. Without a firmware file it serves the bundled example firmware, signed,
with its public key, in a deployment for every device. "records" prints DIR/records.json.

Options:
  --dir DIR            where certificates, configs, events.jsonl and records.json go
                       (default: ./nerves-hub-test-server)
  --port N             the device endpoint's port: both device sockets, for either auth method
                       (default: ephemeral)
  --firmware-port N    the firmware host's port (default: ephemeral)
  --identifier ID      the mTLS device (default: test-device-0001); the shared-secret one is ID-shared-secret
  --update             a deployment of the first firmware for every device: devices that join are offered it
                       (always on for the bundled example)
  --public-key FILE    a firmware signing key (fwup .pub file), sent to devices when they join; repeatable.
                       Without one (and with your own firmware) the printed configs allow unsigned firmware.
  -h, --help           this text
`;

/** The shared-secret devices' product key; its secret is made afresh at every start. */
const PRODUCT_KEY = 'nhp_test_server';

interface Options {
  readonly dir: string;
  readonly port: number;
  readonly firmwarePort: number;
  readonly identifier: string;
  readonly update: boolean;
  readonly publicKeys: readonly string[];
  readonly firmware: readonly string[];
}

async function main(argv: readonly string[]): Promise<void> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    fail(`${(error as Error).message} (see --help)`, 64);
    return;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  if (positionals[0] === 'records') {
    printRecords(values.dir);
    return;
  }
  const example = positionals.length === 0;
  await serve({
    dir: values.dir,
    port: port('--port', values.port),
    firmwarePort: port('--firmware-port', values['firmware-port']),
    identifier: values.identifier,
    update: values.update || example,
    publicKeys: (values['public-key'].length > 0 || !example
      ? values['public-key']
      : [EXAMPLE_PUBLIC_KEY]
    ).map((file) => resolve(file)),
    firmware: (example ? [EXAMPLE_FIRMWARE] : positionals).map((file) => resolve(file)),
  });
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      dir: { type: 'string', default: 'nerves-hub-test-server' },
      port: { type: 'string', default: '0' },
      'firmware-port': { type: 'string', default: '0' },
      identifier: { type: 'string', default: 'test-device-0001' },
      update: { type: 'boolean', default: false },
      'public-key': { type: 'string', multiple: true, default: [] },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
}

function printRecords(dirOption: string): void {
  const recordsFile = join(resolve(dirOption), 'records.json');
  if (!existsSync(recordsFile)) {
    throw new CliError(
      `no records yet: ${recordsFile} does not exist (start the server with --dir ${dirOption})`,
    );
  }
  process.stdout.write(formatRecords(readRecordsFile(recordsFile)));
}

async function serve(options: Options): Promise<void> {
  // Everything the user named is checked before anything starts.
  for (const file of options.firmware) await checkFirmwareFile(file);
  const keys: string[] = [];
  for (const file of options.publicKeys) keys.push(await readPublicKeyFile(file));

  const dir = resolve(options.dir);
  mkdirSync(dir, { recursive: true });
  const eventsFile = join(dir, 'events.jsonl');
  const recordsFile = join(dir, 'records.json');
  const server = await startTestServer({
    dir,
    port: options.port,
    firmwarePort: options.firmwarePort,
    eventsFile,
  }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'EADDRINUSE') {
      throw new CliError(
        `a port is already in use (--port ${options.port}, --firmware-port ${options.firmwarePort})`,
      );
    }
    throw error;
  });
  for (const key of keys) server.addSigningKey(key);
  const firmware = [];
  for (const file of options.firmware) firmware.push(await server.addFirmware(file));

  const mtlsDevice = options.identifier;
  const secretDevice = `${options.identifier}-shared-secret`;
  const certificate = await server.issueDeviceCertificate(mtlsDevice);
  const secretFile = join(dir, 'shared-secret');
  const secret = randomBytes(24).toString('base64url');
  writeFileSync(secretFile, `${secret}\n`, { mode: 0o600 });
  server.addProductKey(PRODUCT_KEY, secret);

  const records = new RecordsFileWriter(recordsFile, () => ({
    writtenAt: new Date().toISOString(),
    devices: server.allRecords(),
    deployments: server.deployments(),
  }));
  server.onRecordsChange(() => records.changed());
  const printer = new ActivityPrinter((identifier) => server.records(identifier));
  server.onActivity((entry) => {
    const line = printer.line(entry);
    if (line) process.stdout.write(`${line}\n`);
  });

  const deployment =
    options.update && firmware[0]
      ? server.createDeployment({ firmwareId: firmware[0].id, devices: 'all' })
      : undefined;
  records.flush();

  const common = {
    caFile: server.ca.certFile,
    fwupPath: fakeFwupPath,
    signingKeys: keys.length > 0,
    slowDownload: true,
  };
  const configs = [
    {
      file: join(dir, 'device.toml'),
      identifier: mtlsDevice,
      how: 'mTLS',
      text: deviceConfig({
        ...common,
        uri: server.mtlsUrl,
        identifier: mtlsDevice,
        deviceDir: join(dir, mtlsDevice),
        auth: { method: 'mtls', certFile: certificate.certFile, keyFile: certificate.keyFile },
      }),
    },
    {
      file: join(dir, 'device-shared-secret.toml'),
      identifier: secretDevice,
      how: 'shared secret',
      text: deviceConfig({
        ...common,
        uri: server.sharedSecretUrl,
        identifier: secretDevice,
        deviceDir: join(dir, secretDevice),
        auth: { method: 'shared_secret', key: PRODUCT_KEY, secretFile },
      }),
    },
  ];
  for (const config of configs) writeFileSync(config.file, config.text, { mode: 0o600 });

  const commands = daemonCommands(cloneRoot());
  const exampleNote = options.firmware[0] === EXAMPLE_FIRMWARE ? ': the bundled example' : '';
  process.stdout.write(
    [
      'fake NervesHub listening',
      `  device endpoint:       ${server.deviceEndpointUrl} (either path takes a certificate or a shared secret)`,
      `  mTLS device socket:    ${server.mtlsUrl}`,
      `  shared-secret socket:  ${server.sharedSecretUrl}`,
      `  firmware host:         ${server.url}/firmware/`,
      `  server CA:             ${server.ca.certFile}`,
      ...firmware.map(
        (f) =>
          `  firmware ${f.meta.uuid} (${f.meta.product} ${f.meta.version}, ${f.size} bytes)${exampleNote}, ${shownPath(f.path)}`,
      ),
      ...options.publicKeys.map((file) => `  signing key ${shownPath(file)} (sent on join)`),
      ...(deployment ? [`  deployment ${deployment.id}: ${firmware[0]!.meta.version} for every device`] : []),
      `  product key ${PRODUCT_KEY} for shared-secret devices (its secret: ${secretFile})`,
      '',
      ...configs.map((config) => `device config for ${config.identifier} (${config.how}): ${config.file}`),
      '',
      commands.cwd
        ? `run the daemon at the root of this clone (${commands.cwd}), after pnpm install and pnpm build:`
        : 'run the daemon:',
      ...configs.map((config) => `  ${commands.run(config.file)}`),
      ...(deployment
        ? [
            `each run updates to ${firmware[0]!.meta.version}, runs the reboot command (an echo) and exits. Nothing really reboots, so`,
            "a device reports 1.0.0 again next time; after 3 runs the deployment's failure threshold holds it back, as",
            'NervesHub would (restart this server to start over)',
          ]
        : []),
      '',
      `events are appended to ${eventsFile}`,
      `device pages are kept in ${recordsFile} (${selfCommand(commands.cwd)} records --dir ${options.dir})`,
      '',
    ].join('\n'),
  );

  const stop = async () => {
    await server.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

/** This CLI as the user can type it: from a clone, the script (no bin is linked at the root). */
function selfCommand(cloneRoot: string | undefined): string {
  const script = process.argv[1];
  return cloneRoot && script ? `node ${shownPath(script)}` : 'nerves-hub-test-server';
}

/** A path as the user would type it from here, when that is shorter. */
function shownPath(path: string): string {
  const fromHere = relative(process.cwd(), path);
  return fromHere.length < path.length && !fromHere.startsWith('../..') ? fromHere : path;
}

function port(flag: string, value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0 || number > 65_535) {
    throw new CliError(`${flag} ${value}: expected a port number from 0 to 65535 (0 picks a free one)`);
  }
  return number;
}

function fail(message: string, exitCode: number): void {
  process.stderr.write(`nerves-hub-test-server: ${message}\n`);
  process.exitCode = exitCode;
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof CliError) fail(error.message, 1);
  else fail((error as Error)?.stack ?? String(error), 1);
});
