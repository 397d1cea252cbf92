// pnpm demo: a whole update cycle on this machine, on an A/B device. It starts the test-server (a fake NervesHub)
// with fresh certificates and a deployment of a real signed .fw file, makes a disk image laid out as a Nerves-style
// A/B device (two slots and a U-Boot environment) running version 1.0.0, runs the bundled daemon against it, and
// shows progress, the statuses the server receives, one offer the device's update hook defers, the reboot the
// daemon would do, the bootloader starting the new slot, the daemon validating the new firmware once it has joined
// and passed its health check, and what NervesHub records on the device page before and after. Everything lives in
// a temporary folder that is removed at the end; nothing is left running.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  deviceConfig,
  fakeFwPrintenvPath,
  fakeFwupPath,
  startTestServer,
} from '@nerves-hub-link/test-server';
import { abFixtures } from '@nerves-hub-link/test-server/fixtures';
import { createAbDevice } from '@nerves-hub-link/test-server/testing';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const bundle = here('../dist/nerves-hub-link.mjs');
// The A/B fixtures: signed archives of versions 1.0.0 and 2.0.0, their key, and the ops.fw with the validate and
// revert tasks a device keeps on its root filesystem. NervesHub sends the organization's signing key to a device
// that joins without keys of its own, and the daemon refuses firmware it cannot verify.
const publicKey = readFileSync(abFixtures.publicKey, 'utf8').trim();
const IDENTIFIER = 'demo-device-0001';

// Bold only on a terminal, and not under NO_COLOR (no-color.org): piped or redirected, the text is plain.
const bold = process.stdout.isTTY === true && !process.env.NO_COLOR;
const say = (text) => process.stdout.write(`${bold ? '\x1b[1m[demo]\x1b[0m' : '[demo]'} ${text}\n`);

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
  const firmware = await server.addFirmware(abFixtures.v2Firmware);
  say(`test-server up: devices at ${server.mtlsUrl}, firmware host at ${server.url}`);
  say(`serving firmware ${firmware.meta.uuid} (${firmware.meta.version}), ${firmware.size} bytes`);

  // The device as it leaves the factory: slot a holds 1.0.0, validated; the bootloader counts boots of an
  // unvalidated slot. Its environment is read with fw_printenv (this package's stand-in where libubootenv-tool is
  // not installed).
  const ab = await createAbDevice(dir, { fwupPath, envTools: 'auto' });
  if (ab.printenv === fakeFwPrintenvPath) {
    say(
      "fw_printenv is not installed here: using the test suite's stand-in (the output of libubootenv-tool 0.3.2)",
    );
  }
  const factory = await ab.env();
  say(
    `device flashed at the factory: slot ${factory.nerves_fw_active} runs ${factory['a.nerves_fw_version']}, ` +
      `validated (upgrade_available=${factory.upgrade_available})`,
  );
  const ops = (task) => [fwupPath, '-a', '-d', ab.disk, '-i', abFixtures.opsFirmware, '-t', task, '-q', '-U'];
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
    metadataCommand: [ab.printenv, '-c', ab.envConfig],
    settings: {
      fwup: { devpath: ab.disk },
      // The application says "not now" to the first offer, as a device busy with its real work would.
      hooks: {
        update_available: [
          'sh',
          '-c',
          `if [ -e ${busyOnce} ]; then echo apply; else touch ${busyOnce}; echo 'reschedule 2000 the demo application is busy for 2 s'; fi`,
        ],
      },
      // After the reboot: validated once the device has joined NervesHub and its health check passes, else
      // rolled back after 5 minutes.
      validation: {
        command: ops('validate'),
        health_check: ['sh', '-c', 'echo the demo application answers'],
        deadline: '5m',
        revert_command: ops('revert'),
      },
    },
  });
  writeFileSync(configFile, config, { mode: 0o600 });
  // What a device's config holds, to read (the folder is removed when the demo ends).
  say('device config written (mTLS, the update hook, a reboot command that only echoes, [validation]):');
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
  say(`statuses the server saw: ${statuses.join(' → ')}`);
  say(`NervesHub's record of the device now: ${describePage(server.records(IDENTIFIER))}`);

  // The reboot: the bootloader starts the slot fwup wrote, unvalidated, counting the boot.
  const boot = await ab.boot();
  const env = await ab.env();
  say(
    `rebooted: the bootloader (emulated: U-Boot's boot count) starts slot ${boot.slot}, firmware ` +
      `${env[`${boot.slot}.nerves_fw_version`]}, not validated yet (upgrade_available=${env.upgrade_available}, ` +
      `bootcount=${boot.bootcount}); starting the daemon again`,
  );
  daemon = spawn(process.execPath, [bundle, 'run', '--config', configFile], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const page = await server.waitForRecords(
    IDENTIFIER,
    (each) => each.firmware?.uuid === firmware.meta.uuid && each.firmwareValidation === 'validated',
    { timeoutMs: 20_000 },
  );
  const after = await ab.env();
  say(
    `validated: upgrade_available=${after.upgrade_available}, ${boot.slot}.nerves_fw_validated=` +
      `${after[`${boot.slot}.nerves_fw_validated`]}; the next boot keeps slot ${boot.slot}`,
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
  say(`removed ${dir}, where everything above was written (the daemon's log names files in it)`);
}

/** One line of what the NervesHub device page would show. */
function describePage(page) {
  if (!page) return 'no record';
  const inflight = page.inflightUpdate
    ? `in-flight update ${page.inflightUpdate.firmwareUuid?.slice(0, 8) ?? '(empty)'}… ${page.inflightUpdate.status}`
    : 'no update in flight';
  const blocked = page.inPenaltyBox ? `updates blocked until ${page.updatesBlockedUntil}` : 'not blocked';
  const validation = page.firmwareStatus.length > 0 ? page.firmwareStatus.join(', ') : 'validation unknown';
  return [
    `firmware ${page.firmware?.uuid.slice(0, 8) ?? '?'}… ${page.firmware?.version ?? ''} (${validation})`.trim(),
    inflight,
    `${page.updateAttempts.length} update attempt(s)`,
    blocked,
    `network interface: ${page.networkInterface ?? 'not reported'}`,
  ].join(', ');
}
