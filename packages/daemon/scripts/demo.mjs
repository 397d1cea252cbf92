// pnpm demo: a whole update cycle on this machine. It starts the test-server (a fake NervesHub) with
// fresh certificates and a deployment of a real signed .fw file, runs the bundled daemon against it, and
// shows progress, the statuses the server receives, the records NervesHub keeps about the device, one
// offer the device's update hook defers, the reboot the daemon would do, and the success NervesHub records
// when the device comes back on the new firmware. Everything lives in a temporary folder that is removed at
// the end; nothing is left running.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  deviceConfig,
  fakeFwupPath,
  firmwareEnvironment,
  startTestServer,
} from '@nerves-hub-link/test-server';
import { smallFixtures } from '@nerves-hub-link/test-server/fixtures';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const bundle = here('../dist/nerves-hub-link.mjs');
// Signed firmware and the public key that checks it: NervesHub sends the organization's signing keys to a
// device that joins without keys of its own, and the daemon refuses firmware it cannot verify.
const firmwareFile = smallFixtures.signed;
const publicKey = readFileSync(smallFixtures.publicKey, 'utf8').trim();
const IDENTIFIER = 'demo-device-0001';
const RUNNING_UUID = '0a6f1b4e-0000-4000-8000-000000000001';

const say = (text) => process.stdout.write(`\x1b[1m[demo]\x1b[0m ${text}\n`);

if (!existsSync(bundle)) {
  say(`${bundle} is missing: run pnpm build first`);
  process.exit(1);
}

const fwupOnPath = spawnSync('fwup', ['--version'], { encoding: 'utf8' });
const fwupPath = fwupOnPath.status === 0 ? 'fwup' : fakeFwupPath;
say(
  fwupPath === 'fwup'
    ? `using the real fwup ${fwupOnPath.stdout.trim()} found on PATH`
    : 'fwup is not installed here: using the fake fwup of the test suite (same CLI contract, same output bytes)',
);

const dir = join(tmpdir(), `nerves-hub-link-demo-${process.pid}`);
mkdirSync(dir, { recursive: true });
let server;
let daemon;
const started = Date.now();
try {
  // The orchestrator's backup run every second instead of every two minutes, so the deferred offer comes back soon.
  server = await startTestServer({ dir: join(dir, 'server'), orchestratorIntervalMs: 1_000 });
  server.addSigningKey(publicKey);
  const device = await server.issueDeviceCertificate(IDENTIFIER);
  const firmware = await server.addFirmware(firmwareFile);
  say(`test-server up: devices at ${server.mtlsUrl}, firmware host at ${server.url}`);
  say(`serving firmware ${firmware.meta.uuid} (${firmware.meta.version}), ${firmware.size} bytes`);

  // What fw_printenv would print on a device running firmware A.
  const disk = join(dir, 'disk.img');
  const envFile = join(dir, 'uboot.env');
  writeFileSync(envFile, firmwareEnvironment({ devpath: disk, uuid: RUNNING_UUID }));
  const configFile = join(dir, 'config.toml');
  const busyOnce = join(dir, 'busy-once');
  const config = deviceConfig({
    uri: server.mtlsUrl,
    deviceDir: dir,
    identifier: IDENTIFIER,
    auth: { method: 'mtls', certFile: device.certFile, keyFile: device.keyFile },
    caFile: server.ca.certFile,
    fwupPath,
    signingKeys: true,
    metadataFile: envFile,
    settings: {
      // The application says "not now" to the first offer, as a device busy with its real work would.
      hooks: {
        update_available: [
          'sh',
          '-c',
          `if [ -e ${busyOnce} ]; then echo apply; else touch ${busyOnce}; echo 'reschedule 2000 the demo application is busy for 2 s'; fi`,
        ],
      },
    },
  });
  writeFileSync(configFile, config, { mode: 0o600 });
  say(`device config written to ${configFile}:`);
  process.stdout.write(`${config.replace(/^(?=.)/gm, '    ')}\n`);

  server.onDeviceEvent?.(IDENTIFIER, (event, payload) => {
    if (event === 'status_update') say(`server received status_update ${JSON.stringify(payload)}`);
    if (payload?.status === 'rescheduled') {
      say(
        'the update hook deferred the offer: NervesHub blocks the device until then and offers it again after',
      );
    }
  });
  daemon = spawn(process.execPath, [bundle, 'run', '--config', configFile], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise((resolve) => daemon.on('exit', (code, signal) => resolve({ code, signal })));

  await server.waitForJoin(IDENTIFIER, { timeoutMs: 20_000 });
  say('device joined; deploying the firmware to it');
  server.createDeployment({ firmwareId: firmware.id, devices: [IDENTIFIER] });

  let timer;
  const result = await Promise.race([
    exited,
    new Promise((resolve) => {
      timer = setTimeout(() => resolve({ timeout: true }), 60_000);
    }),
  ]);
  // Left running, the timer would keep this process alive for the rest of the minute.
  clearTimeout(timer);
  if (result.timeout) throw new Error('the daemon did not finish the update within 60 s');
  if (result.code !== 0) throw new Error(`the daemon exited with ${result.code ?? result.signal}`);

  const statuses = server
    .device(IDENTIFIER)
    .events.filter((event) => event.event === 'status_update')
    .map((event) => event.payload.status);
  const written = readFileSync(disk);
  const payloadHash = createHash('sha256').update(written).digest('hex').slice(0, 16);
  say(`statuses the server saw: ${statuses.join(' → ')}`);
  say(`${disk}: ${written.length} bytes written by fwup (sha256 ${payloadHash}…)`);
  say(`NervesHub's record of the device now: ${describePage(server.records(IDENTIFIER))}`);

  // The device boots the new firmware: its bootloader environment names the new uuid, and the next join tells
  // NervesHub, which only then records the update as successful.
  writeFileSync(
    envFile,
    firmwareEnvironment({ devpath: disk, uuid: firmware.meta.uuid, version: firmware.meta.version }),
  );
  say('rebooted into the new firmware; starting the daemon again');
  daemon = spawn(process.execPath, [bundle, 'run', '--config', configFile], {
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  const page = await server.waitForRecords(
    IDENTIFIER,
    (each) => each.firmware?.uuid === firmware.meta.uuid && each.networkInterface !== null,
    {
      timeoutMs: 20_000,
    },
  );
  say(`NervesHub's record after the join: ${describePage(page)}`);
  say(`update cycle complete in ${((Date.now() - started) / 1000).toFixed(1)} s`);
} catch (error) {
  say(`failed: ${error.message}`);
  if (server) say(`NervesHub's record: ${describePage(server.records(IDENTIFIER))}`);
  process.exitCode = 1;
} finally {
  if (daemon && daemon.exitCode === null && daemon.signalCode === null) {
    // Wait for it to leave: it writes its state file on the way out.
    const gone = new Promise((resolve) => daemon.once('exit', resolve));
    daemon.kill('SIGTERM');
    await gone;
  }
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
}

/** One line of what the NervesHub device page would show. */
function describePage(page) {
  if (!page) return 'no record';
  const inflight = page.inflightUpdate
    ? `in-flight update ${page.inflightUpdate.firmwareUuid?.slice(0, 8) ?? '(empty)'}… ${page.inflightUpdate.status}`
    : 'no update in flight';
  const blocked = page.inPenaltyBox ? `updates blocked until ${page.updatesBlockedUntil}` : 'not blocked';
  return [
    `firmware ${page.firmware?.uuid.slice(0, 8) ?? '?'}… ${page.firmware?.version ?? ''}`.trim(),
    inflight,
    `${page.updateAttempts.length} update attempt(s)`,
    blocked,
    `network interface ${page.networkInterface ?? 'not reported'}`,
  ].join(', ');
}
