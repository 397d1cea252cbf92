// A written firmware waits for its reboot across restarts of the daemon: with reboot_policy = "never", v2 is
// written, the daemon restarts (systemctl restart, a crash), and NervesHub pushes v3. v3 must not be downloaded
// nor written (on an A/B layout it would overwrite the slot the next boot starts), NervesHub records why, and
// the status file still shows v2 waiting. Once the device runs v2 the record is gone. The daemon runs in the test
// process (support/in-process.ts); a restart is a new Daemon on the same data_dir.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { abFixtures } from '@nerves-hub-link/test-server/fixtures';
import { describe, expect, it } from 'vitest';
import type { DaemonState } from '../src/local/state-file.js';
import { type Device, RUNNING_UUID, statuses, useTestServer } from './support/harness.js';
import { runInProcess } from './support/in-process.js';
import { startJoinedDevice } from './support/joined-device.js';

const e2e = useTestServer('daemon-written-', ['small-signed.fw']);

const stateOf = (device: Device) =>
  JSON.parse(readFileSync(join(device.dataDir, 'status.json'), 'utf8')) as DaemonState;
const applies = (device: Device) => device.fwupRuns().filter((argv) => argv[0] === '-a').length;

function bootInto(device: Device, uuid: string): void {
  writeFileSync(device.envFile, readFileSync(device.envFile, 'utf8').replace(RUNNING_UUID, uuid));
}

describe('a written firmware across restarts of the daemon', () => {
  it('after a restart another offer is not written over it, and gets no status; the status still shows it', async () => {
    const v2 = e2e.firmware('small-signed.fw');
    // Another firmware (of another device type, which does not matter: it must never be downloaded).
    const v3 = await e2e.server.addFirmware(abFixtures.v2Firmware);
    expect(v3.meta.uuid).not.toBe(v2.meta.uuid);

    const { device, daemon: first } = await startJoinedDevice(e2e, 'written-restart', {
      settings: { updates: { reboot_policy: 'never' } },
    });
    e2e.server.sendUpdate(device.identifier, v2.id);
    await first.waitForOutput(/not rebooting \(updates\.reboot_policy = "never"\)/, 20_000);
    expect(applies(device)).toBe(1);
    first.stop();
    expect((await first.waitForExit()).code).toBe(0);

    // The same boot: the daemon starts again and still waits for the reboot into v2.
    const second = await runInProcess(device);
    const rejoin = await e2e.server.waitForJoin(device.identifier, { count: 2 });
    // As before the restart, the join names it, so NervesHub keeps its record.
    expect(rejoin.currently_downloading_uuid).toBe(v2.meta.uuid);
    expect(e2e.server.records(device.identifier)?.inflightUpdate).toMatchObject({
      firmwareUuid: v2.meta.uuid,
      status: 'completed',
    });
    await second.waitForOutput(/not rebooting \(updates\.reboot_policy = "never"\)/);
    const state = stateOf(device);
    expect(state.update).toMatchObject({ uuid: v2.meta.uuid, stage: 'awaiting-reboot' });
    expect(state.reboot).toEqual({ reason: 'the new firmware is written', at: null });

    const requestsBefore = e2e.server.firmwareRequests.filter((request) => request.id === v3.id).length;
    // NervesHub refuses a push while the record is there; once it expires (30 minutes unchanged), the daemon
    // refuses the offer itself.
    expect(e2e.server.sendUpdate(device.identifier, v3.id)).toBe(false);
    e2e.server.advanceClock(31 * 60_000);
    expect(e2e.server.records(device.identifier)?.inflightUpdate).toBeNull();
    const statusesBefore = statuses(e2e.server, device.identifier);
    expect(e2e.server.sendUpdate(device.identifier, v3.id)).toBe(true);
    await second.waitForOutput(
      new RegExp(
        `update ${v3.meta.uuid} not answered: firmware ${v2.meta.uuid} is written and runs after the next reboot`,
      ),
    );
    // No status: NervesHub counts no attempt, and a deployment's device would not go to the penalty box.
    expect(statuses(e2e.server, device.identifier)).toEqual(statusesBefore);
    const page = e2e.server.records(device.identifier)!;
    expect(page.updateAttempts).toHaveLength(1);
    expect(page.inPenaltyBox).toBe(false);
    expect(e2e.server.firmwareRequests.filter((request) => request.id === v3.id)).toHaveLength(
      requestsBefore,
    );
    expect(applies(device)).toBe(1);
    expect(stateOf(device).update).toMatchObject({ uuid: v2.meta.uuid, stage: 'awaiting-reboot' });
    second.stop();
    expect((await second.waitForExit()).code).toBe(0);

    // The reboot came: the device runs v2, and nothing waits any more.
    bootInto(device, v2.meta.uuid);
    const third = await runInProcess(device);
    await e2e.server.waitForRecords(device.identifier, (each) => each.firmware?.uuid === v2.meta.uuid);
    await third.waitForOutput(/joined the device channel/);
    expect(existsSync(join(device.dataDir, 'written-firmware.json'))).toBe(false);
    expect(stateOf(device).update).toBeNull();
    expect(stateOf(device).reboot).toBeNull();
    third.stop();
    expect((await third.waitForExit()).code).toBe(0);
  }, 60_000);
});
