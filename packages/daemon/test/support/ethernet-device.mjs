// Runs inside a private network namespace whose 127.0.0.1 sits on an interface named eth0 (see
// server-view.test.ts): a test-server with a deployment group for ethernet devices only, and the bundled daemon
// as a device connected over that interface. Prints the device page and the device's events as one JSON line.
//
//   node ethernet-device.mjs <bundle> <scratch dir>
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  deviceConfig,
  fakeFwupPath,
  firmwareEnvironment,
  startTestServer,
} from '@nerves-hub-link/test-server';
import { smallFixtures } from '@nerves-hub-link/test-server/fixtures';

const [bundle, root] = process.argv.slice(2);
const identifier = 'ethernet-device';
// The backup run of the orchestrator brings the offer once the device has said which interface it uses.
const server = await startTestServer({ orchestratorIntervalMs: 300 });
const timeout = setTimeout(() => {
  process.stderr.write('ethernet-device: no result within 30 s\n');
  process.exit(2);
}, 30_000);
try {
  server.addSigningKey(readFileSync(smallFixtures.publicKey, 'utf8').trim());
  const firmware = await server.addFirmware(smallFixtures.signed);
  const cert = await server.issueDeviceCertificate(identifier);
  mkdirSync(root, { recursive: true });
  const envFile = join(root, 'uboot.env');
  writeFileSync(
    envFile,
    firmwareEnvironment({ devpath: join(root, 'disk.img'), uuid: '0a6f1b4e-0000-4000-8000-000000000001' }),
  );
  const configFile = join(root, 'config.toml');
  writeFileSync(
    configFile,
    deviceConfig({
      uri: server.mtlsUrl,
      deviceDir: root,
      identifier,
      auth: { method: 'mtls', certFile: cert.certFile, keyFile: cert.keyFile },
      caFile: server.ca.certFile,
      fwupPath: fakeFwupPath,
      signingKeys: true,
      metadataFile: envFile,
    }),
    { mode: 0o600 },
  );
  server.createDeployment({
    firmwareId: firmware.id,
    devices: [identifier],
    releaseNetworkInterfaces: ['ethernet'],
  });
  const daemon = spawn(process.execPath, [bundle, 'run', '--config', configFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  daemon.stdout.on('data', (chunk) => (output += chunk));
  daemon.stderr.on('data', (chunk) => (output += chunk));
  const [code] = await once(daemon, 'exit');
  process.stdout.write(
    `${JSON.stringify({
      code,
      output,
      page: server.records(identifier),
      events: server.device(identifier).events.map(({ event, payload }) => ({ event, payload })),
    })}\n`,
  );
} finally {
  clearTimeout(timeout);
  await server.close();
}
