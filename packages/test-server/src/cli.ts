/**
 * `nerves-hub-test-server`: a fake NervesHub on this machine, for trying the daemon by hand. Prints a device
 * config that works against it, then logs what devices do; Ctrl-C stops it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fakeFwupPath } from './fake-fwup-path.js';
import { startTestServer } from './server.js';

const HELP = `Usage: nerves-hub-test-server [options] [firmware.fw ...]

Starts a fake NervesHub on 127.0.0.1 and prints a device config for nerves-hub-link.

Options:
  --dir DIR            where certificates and the events log go (default: ./nerves-hub-test-server)
  --port N             HTTPS port: shared-secret socket and firmware host (default: ephemeral)
  --mtls-port N        mTLS device socket port (default: ephemeral)
  --identifier ID      the device to issue a certificate for (default: test-device-0001)
  --update             push an update of the first firmware to every device that joins
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
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}

const dir = resolve(values.dir);
mkdirSync(dir, { recursive: true });
const eventsFile = join(dir, 'events.jsonl');
const server = await startTestServer({
  dir,
  port: Number(values.port),
  mtlsPort: Number(values['mtls-port']),
  eventsFile,
});
const firmware = [];
for (const file of positionals) firmware.push(await server.addFirmware(resolve(file)));
const device = await server.issueDeviceCertificate(values.identifier);
if (values.update && firmware[0]) {
  const id = firmware[0].id;
  setInterval(() => {
    for (const record of server.devices()) {
      if (
        record.connected &&
        record.joins.length > 0 &&
        !record.events.some((e) => e.event === 'status_update')
      ) {
        server.sendUpdate(record.identifier, id);
      }
    }
  }, 2_000).unref();
}

const configFile = join(dir, 'device.toml');
writeFileSync(
  configFile,
  [
    `uri = "${server.mtlsUrl}"`,
    `data_dir = "${join(dir, 'device-data')}"`,
    '',
    '[identity]',
    `serial = "${values.identifier}"`,
    '',
    '[auth]',
    'method = "mtls"',
    `cert_file = "${device.certFile}"`,
    `key_file = "${device.keyFile}"`,
    `ca_file = "${server.ca.certFile}"`,
    '',
    '[fwup]',
    `path = "${fakeFwupPath}"`,
    `devpath = "${join(dir, 'device-disk.img')}"`,
    '',
    '[metadata.values]',
    'nerves_fw_uuid = "00000000-0000-4000-8000-000000000000"',
    'nerves_fw_product = "demo"',
    'nerves_fw_version = "1.0.0"',
    'nerves_fw_platform = "host"',
    'nerves_fw_architecture = "x86_64"',
    '',
    '[commands]',
    'reboot = ["echo", "would reboot now"]',
    '',
  ].join('\n'),
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
    '',
    `device config for ${values.identifier}: ${configFile}`,
    `  nerves-hub-link run --config ${configFile}`,
    `events are appended to ${eventsFile}`,
    '',
  ].join('\n'),
);

const stop = async () => {
  await server.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
