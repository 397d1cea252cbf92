/**
 * `nerves-hub-test-server`: a fake NervesHub on this machine, for trying the daemon by hand. Prints a device
 * config that works against it, then one line per thing a device does; keeps DIR/records.json (the device pages)
 * current. `nerves-hub-test-server records` prints that file. Ctrl-C stops it.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ActivityPrinter } from './cli/activity-printer.js';
import { deviceConfig } from './cli/device-config.js';
import { formatRecords, RecordsFileWriter, readRecordsFile } from './cli/records-file.js';
import { fakeFwupPath } from './fake-fwup-path.js';
import { startTestServer } from './server.js';

const HELP = `Usage: nerves-hub-test-server [options] [firmware.fw ...]
       nerves-hub-test-server records [--dir DIR]

Starts a fake NervesHub on 127.0.0.1 and prints a device config for nerves-hub-link, then one line per
connection, join, status, progress milestone and records change. "records" prints DIR/records.json.

Options:
  --dir DIR            where certificates, events.jsonl and records.json go (default: ./nerves-hub-test-server)
  --port N             HTTPS port: shared-secret socket and firmware host (default: ephemeral)
  --mtls-port N        mTLS device socket port (default: ephemeral)
  --identifier ID      the device to issue a certificate for (default: test-device-0001)
  --update             a deployment of the first firmware for every device: devices that join are offered it
  --public-key FILE    a firmware signing key (fwup .pub file), sent to devices when they join; repeatable.
                       Without one the printed config allows unsigned firmware.
  -h, --help           this text
`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    dir: { type: 'string', default: 'nerves-hub-test-server' },
    port: { type: 'string', default: '0' },
    'mtls-port': { type: 'string', default: '0' },
    identifier: { type: 'string', default: 'test-device-0001' },
    update: { type: 'boolean', default: false },
    'public-key': { type: 'string', multiple: true, default: [] },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}

const dir = resolve(values.dir);
const recordsFile = join(dir, 'records.json');

if (positionals[0] === 'records') {
  if (!existsSync(recordsFile)) {
    process.stderr.write(
      `no records yet: ${recordsFile} does not exist (start the server with --dir ${values.dir})\n`,
    );
    process.exit(1);
  }
  process.stdout.write(formatRecords(readRecordsFile(recordsFile)));
  process.exit(0);
}

mkdirSync(dir, { recursive: true });
const eventsFile = join(dir, 'events.jsonl');
const server = await startTestServer({
  dir,
  port: Number(values.port),
  mtlsPort: Number(values['mtls-port']),
  eventsFile,
});
const keyFiles = values['public-key'].map((file) => resolve(file));
for (const file of keyFiles) server.addSigningKey(readFileSync(file, 'utf8'));
const firmware = [];
for (const file of positionals) firmware.push(await server.addFirmware(resolve(file)));
const device = await server.issueDeviceCertificate(values.identifier);

const records = new RecordsFileWriter(recordsFile, () => ({
  writtenAt: new Date().toISOString(),
  devices: server.allRecords(),
  deployments: server.deployments(),
}));
server.onRecordsChange(() => records.changed());
const printer = new ActivityPrinter();
server.onActivity((entry) => {
  const line = printer.line(entry);
  if (line) process.stdout.write(`${line}\n`);
});

const deployment =
  values.update && firmware[0]
    ? server.createDeployment({ firmwareId: firmware[0].id, devices: 'all' })
    : undefined;
records.flush();

const configFile = join(dir, 'device.toml');
writeFileSync(
  configFile,
  deviceConfig({
    uri: server.mtlsUrl,
    dir,
    identifier: values.identifier,
    certFile: device.certFile,
    keyFile: device.keyFile,
    caFile: server.ca.certFile,
    fwupPath: fakeFwupPath,
    devicePath: join(dir, 'device-disk.img'),
    signingKeys: keyFiles.length > 0,
  }),
  { mode: 0o600 },
);

process.stdout.write(
  [
    `fake NervesHub listening`,
    `  mTLS device socket:    ${server.mtlsUrl}`,
    `  shared-secret socket:  ${server.sharedSecretUrl}`,
    `  firmware host:         ${server.url}/firmware/`,
    `  server CA:             ${server.ca.certFile}`,
    ...firmware.map(
      (f) => `  firmware ${f.meta.uuid} (${f.meta.product} ${f.meta.version}, ${f.size} bytes)`,
    ),
    ...keyFiles.map((file) => `  signing key ${file} (sent on join)`),
    ...(deployment ? [`  deployment ${deployment.id}: ${firmware[0]!.meta.version} for every device`] : []),
    '',
    `device config for ${values.identifier}: ${configFile}`,
    `  nerves-hub-link run --config ${configFile}`,
    `events are appended to ${eventsFile}`,
    `device pages are kept in ${recordsFile} (nerves-hub-test-server records --dir ${values.dir})`,
    '',
  ].join('\n'),
);

const stop = async () => {
  await server.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
