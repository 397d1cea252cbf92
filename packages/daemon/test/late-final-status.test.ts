// A final status that could reach NervesHub only after its in-flight record expired: it is not sent, because the
// real device channel crashes on a final status without a record (nerves_hub_web firmware_updates.ex). The device
// session, the status reporter and the test-server are real; only the 30-minute wait is injected: the server's
// clock is moved and the reporter's expiry timer is fired by hand.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceSession } from '../src/link/device-session.js';
import { buildJoinParams } from '../src/link/join-params.js';
import type { Logger } from '../src/log/logger.js';
import { INFLIGHT_MAY_EXPIRE_MS, InflightExpiry } from '../src/update/inflight-expiry.js';
import { StatusReporter } from '../src/update/status-reporter.js';
import { RUNNING_UUID, useTestServer } from './support/harness.js';

const e2e = useTestServer('daemon-late-status-', ['small-signed.fw']);
const MINUTE = 60_000;

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} } as unknown as Logger;

interface Scenario {
  readonly session: DeviceSession;
  readonly reporter: StatusReporter;
  readonly timers: Array<{ callback: () => void; ms: number; cancelled: boolean }>;
  readonly expired: Array<{ uuid: string; silentForMs: number }>;
  /** The uuid the joins name while a final status waits. */
  waiting: string | null;
}

async function joinedDevice(identifier: string): Promise<Scenario> {
  const cert = await e2e.server.issueDeviceCertificate(identifier);
  const timers: Scenario['timers'] = [];
  const expired: Scenario['expired'] = [];
  const scenario = { timers, expired, waiting: null } as unknown as Scenario & { waiting: string | null };
  const expiry = new InflightExpiry({
    onExpired: (uuid, silentForMs) => expired.push({ uuid, silentForMs }),
    setTimer: (callback, ms) => {
      const timer = { callback, ms, cancelled: false };
      timers.push(timer);
      return () => {
        timer.cancelled = true;
      };
    },
  });
  const session = new DeviceSession({
    url: e2e.server.mtlsUrl,
    socket: {
      tls: {
        ca: e2e.server.ca.certPem,
        cert: readFileSync(cert.certFile),
        key: readFileSync(cert.keyFile),
      },
      reconnectAfterMs: () => 50,
    },
    joinParams: () =>
      buildJoinParams({
        firmware: {
          nerves_fw_uuid: RUNNING_UUID,
          nerves_fw_product: 'demo',
          nerves_fw_version: '1.0.0',
          nerves_fw_platform: 'host',
          nerves_fw_architecture: 'x86_64',
        },
        fwupVersion: '1.16.0',
        currentlyDownloadingUuid: scenario.waiting,
        firmwareValidated: true,
        autoRevertDetected: false,
        requestFwupPublicKeys: false,
      }),
    handlers: { update() {}, reboot() {}, identify() {}, fwupPublicKeys() {} },
    logger: quiet,
  });
  const reporter = new StatusReporter(
    (event, payload, options) =>
      session.send(event, payload, { buffer: event !== 'fwup_progress', ...options }),
    Date.now,
    expiry,
  );
  Object.assign(scenario, { session, reporter });
  await session.start();
  return scenario;
}

let scenarios: Scenario[] = [];
afterAll(async () => {
  for (const scenario of scenarios) await scenario.session.close();
});
beforeAll(() => {
  scenarios = [];
});

/** A manual push of small-signed.fw, answered `received`; resolves with its uuid once the server counted it. */
async function receivedUpdate(identifier: string, scenario: Scenario): Promise<string> {
  const uuid = e2e.firmware('small-signed.fw').meta.uuid;
  expect(e2e.server.sendUpdate(identifier, e2e.firmware('small-signed.fw').id)).toBe(true);
  scenario.reporter.start(uuid);
  scenario.reporter.status('received', {}, undefined, uuid);
  await e2e.server.waitForRecords(identifier, (page) => page.updateAttempts.length === 1);
  return uuid;
}

/** The device is cut off; a `failed` status waits for the next join, as the daemon's would. */
async function failWhileOffline(identifier: string, scenario: Scenario, uuid: string): Promise<void> {
  e2e.server.refuseUpgrades(503);
  e2e.server.kick(identifier);
  await e2e.server.waitForRecords(identifier, (page) => !page.connected);
  scenario.waiting = uuid;
  scenario.reporter.status(
    'failed',
    { reason: 'Download failed : network error' },
    () => {
      scenario.waiting = null;
    },
    uuid,
  );
}

describe("a final status that waited past NervesHub's in-flight expiry", () => {
  it('is not sent: no channel crash, no second attempt, no penalty box; the next join names no update', async () => {
    const identifier = 'late-final';
    const scenario = await joinedDevice(identifier);
    scenarios.push(scenario);
    await e2e.server.waitForJoin(identifier);
    const uuid = await receivedUpdate(identifier, scenario);
    await failWhileOffline(identifier, scenario, uuid);

    e2e.server.advanceClock(31 * MINUTE);
    expect(e2e.server.records(identifier)?.inflightUpdate).toBeNull();
    const timer = scenario.timers.at(-1)!;
    expect(timer.ms).toBe(INFLIGHT_MAY_EXPIRE_MS);
    timer.callback();
    expect(scenario.expired).toEqual([{ uuid, silentForMs: expect.any(Number) }]);
    expect(scenario.waiting).toBeNull();

    e2e.server.refuseUpgrades(null);
    const rejoin = await e2e.server.waitForJoin(identifier, { count: 2 });
    expect(rejoin.currently_downloading_uuid).toBeNull();
    // Frames leave in order: once this one is in, anything the rejoin flushed before it is in too.
    scenario.session.send('report_network_interface', { network_interface: 'unknown' });
    await e2e.server.waitForEvent(identifier, (event) => event.event === 'report_network_interface');
    const page = e2e.server.records(identifier)!;
    const events = e2e.server.device(identifier).events;
    expect(
      events.filter((event) => event.event === 'status_update').map((event) => event.payload.status),
    ).toEqual(['received']);
    expect(events.some((event) => event.crashed)).toBe(false);
    expect(page.updateAttempts).toHaveLength(1);
    expect(page.updatesBlockedUntil).toBeNull();
  });

  it('is still sent while the record can be on the server: it lands on that record', async () => {
    const identifier = 'late-but-in-time';
    const scenario = await joinedDevice(identifier);
    scenarios.push(scenario);
    await e2e.server.waitForJoin(identifier);
    const uuid = await receivedUpdate(identifier, scenario);
    await failWhileOffline(identifier, scenario, uuid);

    e2e.server.advanceClock(20 * MINUTE);
    e2e.server.refuseUpgrades(null);
    const rejoin = await e2e.server.waitForJoin(identifier, { count: 2 });
    expect(rejoin.currently_downloading_uuid).toBe(uuid);
    const page = await e2e.server.waitForRecords(identifier, (records) =>
      records.history.some((line) => line.event === 'failed'),
    );
    expect(scenario.expired).toEqual([]);
    expect(page.updateAttempts).toHaveLength(1);
    expect(page.inflightUpdate).toBeNull();
  });
});
