// Operator control: the daemon with real hook scripts, maintenance windows and the status command, against the
// test-server's NervesHub records (what an operator sees on the device page). The daemon runs in the test process
// on a clock the tests move (support/in-process.ts): a reschedule, a postponed reboot or a window is over when the
// test says so. The `status` command is called as the CLI calls it; once as the real binary.
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ManualClock, type ManualTimer } from '@nerves-hub-link/test-server/testing';
import { describe, expect, it } from 'vitest';
import { statusCommand } from '../src/cli/commands/status.js';
import type { DaemonState } from '../src/local/state-file.js';
import { BUNDLE, type Device, statuses, useTestServer } from './support/harness.js';
import type { InProcessDaemon } from './support/in-process.js';
import { startJoinedDevice } from './support/joined-device.js';
import { until } from './support/output.js';

const e2e = useTestServer('daemon-operator-', ['small-signed.fw', 'small-signed-tampered.fw']);
const MINUTE = 60_000;

/** The timer of a re-ask or a postponed reboot, set `delayMs` ahead. */
const after = (delayMs: number) => (timer: ManualTimer) => timer.delayMs === delayMs;

/** The folder of a device not made yet (its hooks go there before its config names them). */
function deviceDir(identifier: string): string {
  const dir = join(e2e.root, identifier);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * An update_available (or other) hook the test steers: it records every call (env and stdin) and answers with
 * the file `answer` (and the exit status in `exit`, 0 when absent).
 */
function steerableHook(dir: string, name: string) {
  const path = join(dir, `${name}.sh`);
  const calls = join(dir, `${name}.calls`);
  writeFileSync(
    path,
    [
      '#!/bin/sh',
      `input=$(cat)`,
      `printf '%s|%s|%s|%s|%s\\n' "$NERVES_HUB_UPDATE_UUID" "$NERVES_HUB_UPDATE_VERSION" "$NERVES_HUB_UPDATE_DEPLOYMENT_ID" "$NERVES_HUB_REASON" "$input" >> ${calls}`,
      `[ -f ${dir}/${name}.stderr ] && cat ${dir}/${name}.stderr >&2`,
      `[ -f ${dir}/${name}.answer ] && cat ${dir}/${name}.answer`,
      `exit $(cat ${dir}/${name}.exit 2>/dev/null || echo 0)`,
      '',
    ].join('\n'),
  );
  chmodSync(path, 0o755);
  const file = (suffix: string) => join(dir, `${name}.${suffix}`);
  return {
    command: [path],
    answer(text: string, exit = 0, stderr?: string) {
      writeFileSync(file('answer'), `${text}\n`);
      writeFileSync(file('exit'), String(exit));
      if (stderr === undefined) rmSync(file('stderr'), { force: true });
      else writeFileSync(file('stderr'), `${stderr}\n`);
    },
    calls(): Array<{
      uuid: string;
      version: string;
      deploymentId: string;
      reason: string;
      input: Record<string, unknown>;
    }> {
      if (!existsSync(calls)) return [];
      return readFileSync(calls, 'utf8')
        .trim()
        .split('\n')
        .map((line) => {
          const [uuid, version, deploymentId, reason, ...input] = line.split('|');
          return {
            uuid: uuid!,
            version: version!,
            deploymentId: deploymentId!,
            reason: reason!,
            input: JSON.parse(input.join('|')),
          };
        });
    },
  };
}

const run = promisify(execFile);

/** What `status --json` prints (cli/commands/status.ts statusJson). */
interface StatusJson {
  readonly running: boolean;
  readonly pid: number | null;
  readonly connected: boolean;
  readonly current: boolean;
  readonly note: string | null;
  readonly exit_code: number;
  readonly state: DaemonState | null;
}

/**
 * `nerves-hub-link status --json` (and the text form), as the CLI runs them, on the daemon's clock. In the test
 * process the daemon holds its lock under this very pid, which the status command counts as stale (a pid reused
 * after a power cut): here `running` is false and the exit code 3; the binary's own answers are checked in the
 * last tests, against a daemon process.
 */
function status(
  device: Device,
  daemon: InProcessDaemon,
): { code: number; json: StatusJson; state: DaemonState; text: string } {
  const call = (json: boolean) => {
    let stdout = '';
    const code = statusCommand(
      { command: 'status', configFlag: device.configFile, json },
      (text) => {
        stdout += text;
      },
      daemon.clock.now(),
    );
    return { code, stdout };
  };
  const json = call(true);
  const text = call(false);
  expect(text.code).toBe(json.code);
  const parsed = JSON.parse(json.stdout) as StatusJson;
  // Every test here asks once the daemon has written its status file.
  expect(parsed.state).not.toBeNull();
  return { code: json.code, json: parsed, state: parsed.state!, text: text.stdout };
}

/** `nerves-hub-link status --json` and the text form, run as the binary: the exit code and what each printed. */
async function statusOf(device: Device): Promise<{ code: number; json: StatusJson; text: string }> {
  const [json, text] = await Promise.all([
    statusProcess(device.configFile, ['--json']),
    statusProcess(device.configFile),
  ]);
  expect(text.code).toBe(json.code);
  return { code: json.code, json: JSON.parse(json.stdout) as StatusJson, text: text.stdout };
}

/** `nerves-hub-link status` run as the binary: its exit code and what it printed. */
async function statusProcess(
  configFile: string,
  extra: string[] = [],
): Promise<{ code: number; stdout: string }> {
  try {
    const { stdout } = await run(process.execPath, [BUNDLE, 'status', '--config', configFile, ...extra]);
    return { code: 0, stdout };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '' };
  }
}

const near = (iso: string | null, expected: number, slackMs = 5_000) => {
  expect(iso).not.toBeNull();
  expect(Math.abs(Date.parse(iso!) - expected)).toBeLessThan(slackMs);
};

describe('hooks.update_available, as NervesHub records it', () => {
  it('ignore <reason>: received + ignored with the reason; a deployment puts the device in its penalty box', async () => {
    const hook = steerableHook(deviceDir('hook-ignore'), 'may-update');
    hook.answer('ignore pinned to 1.0 until the field trial ends');
    const { device, daemon } = await startJoinedDevice(e2e, 'hook-ignore', {
      settings: { hooks: { update_available: hook.command } },
    });
    const firmware = e2e.firmware('small-signed.fw');
    const deployment = e2e.server.createDeployment({
      firmwareId: firmware.id,
      devices: [device.identifier],
      penaltyTimeoutMinutes: 60,
    });
    const page = await e2e.server.waitForRecords(device.identifier, (each) =>
      each.history.some((entry) => entry.event === 'ignored'),
    );
    expect(statuses(e2e.server, device.identifier)).toEqual(['received', 'ignored']);
    expect(page.history).toContainEqual(
      expect.objectContaining({ event: 'ignored', reason: 'pinned to 1.0 until the field trial ends' }),
    );
    expect(page.inflightUpdate).toBeNull();
    expect(page.updateAttempts).toHaveLength(1);
    expect(page.inPenaltyBox).toBe(true);
    near(page.updatesBlockedUntil, e2e.server.now() + 60 * MINUTE);
    // The hook heard about the update it decided on, in its environment and on stdin.
    const [call] = hook.calls();
    expect(call).toMatchObject({
      uuid: firmware.meta.uuid,
      version: firmware.meta.version,
      deploymentId: String(deployment.id),
    });
    expect(call?.input).toMatchObject({
      hook: 'update_available',
      device: { identifier: device.identifier },
      update: { uuid: firmware.meta.uuid, deployment_id: deployment.id, size: firmware.size },
      running: { uuid: expect.any(String), version: '1.0.0' },
    });
    expect(device.fwupRuns()).toEqual([]);
    const local = status(device, daemon);
    expect(local.state.last_result).toMatchObject({
      status: 'ignored',
      uuid: firmware.meta.uuid,
      reason: 'pinned to 1.0 until the field trial ends',
    });
    daemon.stop();
    expect((await daemon.waitForExit()).code).toBe(0);
  });

  it('reschedule <ms>: blocked until now + delay_for; when NervesHub offers it again the hook is asked again and it applies', async () => {
    const hook = steerableHook(deviceDir('hook-reschedule-deployment'), 'may-update');
    hook.answer('reschedule 600000 battery at 12 %');
    const { device, daemon } = await startJoinedDevice(e2e, 'hook-reschedule-deployment', {
      settings: { hooks: { update_available: hook.command } },
    });
    const firmware = e2e.firmware('small-signed.fw');
    e2e.server.createDeployment({ firmwareId: firmware.id, devices: [device.identifier] });
    let page = await e2e.server.waitForRecords(device.identifier, (each) =>
      each.history.some((entry) => entry.event === 'rescheduled'),
    );
    const answered = e2e.server.now();
    const rescheduled = e2e.server
      .device(device.identifier)
      .events.find((event) => event.payload?.status === 'rescheduled');
    expect(rescheduled?.payload).toEqual({
      status: 'rescheduled',
      delay_for: 600_000,
      reason: 'battery at 12 %',
    });
    expect(page.history).toContainEqual(
      expect.objectContaining({ event: 'rescheduled', reason: 'battery at 12 %', blocked: true }),
    );
    near(page.updatesBlockedUntil, answered + 600_000, 2_000);
    expect(page.inflightUpdate).toBeNull();
    // Blocked: the orchestrator passes the device by until then.
    expect(e2e.server.runOrchestrator()).toEqual([]);
    const waiting = status(device, daemon);
    expect(waiting.state.next_attempt).toMatchObject({ uuid: firmware.meta.uuid });
    near(waiting.state.next_attempt?.at ?? null, daemon.clock.now() + 600_000);
    expect(waiting.text).toMatch(/next {8}.*due .*\(in 10 min\)/);
    // The device's own re-ask waits the block plus NervesHub's grace for its re-offer.
    const reask = await daemon.clock.whenPending('the re-ask', (timer) => timer.delayMs > 600_000);

    hook.answer('apply');
    daemon.clock.advance(600_000 + 1_000);
    e2e.server.advanceClock(600_000 + 1_000);
    expect((await daemon.waitForExit()).code).toBe(0);
    expect(daemon.clock.now()).toBeLessThan(reask.dueAt);
    expect(hook.calls()).toHaveLength(2);
    expect(statuses(e2e.server, device.identifier)).toEqual([
      'received',
      'rescheduled',
      'received',
      'started',
      'completed',
    ]);
    page = e2e.server.records(device.identifier)!;
    expect(page.inflightUpdate?.status).toBe('completed');
    // NervesHub counts every offer the device takes, the rescheduled one included.
    expect(page.updateAttempts).toHaveLength(2);
  });

  it('reschedule of a manual push: nothing blocked, the delay raised to 5 minutes and logged; the daemon asks the hook again itself then', async () => {
    const hook = steerableHook(deviceDir('hook-reschedule-manual'), 'may-update');
    hook.answer('reschedule 1500 user session active');
    const { device, daemon } = await startJoinedDevice(e2e, 'hook-reschedule-manual', {
      settings: { hooks: { update_available: hook.command } },
    });
    e2e.server.sendUpdate(device.identifier, e2e.firmware('small-signed.fw').id);
    const page = await e2e.server.waitForRecords(device.identifier, (each) =>
      each.history.some((entry) => entry.event === 'rescheduled'),
    );
    expect(page.history).toContainEqual(
      expect.objectContaining({ event: 'rescheduled', reason: 'user session active', blocked: false }),
    );
    expect(page.updatesBlockedUntil).toBeNull();
    const answer = e2e.server
      .device(device.identifier)
      .events.find((event) => event.payload?.status === 'rescheduled');
    expect(answer?.payload.delay_for).toBe(300_000);
    expect(daemon.output()).toMatch(
      /hooks\.update_available asked to wait 2 s \(1500 ms\): user session active/,
    );
    expect(daemon.output()).toMatch(/the delay of a rescheduled offer, 2 s, was raised to 5 min/);
    expect(hook.calls()).toHaveLength(1);
    hook.answer('apply');
    await daemon.runTimer('the re-ask of the manual push', after(300_000));
    expect((await daemon.waitForExit()).code).toBe(0);
    expect(hook.calls()).toHaveLength(2);
    expect(statuses(e2e.server, device.identifier)).toEqual([
      'received',
      'rescheduled',
      'received',
      'started',
      'completed',
    ]);
  });

  it('hooks.on_hook_failure = "apply": a broken hook lets the update through', async () => {
    const { device, daemon } = await startJoinedDevice(e2e, 'hook-fails-apply', {
      settings: { hooks: { update_available: ['sh', '-c', 'exit 2'], on_hook_failure: 'apply' } },
    });
    e2e.server.sendUpdate(device.identifier, e2e.firmware('small-signed.fw').id);
    expect((await daemon.waitForExit()).code).toBe(0);
    expect(statuses(e2e.server, device.identifier)).toEqual(['received', 'started', 'completed']);
    expect(daemon.output()).toMatch(/hooks\.update_available exited with status 2; applying the update/);
  });
});

describe('hooks around the update', () => {
  it('before_apply fails the update with its output as the reason; fwup never writes; on_error hears it', async () => {
    const onError = steerableHook(deviceDir('hook-before-apply'), 'on-error');
    const { device, daemon } = await startJoinedDevice(e2e, 'hook-before-apply', {
      settings: {
        hooks: {
          before_download: ['sh', '-c', 'test -n "$NERVES_HUB_UPDATE_UUID"'],
          before_apply: [
            'sh',
            '-c',
            'test -f "$NERVES_HUB_UPDATE_FILE" && echo "only 2 MB free on /data" >&2 && exit 1',
          ],
          on_error: onError.command,
        },
      },
    });
    e2e.server.createDeployment({
      firmwareId: e2e.firmware('small-signed.fw').id,
      devices: [device.identifier],
      penaltyTimeoutMinutes: 30,
    });
    const page = await e2e.server.waitForRecords(device.identifier, (each) =>
      each.history.some((entry) => entry.event === 'failed'),
    );
    const reason = 'Update failed : hooks.before_apply exited with status 1: only 2 MB free on /data';
    expect(page.history).toContainEqual(expect.objectContaining({ event: 'failed', reason }));
    expect(page.inPenaltyBox).toBe(true);
    expect(statuses(e2e.server, device.identifier)).toEqual(['received', 'started', 'failed']);
    expect(device.fwupRuns().map((argv) => argv[0])).toEqual(['-V']);
    expect(device.downloads()).toEqual([]);
    const call = await until('on_error to run', () => onError.calls()[0]);
    expect(call.reason).toBe(reason);
    expect(call.input.reason).toBe(reason);
    const local = status(device, daemon);
    expect(local.state.last_result).toMatchObject({ status: 'failed', reason });
    expect(local.text).toMatch(/last result failed .*only 2 MB free on \/data/);
    daemon.stop();
    expect((await daemon.waitForExit()).code).toBe(0);
  });
});

describe('updates.window', () => {
  it('an offer outside the window is rescheduled until it opens (at least 5 minutes), and applied when NervesHub offers it again', async () => {
    // The daemon runs on a clock set 10 s before a Wednesday 02:00 UTC; the window opens at 02:00.
    const clock = new ManualClock({ startAt: Date.UTC(2030, 0, 2, 1, 59, 50) });
    const { device, daemon } = await startJoinedDevice(e2e, 'window-deployment', {
      clock,
      settings: { updates: { window: ['Mon-Fri 02:00-05:00'], timezone: 'UTC', window_spread: '1s' } },
    });
    e2e.server.createDeployment({
      firmwareId: e2e.firmware('small-signed.fw').id,
      devices: [device.identifier],
    });
    const page = await e2e.server.waitForRecords(device.identifier, (each) =>
      each.history.some((entry) => entry.event === 'rescheduled'),
    );
    const answer = e2e.server
      .device(device.identifier)
      .events.find((event) => event.payload?.status === 'rescheduled')!;
    // The window opens in 10 s (plus up to 1 s of spread): raised to the 5-minute floor of a reschedule.
    expect(answer.payload.delay_for).toBe(300_000);
    expect(answer.payload.reason).toBe(
      'outside the maintenance window "Mon-Fri 02:00-05:00" (UTC); it opens at 2030-01-02 02:00',
    );
    expect(daemon.output()).toMatch(/the delay of a rescheduled offer, \d+ s, was raised to 5 min/);
    const delay = 300_000;
    near(page.updatesBlockedUntil, e2e.server.now() + delay, 2_000);
    const deferred = status(device, daemon);
    expect(deferred.state.last_result).toMatchObject({ status: 'rescheduled' });
    expect(deferred.state.next_attempt?.at).toMatch(/^2030-01-02T02:0[45]:/);

    // Once the window is open on the device's clock, NervesHub's next orchestrator run (the backup run when its
    // clock passes the block) offers it again.
    clock.advance(delay + 500);
    e2e.server.advanceClock(delay + 500);
    expect((await daemon.waitForExit()).code).toBe(0);
    expect(statuses(e2e.server, device.identifier)).toEqual([
      'received',
      'rescheduled',
      'received',
      'started',
      'completed',
    ]);
  });
});

describe('nerves-hub-link status', () => {
  it('follows the update the daemon runs: downloading with its percent, then applying', async () => {
    const { device, daemon } = await startJoinedDevice(e2e, 'status-cycle', {
      fwupEnv: { FAKE_FWUP_DELAY_MS: '10' },
      settings: { updates: { reboot_policy: 'never' } },
    });
    const idle = await until('joined in the status', () => {
      const each = status(device, daemon);
      return each.state.connection.state === 'joined' ? each : undefined;
    });
    expect(idle.state).toMatchObject({
      identifier: device.identifier,
      connection: { state: 'joined', server: e2e.server.mtlsUrl.replace(/\?.*$/, '') },
      firmware: { version: '1.0.0' },
      update: null,
    });
    expect(idle.text).toMatch(/ {2}update {6}none\n/);
    const firmware = e2e.firmware('small-signed.fw');
    // About 2.6 s of download: the status file (progress written once a second) shows it under way.
    e2e.server.sendUpdate(device.identifier, firmware.id, {
      fault: { kind: 'slow', bytesPerSecond: 100_000 },
    });
    const downloading = await until('the download in the status', () => {
      const each = status(device, daemon);
      return each.state.update?.stage === 'downloading' && (each.state.update.percent ?? 0) > 0
        ? each
        : undefined;
    });
    expect(downloading.state.update).toMatchObject({
      uuid: firmware.meta.uuid,
      version: firmware.meta.version,
      deployment_id: null,
    });
    expect(downloading.text).toMatch(/update {6}\S+ \(\S+\): downloading \d+ %/);
    await until('the apply in the status', () => status(device, daemon).state.update?.stage === 'applying');
    const done = await until('success in the status', () => {
      const each = status(device, daemon);
      return each.state.update?.stage === 'awaiting-reboot' ? each : undefined;
    });
    expect(done.state.last_result).toMatchObject({
      status: 'completed',
      uuid: firmware.meta.uuid,
      reason: null,
    });
    daemon.stop();
    expect((await daemon.waitForExit()).code).toBe(0);
  });

  it('the binary: running and connected when idle, after a failure and after success (reboot left to the device), 3 once stopped, 78 for a broken config', async () => {
    const { device, daemon } = await startJoinedDevice(e2e, 'status-binary', {
      process: true,
      settings: { updates: { reboot_policy: 'never' } },
    });
    const idle = await until('joined in the status', async () => {
      const each = await statusOf(device);
      return each.code === 0 ? each : undefined;
    });
    expect(idle.json).toMatchObject({
      running: true,
      connected: true,
      state: { identifier: device.identifier, connection: { state: 'joined' }, update: null },
    });
    expect(idle.text).toMatch(/^nerves-hub-link is running \(pid \d+\) and connected to NervesHub\n/);
    expect(idle.text).toMatch(/ {2}update {6}none\n/);

    e2e.server.sendUpdate(device.identifier, e2e.firmware('small-signed-tampered.fw').id);
    await e2e.server.waitForEvent(device.identifier, (event) => event.payload?.status === 'failed');
    const failed = await until('the failure in the status', async () => {
      const each = await statusOf(device);
      return each.json.state?.last_result?.status === 'failed' ? each : undefined;
    });
    expect(failed.code).toBe(0);
    expect(failed.json.state?.update).toBeNull();
    expect(failed.json.state?.last_result?.reason).toMatch(/^FWUP error : /);
    expect(failed.text).toMatch(/last result failed .*FWUP error/);

    const firmware = e2e.firmware('small-signed.fw');
    e2e.server.sendUpdate(device.identifier, firmware.id);
    await daemon.waitForOutput(/not rebooting \(updates\.reboot_policy = "never"\)/);
    const done = await until('success in the status', async () => {
      const each = await statusOf(device);
      return each.json.state?.update?.stage === 'awaiting-reboot' ? each : undefined;
    });
    expect(done.code).toBe(0);
    expect(done.json.state?.last_result).toMatchObject({
      status: 'completed',
      uuid: firmware.meta.uuid,
      reason: null,
    });
    expect(done.json.state?.reboot).toEqual({ reason: 'the new firmware is written', at: null });
    expect(done.text).toMatch(/reboot {6}the new firmware is written: left to the device/);
    // The server's reboot request takes the same path.
    e2e.server.push(device.identifier, 'reboot', {});
    await daemon.waitForOutput(/the server asked for a reboot; not rebooting/);
    // While the written firmware waits for its reboot, another offer gets no status (no attempt, no penalty box).
    const statusesBefore = statuses(e2e.server, device.identifier);
    e2e.server.push(
      device.identifier,
      'update',
      e2e.server.firmwareHost.updatePayload(e2e.server.url, e2e.firmware('small-signed-tampered.fw').id),
    );
    await daemon.waitForOutput(/not answered: firmware \S+ is written and runs after the next reboot/);
    expect(statuses(e2e.server, device.identifier)).toEqual(statusesBefore);
    expect(device.fwupRuns().filter((argv) => argv[0] === '-a')).toHaveLength(1);

    daemon.stop();
    expect((await daemon.waitForExit()).code).toBe(0);
    const stopped = await statusOf(device);
    expect(stopped.code).toBe(3);
    expect(stopped.json).toMatchObject({
      running: false,
      connected: false,
      state: { connection: { state: 'stopped' } },
    });
    expect(stopped.text).toMatch(/^nerves-hub-link is not running/);
    writeFileSync(join(device.dir, 'broken.toml'), 'uri = 1\n');
    expect((await statusProcess(join(device.dir, 'broken.toml'))).code).toBe(78);
  });
});
