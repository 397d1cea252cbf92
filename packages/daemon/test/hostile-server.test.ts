// The daemon against a hostile server and firmware host: bodies that never end, a data dir that fills up, offers
// that can never succeed, strings made to forge log lines or flood them, and a burst of identify requests for a
// command that hangs. After each, the daemon reports what happened, leaves nothing behind and takes the next
// offer. The daemon runs in the test process (support/in-process.ts): the wait before another download attempt
// is over when the test moves its clock.
import { readFileSync, statfsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  canMountSmallFilesystem,
  mountSmallFilesystem,
  type RawHttpsHost,
  runningMembers,
  startRawHttpsHost,
} from '@nerves-hub-link/test-server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Device, fixture, type RunningDaemon, statuses, useTestServer } from './support/harness.js';
import type { InProcessDaemon } from './support/in-process.js';
import { startJoinedDevice } from './support/joined-device.js';
import { until } from './support/output.js';

const MiB = 1024 * 1024;
const e2e = useTestServer('daemon-hostile-', ['small-signed.fw']);

const firmwareBytes = readFileSync(fixture('small-signed.fw'));
const ok = (lines: string[]) =>
  `HTTP/1.1 200 OK\r\nConnection: close\r\n${lines.map((line) => `${line}\r\n`).join('')}\r\n`;

let host: RawHttpsHost;

beforeAll(async () => {
  // The test-server's own certificate (127.0.0.1, signed by the CA the devices trust).
  const certs = dirname(e2e.server.ca.certFile);
  host = await startRawHttpsHost(
    {
      cert: readFileSync(join(certs, 'server.crt'), 'utf8'),
      key: readFileSync(join(certs, 'server.key'), 'utf8'),
    },
    async (request, reply) => {
      if (request.path.startsWith('/endless')) {
        await reply.write(ok(['Content-Type: application/octet-stream', 'Transfer-Encoding: chunked']));
        await reply.endless(Buffer.alloc(64 * 1024, 0x5a), 'chunked');
      } else if (request.path.startsWith('/gzip')) {
        const body = gzipSync(firmwareBytes);
        await reply.write(ok(['Content-Encoding: gzip', `Content-Length: ${body.length}`]));
        await reply.write(body);
      } else {
        await reply.write('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      }
    },
  );
});
afterAll(() => host?.close());

/** The `update` NervesHub sends for small-signed.fw, with some fields changed. */
function offer(changes: Record<string, unknown> = {}, meta: Record<string, unknown> = {}) {
  const payload = e2e.server.firmwareHost.updatePayload(e2e.server.url, e2e.firmware('small-signed.fw').id);
  return { ...payload, firmware_meta: { ...payload.firmware_meta, ...meta }, ...changes };
}

const failedCount = (device: Device) =>
  statuses(e2e.server, device.identifier).filter((status) => status === 'failed').length;

/**
 * Pushes an offer, runs the `retries` waits before another download attempt, and waits for its `failed`; returns
 * the reason and the requests it caused. Also checks what NervesHub records of it: one more update attempt, the
 * failure with the same reason on the device page, no record left in flight, and no penalty box (a pushed update
 * has no deployment to block).
 */
async function offerThatFails(device: Device, daemon: InProcessDaemon, payload: unknown, retries = 0) {
  const before = failedCount(device);
  const attemptsBefore = e2e.server.records(device.identifier)?.updateAttempts.length ?? 0;
  const hostRequests = host.requests.length;
  const serverRequests = e2e.server.firmwareRequests.length;
  e2e.server.push(device.identifier, 'update', payload);
  for (let retry = 1; retry <= retries; retry++) {
    await daemon.runTimer(`the wait before download attempt ${retry + 1}`);
  }
  await e2e.server.waitForEvent(device.identifier, () => failedCount(device) > before);
  expect(daemon.clock.pending()).toEqual([]);
  const failed = e2e.server
    .device(device.identifier)
    .events.filter((event) => event.event === 'status_update' && event.payload?.status === 'failed')
    .at(-1)!;
  const page = e2e.server.records(device.identifier)!;
  expect(page.history.filter((entry) => entry.event === 'failed').at(-1)).toMatchObject({
    reason: failed.payload.reason,
    blockedUntil: null,
  });
  expect(page.updateAttempts).toHaveLength(attemptsBefore + 1);
  expect(page.inflightUpdate).toBeNull();
  expect(page.inPenaltyBox).toBe(false);
  return {
    reason: String(failed.payload.reason),
    hostRequests: host.requests.slice(hostRequests),
    serverRequests: e2e.server.firmwareRequests.length - serverRequests,
  };
}

/** The daemon is still ready: a good offer is downloaded, applied and completed (then it reboots, i.e. exits). */
async function nextOfferCompletes(device: Device, daemon: RunningDaemon) {
  e2e.server.sendUpdate(device.identifier, e2e.firmware('small-signed.fw').id);
  expect((await daemon.waitForExit()).code).toBe(0);
  expect(statuses(e2e.server, device.identifier).at(-1)).toBe('completed');
  expect(device.fwupRuns().filter((argv) => argv.includes('-a'))).toHaveLength(1);
}

describe('a firmware host that sends too much', () => {
  it('a body that never ends: failed after reading the announced size twice, nothing left, the next offer is applied', async () => {
    const { device, daemon } = await startJoinedDevice(e2e, 'endless-body');
    const { reason, hostRequests } = await offerThatFails(
      device,
      daemon,
      offer({ firmware_url: `${host.origin}/endless` }),
      1,
    );
    expect(reason).toMatch(
      /^Download failed : size mismatch: .*sent more than the \d+ bytes the update announced/,
    );
    expect(hostRequests).toHaveLength(2);
    expect(hostRequests[0]!.headers['accept-encoding']).toBe('identity');
    expect(device.downloads()).toEqual([]);
    await nextOfferCompletes(device, daemon);
  });

  it.skipIf(!canMountSmallFilesystem())(
    'a body that never ends, no size announced, data_dir on a 4 MiB file system: failed before the disk is full, the disk empty again, the next offer applied',
    async () => {
      const dataDir = join(e2e.root, 'disk-full', 'data');
      const unmount = mountSmallFilesystem(dataDir, 4 * MiB);
      try {
        const { device, daemon } = await startJoinedDevice(e2e, 'disk-full');
        const { reason } = await offerThatFails(
          device,
          daemon,
          offer({ firmware_url: `${host.origin}/endless`, size: null, checksum: null }),
        );
        expect(reason).toMatch(
          /^Download failed : not enough free space: .* announced no size and sent more than the \d+ bytes free in .* \(less 1048576 kept free\)$/,
        );
        expect(device.downloads()).toEqual([]);
        const free = statfsSync(device.dataDir);
        expect(Number(free.bavail) * Number(free.bsize)).toBeGreaterThan(3.5 * MiB);
        await nextOfferCompletes(device, daemon);
      } finally {
        unmount();
      }
    },
  );
});

describe('offers that can never succeed fail at once, saying why', () => {
  it('a malformed checksum, an invalid URL, a wrong checksum, an encoded body; then a good offer', async () => {
    const { device, daemon } = await startJoinedDevice(e2e, 'never-succeed');
    const good = offer();

    const malformed = await offerThatFails(
      device,
      daemon,
      offer({ checksum: String(good.checksum).slice(1) }, { uuid: 'a0000000-0000-4000-8000-000000000001' }),
    );
    expect(malformed.reason).toMatch(/^Download failed : malformed checksum: .*\(63 characters\)/);
    expect(malformed.serverRequests).toBe(0);

    const invalid = await offerThatFails(
      device,
      daemon,
      offer({ firmware_url: 'not a url' }, { uuid: 'a0000000-0000-4000-8000-000000000002' }),
    );
    expect(invalid.reason).toBe(
      'Download failed : invalid URL: the firmware URL "not a url" cannot be parsed',
    );

    const wrong = await offerThatFails(
      device,
      daemon,
      offer({ checksum: 'A'.repeat(64) }, { uuid: 'a0000000-0000-4000-8000-000000000003' }),
      1,
    );
    expect(wrong.reason).toMatch(/^Download failed : checksum mismatch: .* \(2 attempts\)$/);
    expect(wrong.serverRequests).toBe(2);

    const encoded = await offerThatFails(
      device,
      daemon,
      offer({ firmware_url: `${host.origin}/gzip` }, { uuid: 'a0000000-0000-4000-8000-000000000004' }),
    );
    expect(encoded.reason).toMatch(/^Download failed : encoded body refused: .*Content-Encoding "gzip"/);
    expect(encoded.hostRequests).toHaveLength(1);

    expect(device.fwupRuns()).toEqual([]);
    expect(device.downloads()).toEqual([]);
    await nextOfferCompletes(device, daemon);
  });
});

describe('strings from the server', () => {
  it('control characters never reach the log or a reason raw, and a 900 KB URL is shown bounded', async () => {
    const { device, daemon } = await startJoinedDevice(e2e, 'forging-strings', {
      settings: { download: { max_attempts: 1 } },
    });
    const path = 'a'.repeat(900_000);
    const { reason } = await offerThatFails(
      device,
      daemon,
      offer(
        { firmware_url: `https://127.0.0.1:1/${path}?X-Amz-Signature=secret` },
        { uuid: 'evil\n12:00:00.000 INFO  forged line\x1b[2J\x00', version: '1.0\x1b]0;title\x07\r' },
      ),
    );
    expect(reason.length).toBeLessThanOrEqual(600);
    expect(reason).toMatch(
      /^Download failed : network error: https:\/\/127\.0\.0\.1:1\/a+… \(900020 characters\)/,
    );
    expect(reason).not.toMatch(/[\u0000-\u001f]|secret/);

    await daemon.waitForOutput(/failed: Download failed/);
    daemon.stop();
    expect((await daemon.waitForExit()).code).toBe(0);
    const lines = daemon.output().split('\n');
    expect(lines.some((line) => line.includes('forged line'))).toBe(true);
    expect(lines.filter((line) => /^12:00:00\.000 INFO {2}forged/.test(line))).toEqual([]);
    expect(daemon.output()).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f]/);
    expect(daemon.output()).not.toContain('secret');
    for (const line of lines) expect(line.length).toBeLessThan(3_200);
  });
});

describe('identify requests', () => {
  it('a burst of 200 for a command that hangs: one run at a time, two in all, each stopped with its children', async () => {
    const runs = join(e2e.root, 'identify-burst', 'identify-runs');
    const { device, daemon } = await startJoinedDevice(e2e, 'identify-burst', {
      settings: {
        commands: { timeout_ms: 500, identify: ['sh', '-c', `echo $$ >> ${runs}; sleep 100 & sleep 100`] },
      },
    });
    for (let i = 0; i < 200; i++) e2e.server.push(device.identifier, 'identify', {});
    await daemon.waitForOutput(/timed out after 0\.5 s[\s\S]*timed out after 0\.5 s/);
    const pids = readFileSync(runs, 'utf8').trim().split('\n').map(Number);
    expect(pids.every((pid) => Number.isInteger(pid) && pid > 1)).toBe(true);
    // Each run is stopped with its children; nothing more comes of the burst, which a third run would be by now.
    await until('both runs and their children to be gone', () =>
      pids.every((pgid) => runningMembers(pgid).length === 0),
    );
    expect(readFileSync(runs, 'utf8').trim().split('\n')).toHaveLength(2);
    expect(daemon.output().match(/identifying the device/g)).toHaveLength(2);
    expect(daemon.output()).toMatch(/command "sh -c echo \$\$ >> .*" failed: timed out after 0\.5 s/);
    expect(e2e.server.device(device.identifier).connected).toBe(true);
    daemon.stop();
    expect((await daemon.waitForExit()).code).toBe(0);
  });
});
