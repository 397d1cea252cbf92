// What NervesHub records about a device after each kind of update the daemon goes through: the in-flight record,
// update attempts, the penalty box and its reason, the network interface. The test-server keeps these records the
// way nerves_hub_web does (packages/test-server/src/hub), so these tests read the device page, not only frames.
// The daemon runs in the test process (support/in-process.ts); the ethernet device runs the bundle.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  BUNDLE,
  type Device,
  RUNNING_UUID,
  type RunningDaemon,
  statuses,
  useTestServer,
} from './support/harness.js';
import { runInProcess } from './support/in-process.js';
import { startJoinedDevice } from './support/joined-device.js';

// Offers the orchestrator owes a device that joins go out at once (NervesHub's debounce is 3 s).
const e2e = useTestServer('daemon-server-view-', ['small-signed.fw', 'small-signed-tampered.fw'], {
  server: { orchestratorDelayMs: 50 },
});
const unkeyed = useTestServer('daemon-server-view-unkeyed-', ['small-signed.fw'], { signingKey: false });

const MINUTE = 60_000;

/** What the device runs after the reboot: the new firmware's uuid in the active slot. */
function bootInto(device: Device, uuid: string): void {
  writeFileSync(device.envFile, readFileSync(device.envFile, 'utf8').replace(RUNNING_UUID, uuid));
}

/**
 * The server's reboot request, which the daemon answers with `rebooting` on the join it has: everything the daemon
 * sent before has reached the server by then (a rejoin would come first).
 */
async function rebootAndExit(identifier: string, daemon: RunningDaemon) {
  e2e.server.push(identifier, 'reboot', {});
  expect((await daemon.waitForExit()).code).toBe(0);
  expect(e2e.server.device(identifier).events.at(-1)?.event).toBe('rebooting');
}

/** Offers the device took up: each one starts with `received`. */
const offersTo = (identifier: string) =>
  statuses(e2e.server, identifier).filter((status) => status === 'received').length;

describe('a deployment update, as NervesHub records it', () => {
  it('one attempt while it runs; success recorded when the device joins with the new firmware', async () => {
    const { device, daemon } = await startJoinedDevice(e2e, 'view-success');
    const firmware = e2e.firmware('small-signed.fw');
    const deployment = e2e.server.createDeployment({ firmwareId: firmware.id, devices: [device.identifier] });
    expect((await daemon.waitForExit()).code).toBe(0);
    const applied = e2e.server.records(device.identifier)!;
    expect(applied.inflightUpdate).toMatchObject({
      firmwareUuid: firmware.meta.uuid,
      deploymentId: deployment.id,
      status: 'completed',
    });
    expect(applied.updateAttempts).toHaveLength(1);
    expect(applied.updatesBlockedUntil).toBeNull();

    bootInto(device, firmware.meta.uuid);
    const rebooted = await runInProcess(device);
    const page = await e2e.server.waitForRecords(
      device.identifier,
      (each) => each.firmware?.uuid === firmware.meta.uuid,
    );
    expect(page.inflightUpdate).toBeNull();
    expect(page.updateAttempts).toEqual([]);
    expect(page.history).toContainEqual(
      expect.objectContaining({ event: 'firmware-updated', from: RUNNING_UUID, to: firmware.meta.uuid }),
    );
    expect(e2e.server.deployment(deployment.id)?.currentUpdatedDevices).toBe(1);
    // Up to date: nothing more to offer.
    expect(e2e.server.runOrchestrator(deployment.id)).toEqual([]);
    rebooted.stop();
    expect((await rebooted.waitForExit()).code).toBe(0);
  });

  it('a refused firmware URL (403): failed naming the status, one attempt, blocked with that reason', async () => {
    const { device, daemon } = await startJoinedDevice(e2e, 'view-refused-url');
    const firmware = e2e.firmware('small-signed.fw');
    e2e.server.createDeployment({
      firmwareId: firmware.id,
      devices: [device.identifier],
      urlOptions: { fault: { kind: 'expired' } },
    });
    const page = await e2e.server.waitForRecords(device.identifier, (each) =>
      each.history.some((entry) => entry.event === 'failed'),
    );
    expect(page.inflightUpdate).toBeNull();
    expect(page.updateAttempts).toHaveLength(1);
    expect(page.inPenaltyBox).toBe(true);
    const failed = page.history.find((entry) => entry.event === 'failed') as { reason: string };
    expect(failed.reason).toMatch(/refused the URL with HTTP 403/);
    expect(failed.reason).not.toMatch(/X-Amz|\?/);
    // No silent rejoin hoping for another offer.
    expect(daemon.clock.pending()).toEqual([]);
    await rebootAndExit(device.identifier, daemon);
    expect(e2e.server.device(device.identifier).joins).toHaveLength(1);
  });
});

describe('a manual push, as NervesHub records it', () => {
  it('that fails: one attempt, no penalty box (no deployment), and it is never offered again', async () => {
    const { device, daemon } = await startJoinedDevice(e2e, 'view-manual-fails');
    expect(e2e.server.sendUpdate(device.identifier, e2e.firmware('small-signed-tampered.fw').id)).toBe(true);
    const page = await e2e.server.waitForRecords(device.identifier, (each) =>
      each.history.some((entry) => entry.event === 'failed'),
    );
    expect(page.inflightUpdate).toBeNull();
    expect(page.updateAttempts).toHaveLength(1);
    expect(page.updatesBlockedUntil).toBeNull();
    // NervesHub turns automatic updates off for a device it pushed firmware to by hand.
    expect(page.updatesEnabled).toBe(false);
    // Neither the orchestrator nor its backup run offers anything.
    expect(e2e.server.runOrchestrator()).not.toContain(device.identifier);
    e2e.server.advanceClock(5 * MINUTE);
    expect(e2e.server.records(device.identifier)?.inflightUpdate).toBeNull();
    await rebootAndExit(device.identifier, daemon);
    expect(offersTo(device.identifier)).toBe(1);
  });
});

describe('no fwup public key, as NervesHub records it', () => {
  it('a deployment offer is refused with the reason and nothing is downloaded', async () => {
    const { device, daemon, join } = await startJoinedDevice(unkeyed, 'view-no-keys');
    expect(join.fwup_public_keys).toBe('on_connect');
    const requestsBefore = unkeyed.server.firmwareRequests.length;
    unkeyed.server.createDeployment({
      firmwareId: unkeyed.firmware('small-signed.fw').id,
      devices: [device.identifier],
    });
    // The offer waits for keys the join asked for (SERVER_KEYS_WAIT_MS), in vain.
    await daemon.runTimer('the wait for keys', (timer) => timer.delayMs === 5_000);
    const page = await unkeyed.server.waitForRecords(device.identifier, (each) =>
      each.history.some((entry) => entry.event === 'failed'),
    );
    const failed = page.history.find((entry) => entry.event === 'failed') as { reason: string };
    expect(failed.reason).toMatch(/no fwup public keys/);
    expect(failed.reason).toMatch(/fwup\.public_keys/);
    expect(page.updateAttempts).toHaveLength(1);
    expect(unkeyed.server.firmwareRequests.length).toBe(requestsBefore);
    expect(device.fwupRuns()).toEqual([]);
    daemon.stop();
    expect((await daemon.waitForExit()).code).toBe(0);
  });
});

describe('a reboot the server asks for during an update', () => {
  it('during the download: the download is dropped, no status, no fwup; the re-offer completes after the boot', async () => {
    // The first download stops after 2000 bytes and would wait there (idle_timeout_ms) far longer than the test.
    const { device, daemon } = await startJoinedDevice(e2e, 'view-reboot-download', {
      settings: { download: { idle_timeout_ms: 60_000 } },
    });
    const firmware = e2e.firmware('small-signed.fw');
    const deployment = e2e.server.createDeployment({
      firmwareId: firmware.id,
      devices: [device.identifier],
      urlOptions: { fault: { kind: 'stall', atByte: 2000 } },
    });
    await e2e.server.waitForEvent(device.identifier, (event) => event.payload?.status === 'started');
    e2e.server.push(device.identifier, 'reboot', {});
    expect((await daemon.waitForExit()).code).toBe(0);
    expect(daemon.output()).toMatch(/dropping the download/);
    expect(daemon.output()).toContain('would reboot now');
    expect(statuses(e2e.server, device.identifier)).toEqual(['received', 'started']);
    expect(device.fwupRuns()).toEqual([]);
    expect(device.downloads()).toEqual([]);
    let page = e2e.server.records(device.identifier)!;
    expect(page.inPenaltyBox).toBe(false);

    // After the reboot the join names no update: NervesHub drops the record and offers the update again, this
    // time from a host that sends it all.
    e2e.server.updateDeployment(deployment.id, { urlOptions: {} });
    const booted = await runInProcess(device);
    expect((await booted.waitForExit()).code).toBe(0);
    expect(statuses(e2e.server, device.identifier).slice(2)).toEqual(['received', 'started', 'completed']);
    page = e2e.server.records(device.identifier)!;
    expect(page.inflightUpdate?.status).toBe('completed');
    expect(page.updatesBlockedUntil).toBeNull();
    expect(page.history).toContainEqual(expect.objectContaining({ event: 'inflight-cleared' }));
  });

  it('during the signature check: fwup never starts writing after the reboot command', async () => {
    const { device, daemon } = await startJoinedDevice(e2e, 'view-reboot-verify', {
      fwupEnv: { FAKE_FWUP_DELAY_MS: '100' },
    });
    e2e.server.sendUpdate(device.identifier, e2e.firmware('small-signed.fw').id);
    await daemon.waitForOutput(/: verifying/);
    e2e.server.push(device.identifier, 'reboot', {});
    expect((await daemon.waitForExit()).code).toBe(0);
    expect(daemon.output()).toContain('would reboot now');
    // The daemon has exited, and its stop waited for the update and its children: `fwup -V` was stopped with the
    // update (it writes nothing), and `fwup -a` never ran.
    expect(device.fwupRuns().filter((argv) => argv[0] === '-a')).toEqual([]);
    expect(statuses(e2e.server, device.identifier)).not.toContain('failed');
    expect(device.downloads()).toEqual([]);
  });
});

describe('the network interface, as NervesHub records it', () => {
  it('reported after every join; `started` names it; a group for ethernet devices passes a loopback device by', async () => {
    const { device, daemon } = await startJoinedDevice(e2e, 'view-interface');
    const firmware = e2e.firmware('small-signed.fw');
    let page = await e2e.server.waitForRecords(device.identifier, (each) => each.networkInterface !== null);
    // 127.0.0.1 is on `lo`, which NervesHub files under "unknown".
    expect(page.networkInterface).toBe('unknown');
    const reports = e2e.server
      .device(device.identifier)
      .events.filter((event) => event.event === 'report_network_interface');
    expect(reports.map((event) => event.payload)).toEqual([{ interface: 'lo' }]);

    const ethernetOnly = e2e.server.createDeployment({
      firmwareId: firmware.id,
      devices: [device.identifier],
      releaseNetworkInterfaces: ['ethernet'],
    });
    expect(e2e.server.runOrchestrator(ethernetOnly.id)).toEqual([]);
    expect(e2e.server.records(device.identifier)?.inflightUpdate).toBeNull();
    expect(offersTo(device.identifier)).toBe(0);

    // Every connection reports again.
    e2e.server.kick(device.identifier);
    await daemon.runTimer('the reconnect backoff');
    await e2e.server.waitForJoin(device.identifier, { count: 2 });
    await e2e.server.waitForEvent(
      device.identifier,
      () =>
        e2e.server.device(device.identifier).events.filter((e) => e.event === 'report_network_interface')
          .length === 2,
    );

    // Any interface: offered, and `started` says which interface the download uses.
    e2e.server.updateDeployment(ethernetOnly.id, { releaseNetworkInterfaces: [] });
    expect((await daemon.waitForExit()).code).toBe(0);
    const started = e2e.server
      .device(device.identifier)
      .events.filter((event) => event.payload?.status === 'started');
    expect(started.map((event) => event.payload)).toEqual([
      { status: 'started', downloader_network_interface: 'lo' },
    ]);
    page = e2e.server.records(device.identifier)!;
    expect(page.inflightUpdate?.status).toBe('completed');
  });
});

describe('the device socket behind a redirect', () => {
  it('follows the upgrade redirect to the device socket and joins', async () => {
    const moved = e2e.server.mtlsUrl.replace('/socket/websocket', '/old/socket/websocket');
    e2e.server.redirectUpgrades({ from: '/old/socket/websocket', to: '/socket/websocket', status: 301 });
    try {
      const { device, daemon } = await startJoinedDevice(e2e, 'view-redirected', {
        settings: { uri: moved },
      });
      const page = await e2e.server.waitForRecords(device.identifier, (each) => each.connected);
      expect(page.connectionStatus).toBe('connected');
      daemon.stop();
      expect((await daemon.waitForExit()).code).toBe(0);
    } finally {
      e2e.server.redirectUpgrades(null);
    }
  });
});

/** Whether this machine lets the tests make a private network namespace with a veth pair (root, iproute2). */
function canMakeNetworkNamespace(): string | undefined {
  const probe = spawnSync(
    'unshare',
    ['-n', 'ip', 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'probe0'],
    {
      encoding: 'utf8',
    },
  );
  if (probe.error) return `unshare or ip is missing (${probe.error.message})`;
  if (probe.status !== 0) return `cannot make a network namespace here: ${probe.stderr.trim()}`;
  return undefined;
}

const namespaceProblem = canMakeNetworkNamespace();
if (namespaceProblem) console.warn(`skipping the ethernet-device test: ${namespaceProblem}`);

describe('a device on ethernet', () => {
  // A private network namespace where 127.0.0.1 sits on a veth interface named eth0, so the daemon's socket
  // really goes out over an `eth*` interface; the server and the device both run in it.
  it.skipIf(namespaceProblem !== undefined)(
    'reports eth0; the group for ethernet devices offers it the update, which completes',
    async () => {
      const script = [
        'set -e',
        'ip link add eth0 type veth peer name veth-peer',
        'ip link set lo up && ip link set eth0 up && ip link set veth-peer up',
        'ip addr del 127.0.0.1/8 dev lo && ip addr add 127.0.0.1/8 dev eth0',
        'exec "$0" "$@"',
      ].join('\n');
      const scenario = fileURLToPath(new URL('./support/ethernet-device.mjs', import.meta.url));
      const result = spawnSync(
        'unshare',
        ['-n', 'sh', '-c', script, process.execPath, scenario, BUNDLE, join(e2e.root, 'ethernet')],
        { encoding: 'utf8', timeout: 60_000 },
      );
      expect(result.status, `${result.stderr}\n${result.stdout}`).toBe(0);
      const { code, output, page, events } = JSON.parse(result.stdout.trim().split('\n').at(-1)!);
      expect(code, output).toBe(0);
      expect(events.filter((e: { event: string }) => e.event === 'report_network_interface')).toEqual([
        { event: 'report_network_interface', payload: { interface: 'eth0' } },
      ]);
      expect(page.networkInterface).toBe('ethernet');
      expect(
        events
          .filter((e: { event: string }) => e.event === 'status_update')
          .map((e: { payload: { status: string } }) => e.payload),
      ).toEqual([
        { status: 'received' },
        { status: 'started', downloader_network_interface: 'eth0' },
        { status: 'completed' },
      ]);
      expect(page.inflightUpdate.status).toBe('completed');
      expect(page.updateAttempts).toHaveLength(1);
    },
  );
});
