// The `size` of an offer, as NervesHub records what the device does with it. A size that is not a size (a
// string, a negative number, a fraction) fails at once with the reason, before any request; no size (null, as
// for a firmware uploaded before NervesHub stored sizes) is a normal update, bounded by Content-Length. The
// daemon runs in the test process (support/in-process.ts).
import { describe, expect, it } from 'vitest';
import { type Device, statuses, useTestServer } from './support/harness.js';
import { startJoinedDevice } from './support/joined-device.js';

const e2e = useTestServer('daemon-offer-size-', ['small-signed.fw']);

function offer(size: unknown, uuid: string) {
  const payload = e2e.server.firmwareHost.updatePayload(e2e.server.url, e2e.firmware('small-signed.fw').id);
  return { ...payload, size, firmware_meta: { ...payload.firmware_meta, uuid } };
}

const failures = (device: Device) =>
  e2e.server
    .device(device.identifier)
    .events.filter((event) => event.event === 'status_update' && event.payload?.status === 'failed');

describe('the size of an offer', () => {
  it('not a size: failed at once with the reason, nothing requested; no size: applied', async () => {
    const { device, daemon } = await startJoinedDevice(e2e, 'offer-size');
    const requests = e2e.server.firmwareRequests.length;
    const cases: Array<[unknown, string]> = [
      ['8391990', '"8391990"'],
      [-1, '-1'],
      [12.5, '12.5'],
    ];
    for (const [index, [size, shown]] of cases.entries()) {
      const attempts = e2e.server.records(device.identifier)?.updateAttempts.length ?? 0;
      e2e.server.push(
        device.identifier,
        'update',
        offer(size, `b0000000-0000-4000-8000-00000000000${index}`),
      );
      await e2e.server.waitForEvent(device.identifier, () => failures(device).length === index + 1);
      const reason = `Download failed : invalid size: the update announced a size of ${shown}, not a whole number of bytes; NervesHub sends one, or none`;
      expect(failures(device).at(-1)?.payload.reason).toBe(reason);
      const page = e2e.server.records(device.identifier)!;
      expect(page.history.filter((entry) => entry.event === 'failed').at(-1)).toMatchObject({ reason });
      expect(page.updateAttempts).toHaveLength(attempts + 1);
      expect(page.inflightUpdate).toBeNull();
    }
    expect(e2e.server.firmwareRequests.length).toBe(requests);
    expect(daemon.output()).toMatch(/failed: Download failed : invalid size: .* code=FW_SIZE_INVALID/);

    // null: the firmware's size is not known to the server; Content-Length bounds the download.
    e2e.server.push(device.identifier, 'update', offer(null, e2e.firmware('small-signed.fw').meta.uuid));
    expect((await daemon.waitForExit()).code).toBe(0);
    expect(statuses(e2e.server, device.identifier).slice(-3)).toEqual(['received', 'started', 'completed']);
    expect(e2e.server.records(device.identifier)?.inflightUpdate).toMatchObject({ status: 'completed' });
    expect(device.fwupRuns().filter((argv) => argv[0] === '-a')).toHaveLength(1);
  }, 60_000);
});
