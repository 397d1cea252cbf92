// Operator control end to end: the bundled daemon with real hook scripts, maintenance windows and the status
// command, against the test-server's NervesHub records (what an operator sees on the device page).
import { execFile } from 'node:child_process';
import { appendFileSync, chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { DaemonState } from '../src/local/state-file.js';
import { BUNDLE, createDevice, type Device, runDaemon, statuses, useTestServer } from './support/harness.js';

const e2e = useTestServer('daemon-operator-', ['small-signed.fw', 'small-signed-tampered.fw']);
const SHIFT_CLOCK = fileURLToPath(new URL('./support/shift-clock.mjs', import.meta.url));
const MINUTE = 60_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Adds tables ([hooks], [updates]) at the end of the device's config. */
function configure(device: Device, lines: string[]): void {
  appendFileSync(device.configFile, `${lines.join('\n')}\n`);
}

/**
 * An update_available (or other) hook the test steers: it records every call (env and stdin) and answers with
 * the file `answer` (and the exit status in `exit`, 0 when absent).
 */
function steerableHook(device: Device, name: string) {
  const dir = device.dir;
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
    command: `["${path}"]`,
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

/** What `status --json` prints (commands/status.ts statusJson). */
interface StatusJson {
  readonly running: boolean;
  readonly pid: number | null;
  readonly connected: boolean;
  readonly current: boolean;
  readonly note: string | null;
  readonly exit_code: number;
  readonly state: DaemonState | null;
}

/** `nerves-hub-link status --json` (and the text form): the exit code and what it printed. */
async function status(
  device: Device,
): Promise<{ code: number; json: StatusJson; state: DaemonState; text: string }> {
  const call = async (extra: string[]) => {
    try {
      const { stdout } = await run(process.execPath, [
        BUNDLE,
        'status',
        '--config',
        device.configFile,
        ...extra,
      ]);
      return { code: 0, stdout };
    } catch (error) {
      const failed = error as { code?: number; stdout?: string };
      return { code: failed.code ?? -1, stdout: failed.stdout ?? '' };
    }
  };
  const json = await call(['--json']);
  const text = await call([]);
  expect(text.code).toBe(json.code);
  const parsed = JSON.parse(json.stdout) as StatusJson;
  // Every test here asks once the daemon has written its status file.
  expect(parsed.state).not.toBeNull();
  return { code: json.code, json: parsed, state: parsed.state!, text: text.stdout };
}

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

const near = (iso: string | null, expected: number, slackMs = 5_000) => {
  expect(iso).not.toBeNull();
  expect(Math.abs(Date.parse(iso!) - expected)).toBeLessThan(slackMs);
};

describe('hooks.update_available, as NervesHub records it', () => {
  it('ignore <reason>: received + ignored with the reason; a deployment puts the device in its penalty box', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'hook-ignore');
    const hook = steerableHook(device, 'may-update');
    hook.answer('ignore pinned to 1.0 until the field trial ends');
    configure(device, ['[hooks]', `update_available = ${hook.command}`]);
    const daemon = runDaemon(device);
    await e2e.server.waitForJoin(device.identifier);
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
    const local = await status(device);
    expect(local.code).toBe(0);
    expect(local.state.last_result).toMatchObject({
      status: 'ignored',
      uuid: firmware.meta.uuid,
      reason: 'pinned to 1.0 until the field trial ends',
    });
    daemon.child.kill('SIGTERM');
    expect((await daemon.exited).code).toBe(0);
  });

  it('reschedule <ms>: blocked until now + delay_for; when NervesHub offers it again the hook is asked again and it applies', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'hook-reschedule-deployment');
    const hook = steerableHook(device, 'may-update');
    hook.answer('reschedule 600000 battery at 12 %');
    configure(device, ['[hooks]', `update_available = ${hook.command}`]);
    const daemon = runDaemon(device);
    await e2e.server.waitForJoin(device.identifier);
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
    const waiting = await status(device);
    expect(waiting.state.next_attempt).toMatchObject({ uuid: firmware.meta.uuid });
    near(waiting.state.next_attempt?.at ?? null, Date.now() + 600_000);
    expect(waiting.text).toMatch(/next {8}.*due .*\(in 10 min\)/);

    hook.answer('apply');
    e2e.server.advanceClock(600_000 + 1_000);
    expect((await daemon.exited).code).toBe(0);
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

  it('reschedule of a manual push: nothing blocked, the delay raised to 5 minutes and logged; a new push is decided again', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'hook-reschedule-manual');
    const hook = steerableHook(device, 'may-update');
    hook.answer('reschedule 1500 user session active');
    configure(device, ['[hooks]', `update_available = ${hook.command}`]);
    const daemon = runDaemon(device);
    await e2e.server.waitForJoin(device.identifier);
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
    // The daemon would ask again in 5 minutes (its clock is tested in hostile-operators.test.ts); a new push
    // replaces the offer it waits with.
    hook.answer('apply');
    expect(e2e.server.sendUpdate(device.identifier, e2e.firmware('small-signed.fw').id)).toBe(true);
    expect((await daemon.exited).code).toBe(0);
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
    const device = await createDevice(e2e.server, e2e.root, 'hook-fails-apply');
    configure(device, ['[hooks]', 'update_available = ["sh", "-c", "exit 2"]', 'on_hook_failure = "apply"']);
    const daemon = runDaemon(device);
    await e2e.server.waitForJoin(device.identifier);
    e2e.server.sendUpdate(device.identifier, e2e.firmware('small-signed.fw').id);
    expect((await daemon.exited).code).toBe(0);
    expect(statuses(e2e.server, device.identifier)).toEqual(['received', 'started', 'completed']);
    expect(daemon.output()).toMatch(/hooks\.update_available exited with status 2; applying the update/);
  });
});

describe('hooks around the update', () => {
  it('before_apply fails the update with its output as the reason; fwup never writes; on_error hears it', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'hook-before-apply');
    const onError = steerableHook(device, 'on-error');
    configure(device, [
      '[hooks]',
      'before_download = ["sh", "-c", "test -n \\"$NERVES_HUB_UPDATE_UUID\\""]',
      'before_apply = ["sh", "-c", "test -f \\"$NERVES_HUB_UPDATE_FILE\\" && echo \\"only 2 MB free on /data\\" >&2 && exit 1"]',
      `on_error = ${onError.command}`,
    ]);
    const daemon = runDaemon(device);
    await e2e.server.waitForJoin(device.identifier);
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
    const local = await status(device);
    expect(local.state.last_result).toMatchObject({ status: 'failed', reason });
    expect(local.text).toMatch(/last result failed .*only 2 MB free on \/data/);
    daemon.child.kill('SIGTERM');
    expect((await daemon.exited).code).toBe(0);
  });
});

describe('updates.window', () => {
  it('an offer outside the window is rescheduled until it opens (at least 5 minutes), and applied when NervesHub offers it again', async () => {
    // The daemon runs on a clock set 10 s before a Wednesday 02:00 UTC; the window opens at 02:00.
    const fakeStart = Date.UTC(2030, 0, 2, 1, 59, 50);
    const device = await createDevice(e2e.server, e2e.root, 'window-deployment');
    configure(device, [
      '[updates]',
      'window = ["Mon-Fri 02:00-05:00"]',
      'timezone = "UTC"',
      'window_spread = "1s"',
    ]);
    const shiftedTo = (at: number) => ({
      NODE_OPTIONS: `--import=${SHIFT_CLOCK}`,
      CLOCK_SHIFT_MS: String(at - Date.now()),
    });
    const daemon = runDaemon(device, shiftedTo(fakeStart));
    await e2e.server.waitForJoin(device.identifier);
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
    near(page.updatesBlockedUntil, e2e.server.now() + 300_000, 2_000);
    const deferred = await status(device);
    expect(deferred.state.last_result).toMatchObject({ status: 'rescheduled' });
    expect(deferred.state.next_attempt?.at).toMatch(/^2030-01-02T02:0[45]:/);

    // Five minutes on, on the device's clock (a daemon cannot be moved in time: it starts again there) and on the
    // server's, the block ends and NervesHub's backup orchestrator run offers it again, inside the window.
    daemon.child.kill('SIGTERM');
    expect((await daemon.exited).code).toBe(0);
    const later = runDaemon(device, shiftedTo(fakeStart + 301_000));
    await e2e.server.waitForJoin(device.identifier, { count: 2 });
    e2e.server.advanceClock(301_000);
    expect((await later.exited).code).toBe(0);
    expect(statuses(e2e.server, device.identifier)).toEqual([
      'received',
      'rescheduled',
      'received',
      'started',
      'completed',
    ]);
  }, 40_000);
});

describe('nerves-hub-link status', () => {
  it('idle, downloading, applying, after success (reboot left to the device), and once stopped', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'status-cycle');
    configure(device, ['[updates]', 'reboot_policy = "never"']);
    const daemon = runDaemon(device, { FAKE_FWUP_DELAY_MS: '60' });
    await e2e.server.waitForJoin(device.identifier);
    const idle = await until('joined in the status', async () => {
      const each = await status(device);
      return each.code === 0 ? each : undefined;
    });
    expect(idle.json).toMatchObject({
      running: true,
      connected: true,
      state: {
        identifier: device.identifier,
        connection: { state: 'joined', server: e2e.server.mtlsUrl.replace(/\?.*$/, '') },
        firmware: { version: '1.0.0' },
        update: null,
      },
    });
    expect(idle.text).toMatch(/^nerves-hub-link is running \(pid \d+\) and connected to NervesHub\n/);
    expect(idle.text).toMatch(/ {2}update {6}none\n/);

    const firmware = e2e.firmware('small-signed.fw');
    e2e.server.sendUpdate(device.identifier, firmware.id, {
      fault: { kind: 'slow', bytesPerSecond: 60_000 },
    });
    const downloading = await until('the download in the status', async () => {
      const each = await status(device);
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
    const applying = await until('the apply in the status', async () => {
      const each = await status(device);
      return each.state.update?.stage === 'applying' ? each : undefined;
    });
    expect(applying.code).toBe(0);
    const done = await until(
      'success in the status',
      async () => {
        const each = await status(device);
        return each.state.update?.stage === 'awaiting-reboot' ? each : undefined;
      },
      30_000,
    );
    expect(done.code).toBe(0);
    expect(done.state.last_result).toMatchObject({
      status: 'completed',
      uuid: firmware.meta.uuid,
      reason: null,
    });
    expect(done.state.reboot).toEqual({ reason: 'the new firmware is written', at: null });
    expect(done.text).toMatch(/reboot {6}the new firmware is written: left to the device/);
    expect(daemon.output()).toMatch(/not rebooting \(updates\.reboot_policy = "never"\)/);
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

    daemon.child.kill('SIGTERM');
    expect((await daemon.exited).code).toBe(0);
    const stopped = await status(device);
    expect(stopped.code).toBe(3);
    expect(stopped.json).toMatchObject({
      running: false,
      connected: false,
      state: { connection: { state: 'stopped' } },
    });
    expect(stopped.text).toMatch(/^nerves-hub-link is not running/);
  }, 60_000);

  it('after a failure: the reason; a config error exits 78', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'status-failure');
    const daemon = runDaemon(device);
    await e2e.server.waitForJoin(device.identifier);
    e2e.server.sendUpdate(device.identifier, e2e.firmware('small-signed-tampered.fw').id);
    const failed = await until('the failure in the status', async () => {
      const each = await status(device);
      return each.state.last_result?.status === 'failed' ? each : undefined;
    });
    expect(failed.code).toBe(0);
    expect(failed.state.update).toBeNull();
    expect(failed.state.last_result?.reason).toMatch(/^FWUP error : /);
    daemon.child.kill('SIGTERM');
    expect((await daemon.exited).code).toBe(0);
    writeFileSync(join(device.dir, 'broken.toml'), 'uri = 1\n');
    await expect(
      run(process.execPath, [BUNDLE, 'status', '--config', join(device.dir, 'broken.toml')]),
    ).rejects.toMatchObject({ code: 78 });
  });
});
