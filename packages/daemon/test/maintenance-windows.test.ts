// Maintenance windows across a clock change: the daemon on a clock set to the week before Europe/Berlin springs
// forward, with a window that falls in the skipped hour. NervesHub must record a reschedule until the next window
// that exists (not a failure and its penalty), and `check` must say when that is. The daemon runs in the test
// process on a clock that starts then (support/in-process.ts); `check` is the binary on a shifted wall clock.
import { fileURLToPath } from 'node:url';
import { ManualClock } from '@nerves-hub-link/test-server/testing';
import { describe, expect, it } from 'vitest';
import { createDevice, startDaemon, statuses, useTestServer } from './support/harness.js';
import { startJoinedDevice } from './support/joined-device.js';

const e2e = useTestServer('daemon-windows-', ['small-signed.fw']);
const SHIFT_CLOCK = fileURLToPath(new URL('./support/shift-clock.mjs', import.meta.url));
// Monday 2027-03-22 12:00 UTC. Berlin skips 02:00-03:00 on Sunday 2027-03-28; the next Sunday 02:00 is 2027-04-04.
const MONDAY_BEFORE = Date.UTC(2027, 2, 22, 12);
const NEXT_OPENING = Date.UTC(2027, 3, 4, 0);
const WINDOW = { updates: { window: ['Sun 02:00-03:00'], timezone: 'Europe/Berlin' } };

const onShiftedClock = () => ({
  NODE_OPTIONS: `--import=${SHIFT_CLOCK}`,
  CLOCK_SHIFT_MS: String(MONDAY_BEFORE - Date.now()),
});

describe('a window in the hour a clock change skips', () => {
  it('the offer is rescheduled until the next window that exists; NervesHub blocks until then, no failure', async () => {
    const { device, daemon } = await startJoinedDevice(e2e, 'window-in-gap', {
      clock: new ManualClock({ startAt: MONDAY_BEFORE }),
      settings: WINDOW,
    });
    e2e.server.createDeployment({
      firmwareId: e2e.firmware('small-signed.fw').id,
      devices: [device.identifier],
    });
    const page = await e2e.server.waitForRecords(device.identifier, (each) =>
      each.history.some((entry) => entry.event === 'rescheduled'),
    );
    expect(statuses(e2e.server, device.identifier)).toEqual(['received', 'rescheduled']);
    const answer = e2e.server
      .device(device.identifier)
      .events.find((event) => event.payload?.status === 'rescheduled')!;
    expect(answer.payload.reason).toBe(
      'outside the maintenance window "Sun 02:00-03:00" (Europe/Berlin); it opens at 2027-04-04 02:00',
    );
    // NervesHub blocks the device until the window, as delay_for says: 12.5 days from the device's clock.
    const delay = answer.payload.delay_for as number;
    expect(Math.abs(delay - (NEXT_OPENING - MONDAY_BEFORE))).toBeLessThan(6 * 60_000);
    expect(page.history.some((entry) => entry.event === 'failed')).toBe(false);
    expect(page.inPenaltyBox).toBe(true);
    expect(Date.parse(page.updatesBlockedUntil!) - e2e.server.now()).toBeGreaterThan(12 * 86_400_000);
    expect(device.fwupRuns()).toEqual([]);
    daemon.stop();
    expect((await daemon.waitForExit()).code).toBe(0);
  });

  it('check says when the next window opens and exits 0', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'window-in-gap-check', { settings: WINDOW });
    const check = startDaemon(['check', '--config', device.configFile], onShiftedClock());
    expect((await check.waitForExit()).code).toBe(0);
    expect(check.output()).toContain(
      'ok   updates: window "Sun 02:00-03:00" (Europe/Berlin), opens 2027-04-04 02:00, spread 5 min; reboot_policy immediate',
    );
  });
});
