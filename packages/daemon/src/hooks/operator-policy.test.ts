import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runningMembers } from '@nerves-hub-link/test-server/testing';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { HooksConfig } from '../config/sections/hooks.js';
import type { UpdatesConfig } from '../config/sections/updates.js';
import type { MaintenanceWindow } from '../config/values/maintenance-window.js';
import { parseWindow } from '../config/values/maintenance-window.js';
import { HOOK_FACT_MAX_CHARS } from './hook-context.js';
import { OBSERVER_STOP_WAIT_MS, OperatorPolicy } from './operator-policy.js';

const dir = mkdtempSync(join(tmpdir(), 'operator-policy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const UPDATE = {
  uuid: 'new-uuid',
  version: '1.1.0',
  product: 'demo',
  platform: 'rpi4',
  architecture: 'arm',
  size: 1234,
  checksum: 'AB'.repeat(32),
  deploymentId: 7,
};
const RUNNING = {
  uuid: 'old-uuid',
  version: '1.0.0',
  product: 'demo',
  platform: 'rpi4',
  architecture: 'arm',
};
const HOOKS: HooksConfig = {
  timeoutMs: 2_000,
  onHookFailure: 'reschedule',
  onBeforeHookFailure: 'fail',
  rescheduleDelayMs: 300_000,
  beforeRebootMaxFailures: 3,
};
const UPDATES: UpdatesConfig = { windows: [], windowSpreadMs: 0, rebootPolicy: 'immediate' };

let scripts = 0;
/** A hook as an operator writes one: a shell script file. */
function script(body: string): string[] {
  const path = join(dir, `hook-${scripts++}.sh`);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return [path];
}

function policy(hooks: Partial<HooksConfig> = {}, updates: Partial<UpdatesConfig> = {}, now = Date.now()) {
  const warnings: string[] = [];
  const infos: string[] = [];
  const logger = {
    debug() {},
    info: (message: string) => infos.push(message),
    warn: (message: string) => warnings.push(message),
    error() {},
  };
  const instance = new OperatorPolicy({
    hooks: { ...HOOKS, ...hooks },
    updates: { ...UPDATES, ...updates },
    identifier: 'dev-1',
    running: RUNNING,
    logger,
    now: () => now,
    random: () => 0.5,
  });
  return { policy: instance, warnings, infos };
}

const signal = () => new AbortController().signal;
const windows = (...texts: string[]) =>
  texts.map((text) => (parseWindow(text) as { window: MaintenanceWindow }).window);

describe('OperatorPolicy.decide', () => {
  it('without hooks or windows applies', async () => {
    expect(await policy().policy.decide(UPDATE, signal())).toEqual({ kind: 'apply' });
  });

  it('gives the hook the update facts in its environment and as JSON on stdin', async () => {
    const envFile = join(dir, 'env.txt');
    const inputFile = join(dir, 'input.json');
    const { policy: p } = policy({
      updateAvailable: script(
        `env | grep ^NERVES_HUB_ | sort > ${envFile}; cat > ${inputFile}; echo "ignore not on $NERVES_HUB_UPDATE_PLATFORM"`,
      ),
    });
    expect(await p.decide(UPDATE, signal())).toEqual({ kind: 'ignore', reason: 'not on rpi4' });
    expect(readFileSync(envFile, 'utf8').trim().split('\n')).toEqual([
      'NERVES_HUB_DEVICE_IDENTIFIER=dev-1',
      'NERVES_HUB_HOOK=update_available',
      'NERVES_HUB_REASON=',
      'NERVES_HUB_RUNNING_ARCHITECTURE=arm',
      'NERVES_HUB_RUNNING_PLATFORM=rpi4',
      'NERVES_HUB_RUNNING_PRODUCT=demo',
      'NERVES_HUB_RUNNING_UUID=old-uuid',
      'NERVES_HUB_RUNNING_VERSION=1.0.0',
      'NERVES_HUB_UPDATE_ARCHITECTURE=arm',
      `NERVES_HUB_UPDATE_CHECKSUM=${'AB'.repeat(32)}`,
      'NERVES_HUB_UPDATE_DEPLOYMENT_ID=7',
      'NERVES_HUB_UPDATE_PLATFORM=rpi4',
      'NERVES_HUB_UPDATE_PRODUCT=demo',
      'NERVES_HUB_UPDATE_SIZE=1234',
      'NERVES_HUB_UPDATE_UUID=new-uuid',
      'NERVES_HUB_UPDATE_VERSION=1.1.0',
    ]);
    expect(JSON.parse(readFileSync(inputFile, 'utf8'))).toEqual({
      hook: 'update_available',
      device: { identifier: 'dev-1' },
      running: RUNNING,
      update: {
        uuid: 'new-uuid',
        version: '1.1.0',
        product: 'demo',
        platform: 'rpi4',
        architecture: 'arm',
        size: 1234,
        checksum: 'AB'.repeat(32),
        deployment_id: 7,
      },
      reason: null,
    });
  });

  it('a hook that fails, hangs or prints garbage reschedules by default, with the reason logged and sent', async () => {
    for (const [body, problem] of [
      ['exit 7', /^hooks\.update_available exited with status 7/],
      ['sleep 30', /^hooks\.update_available timed out after 300 ms and was killed/],
      [
        'echo "sure, why not"',
        /^hooks\.update_available printed "sure, why not", not apply, ignore or reschedule/,
      ],
    ] as const) {
      const { policy: p, warnings } = policy({ updateAvailable: script(body), timeoutMs: 300 });
      const decision = await p.decide(UPDATE, signal());
      expect(decision).toEqual({
        kind: 'reschedule',
        delayMs: 300_000,
        reason: expect.stringMatching(problem),
      });
      expect((decision as { reason: string }).reason).toMatch(
        /rescheduled for 5 min by hooks\.on_hook_failure$/,
      );
      expect(warnings.at(-1)).toMatch(/asking again in 5 min \(hooks\.on_hook_failure = "reschedule"\)$/);
    }
    const missing = policy({ updateAvailable: [join(dir, 'missing-hook')] });
    expect(await missing.policy.decide(UPDATE, signal())).toMatchObject({
      kind: 'reschedule',
      reason: expect.stringMatching(/could not start: program not found/),
    });
  });

  it('hooks.on_hook_failure = "apply" applies when the hook fails', async () => {
    const { policy: p, warnings } = policy({ updateAvailable: script('exit 1'), onHookFailure: 'apply' });
    expect(await p.decide(UPDATE, signal())).toEqual({ kind: 'apply' });
    expect(warnings).toEqual([
      'hooks.update_available exited with status 1; applying the update (hooks.on_hook_failure = "apply")',
    ]);
  });

  it('outside the maintenance window: rescheduled until it opens plus part of the spread, without asking the hook', async () => {
    const marker = join(dir, 'asked');
    // Wednesday 2026-08-26 01:00 UTC; the window opens at 02:00.
    const now = Date.parse('2026-08-26T01:00:00Z');
    const { policy: p } = policy(
      { updateAvailable: script(`touch ${marker}`) },
      { windows: windows('Mon-Fri 02:00-05:00'), timezone: 'UTC', windowSpreadMs: 600_000 },
      now,
    );
    // random() is 0.5: half of the 10-minute spread.
    expect(await p.decide(UPDATE, signal())).toEqual({
      kind: 'reschedule',
      delayMs: 3_600_000 + 300_000,
      reason: 'outside the maintenance window "Mon-Fri 02:00-05:00" (UTC); it opens at 2026-08-26 02:00',
    });
    expect(() => readFileSync(marker)).toThrow();
  });

  it('the spread never reaches past the middle of a short window', async () => {
    const now = Date.parse('2026-08-26T01:00:00Z');
    const { policy: p } = policy(
      {},
      { windows: windows('02:00-02:10'), timezone: 'UTC', windowSpreadMs: 3_600_000 },
      now,
    );
    // Half of min(60 min, 10 min / 2).
    expect(await p.decide(UPDATE, signal())).toMatchObject({ delayMs: 3_600_000 + 150_000 });
  });

  it('inside the window the hook decides', async () => {
    const now = Date.parse('2026-08-26T03:00:00Z');
    const { policy: p } = policy(
      { updateAvailable: script('echo reschedule 60000 line busy') },
      { windows: windows('Mon-Fri 02:00-05:00'), timezone: 'UTC' },
      now,
    );
    expect(await p.decide(UPDATE, signal())).toEqual({
      kind: 'reschedule',
      delayMs: 60_000,
      reason: 'line busy',
    });
  });
});

describe('OperatorPolicy before, after and on_error hooks', () => {
  it('before_apply gets the file; a failure fails the update with its output as the reason', async () => {
    const { policy: p } = policy({
      beforeApply: script(
        'echo "stopping app for $NERVES_HUB_UPDATE_FILE"; echo "only 2 MB free on /data" >&2; exit 1',
      ),
    });
    expect(await p.beforeApply(UPDATE, '/data/downloads/x.fw', signal())).toEqual({
      kind: 'fail',
      reason: 'Update failed : hooks.before_apply exited with status 1: only 2 MB free on /data',
    });
  });

  it('hooks.on_before_hook_failure = "reschedule" reschedules instead; exit 21 always does', async () => {
    const { policy: p } = policy({ beforeDownload: script('exit 4'), onBeforeHookFailure: 'reschedule' });
    expect(await p.beforeDownload(UPDATE, signal())).toEqual({
      kind: 'reschedule',
      delayMs: 300_000,
      reason:
        'hooks.before_download exited with status 4; rescheduled for 5 min by hooks.on_before_hook_failure',
    });
    const retry = policy({ beforeDownload: script('echo reschedule 2m battery low; exit 21') });
    expect(await retry.policy.beforeDownload(UPDATE, signal())).toEqual({
      kind: 'reschedule',
      delayMs: 120_000,
      reason: 'battery low',
    });
  });

  it('after_apply and on_error are told; their failure is only logged', async () => {
    const reasonFile = join(dir, 'reason.txt');
    const { policy: p, warnings } = policy({
      onError: script(`printf %s "$NERVES_HUB_REASON" > ${reasonFile}`),
      afterApply: script('echo boom >&2; exit 2'),
    });
    await p.onError(UPDATE, 'Download failed : timeout');
    expect(readFileSync(reasonFile, 'utf8')).toBe('Download failed : timeout');
    await p.afterApply(UPDATE);
    expect(warnings).toEqual(['hooks.after_apply exited with status 2: boom']);
  });
});

describe('OperatorPolicy.beforeReboot', () => {
  it('"immediate": the hook is told, and the answer is always reboot', async () => {
    const { policy: p } = policy({ beforeReboot: script('echo reschedule 10m; exit 0') });
    expect(await p.beforeReboot('the new firmware is written', UPDATE)).toEqual({ kind: 'reboot' });
  });

  it('"hook": the hook decides; its failure follows hooks.on_hook_failure', async () => {
    const later = policy(
      { beforeReboot: script('echo "reschedule 30m user session active"') },
      { rebootPolicy: 'hook' },
    );
    expect(await later.policy.beforeReboot('the server asked for a reboot', undefined)).toEqual({
      kind: 'reschedule',
      delayMs: 1_800_000,
      reason: 'user session active',
    });
    const now = policy(
      { beforeReboot: script('test "$NERVES_HUB_REASON" = "the new firmware is written"') },
      { rebootPolicy: 'hook' },
    );
    expect(await now.policy.beforeReboot('the new firmware is written', UPDATE)).toEqual({ kind: 'reboot' });
    const broken = policy({ beforeReboot: script('exit 9') }, { rebootPolicy: 'hook' });
    expect(await broken.policy.beforeReboot('x', undefined)).toMatchObject({
      kind: 'reschedule',
      delayMs: 300_000,
    });
    const applying = policy(
      { beforeReboot: script('exit 9'), onHookFailure: 'apply' },
      { rebootPolicy: 'hook' },
    );
    expect(await applying.policy.beforeReboot('x', undefined)).toEqual({ kind: 'reboot' });
  });
});

/** A hook that writes its pid (its process group's id) to `name`.pid, then runs `body`. */
function groupHook(name: string, body: string) {
  const pidFile = join(dir, `${name}.pid`);
  rmSync(pidFile, { force: true });
  return {
    command: script(`echo $$ > ${pidFile}\n${body}`),
    async group(): Promise<number> {
      for (let i = 0; i < 300; i++) {
        const text = readFileSync(pidFile, { encoding: 'utf8', flag: 'a+' }).trim();
        if (text) return Number(text);
        await sleep(10);
      }
      throw new Error(`${name} never started`);
    },
  };
}

describe('what hooks are told, from a hostile server', () => {
  it('a 600 KB version reaches the hook bounded and escaped, and the hook starts (no spawn E2BIG)', async () => {
    const envFile = join(dir, 'huge-env.txt');
    const inputFile = join(dir, 'huge-input.json');
    const version = `1.0\u001b[2J${'v'.repeat(600_000)}`;
    const { policy: p } = policy({
      updateAvailable: script(
        `printf %s "$NERVES_HUB_UPDATE_VERSION" > ${envFile}; cat > ${inputFile}; echo ignore too big`,
      ),
    });
    expect(await p.decide({ ...UPDATE, version, product: 'p'.repeat(200_000) }, signal())).toEqual({
      kind: 'ignore',
      reason: 'too big',
    });
    const told = readFileSync(envFile, 'utf8');
    expect(told.length).toBeLessThanOrEqual(HOOK_FACT_MAX_CHARS);
    expect(told).toMatch(/^1\.0\\x1b\[2Jv+… \(600007 characters\)$/);
    const input = JSON.parse(readFileSync(inputFile, 'utf8'));
    expect(input.update.version.length).toBeLessThanOrEqual(HOOK_FACT_MAX_CHARS);
    expect(input.update.version).toMatch(/^1\.0\u001b\[2Jv+… \(600007 characters\)$/);
    expect(input.update.uuid).toBe('new-uuid');
  });
});

describe('proxy credentials', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const name of ['HTTPS_PROXY', 'http_proxy', 'ALL_PROXY', 'no_proxy', 'ftp_proxy']) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  });

  it('never reach a hook: the proxy variables are kept without user and password', async () => {
    process.env.HTTPS_PROXY = 'http://fleet:s3cret@proxy.example.com:3128';
    process.env.http_proxy = 'fleet:s3cret@proxy.example.com:8080';
    process.env.ALL_PROXY = 'socks5://fleet:s3cret@proxy.example.com:1080';
    process.env.ftp_proxy = 'fleet:s3cret@[not a url';
    process.env.no_proxy = 'localhost,.internal';
    const envFile = join(dir, 'proxy-env.txt');
    const { policy: p } = policy({ onError: script(`env | grep -i _proxy= | sort > ${envFile}`) });
    await p.onError(UPDATE, 'Download failed : x');
    const told = readFileSync(envFile, 'utf8');
    expect(told).not.toContain('s3cret');
    expect(told.trim().split('\n')).toEqual([
      'ALL_PROXY=socks5://proxy.example.com:1080',
      'HTTPS_PROXY=http://proxy.example.com:3128',
      'http_proxy=proxy.example.com:8080',
      'no_proxy=localhost,.internal',
    ]);
  });
});

describe('at most one instance of each hook', () => {
  it('a burst of 100 failures: on_error runs once at a time, the newest failure waiting, the rest dropped and logged', async () => {
    const log = join(dir, 'on-error-burst.log');
    rmSync(log, { force: true });
    const { policy: p, infos } = policy({
      onError: script(`echo "start $NERVES_HUB_REASON" >> ${log}; sleep 0.3; echo end >> ${log}`),
    });
    const told = Array.from({ length: 100 }, (_, i) =>
      p.onError({ ...UPDATE, uuid: `u-${i}` }, `reason-${i}`),
    );
    await Promise.all(told);
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    // One run, then one for the newest failure: never two at once.
    expect(lines).toEqual(['start reason-0', 'end', 'start reason-99', 'end']);
    expect(
      infos.filter((line) => /hooks\.on_error not told about the failure of update u-\d+/.test(line)),
    ).toHaveLength(98);
  });

  it('before_reboot runs one at a time, whoever asks', async () => {
    const log = join(dir, 'reboot-lane.log');
    rmSync(log, { force: true });
    const { policy: p } = policy({
      beforeReboot: script(`echo start >> ${log}; sleep 0.2; echo end >> ${log}`),
    });
    await Promise.all([p.beforeReboot('one', undefined), p.beforeReboot('two', undefined)]);
    expect(readFileSync(log, 'utf8').trim().split('\n')).toEqual(['start', 'end', 'start', 'end']);
  });
});

describe('OperatorPolicy.stop', () => {
  it('stops a hook that decides at once, with everything it started', async () => {
    const hook = groupHook('decides', 'sleep 30 & sleep 30');
    const { policy: p } = policy({ updateAvailable: hook.command, timeoutMs: 60_000 });
    const decided = p.decide(UPDATE, signal());
    const pgid = await hook.group();
    const started = performance.now();
    await p.stop();
    expect(performance.now() - started).toBeLessThan(1_500);
    expect(runningMembers(pgid)).toEqual([]);
    await decided;
  });

  it(`gives a hook that is only told ${OBSERVER_STOP_WAIT_MS} ms, then stops it; a waiting one never runs`, async () => {
    const quick = groupHook('told-quick', 'sleep 0.5; echo finished > /dev/null');
    const quickPolicy = policy({ afterApply: quick.command, timeoutMs: 60_000 });
    const quickDone = quickPolicy.policy.afterApply(UPDATE);
    await quick.group();
    await quickPolicy.policy.stop();
    await quickDone;
    expect(quickPolicy.warnings).toEqual([]); // it finished on its own

    const slow = groupHook('told-slow', 'sleep 30');
    const log = join(dir, 'told-slow.log');
    rmSync(log, { force: true });
    const { policy: p, warnings } = policy({
      onError: [...slow.command, log],
      timeoutMs: 60_000,
    });
    const first = p.onError(UPDATE, 'first');
    const second = p.onError(UPDATE, 'second');
    const pgid = await slow.group();
    const started = performance.now();
    await p.stop();
    const tookMs = performance.now() - started;
    await Promise.all([first, second]);
    expect(tookMs).toBeGreaterThanOrEqual(OBSERVER_STOP_WAIT_MS - 50);
    expect(tookMs).toBeLessThan(OBSERVER_STOP_WAIT_MS + 1_500);
    expect(runningMembers(pgid)).toEqual([]);
    expect(warnings).toEqual(['hooks.on_error was stopped: the daemon is stopping']);
  });
});

describe('a broken before_reboot (updates.reboot_policy = "hook")', () => {
  it(`holds the reboot back at most hooks.before_reboot_max_failures times in a row, then the device reboots`, async () => {
    const { policy: p, warnings } = policy(
      { beforeReboot: script('exit 1'), beforeRebootMaxFailures: 3 },
      { rebootPolicy: 'hook' },
    );
    expect(await p.beforeReboot('x', undefined)).toMatchObject({ kind: 'reschedule', delayMs: 300_000 });
    expect(await p.beforeReboot('x', undefined)).toMatchObject({ kind: 'reschedule' });
    expect(await p.beforeReboot('x', undefined)).toEqual({ kind: 'reboot' });
    expect(warnings[0]).toMatch(/failure 1 of at most 3 before the daemon reboots anyway\)$/);
    expect(warnings[2]).toMatch(
      /^hooks\.before_reboot exited with status 1; it failed 3 times in a row, rebooting now \(hooks\.before_reboot_max_failures = 3\)$/,
    );
  });

  it('counts failures in a row only: an answer in between starts the count again', async () => {
    const answer = join(dir, 'reboot-answer');
    writeFileSync(answer, 'exit 1');
    const { policy: p } = policy(
      { beforeReboot: script(`. ${answer}`), beforeRebootMaxFailures: 2 },
      { rebootPolicy: 'hook' },
    );
    expect(await p.beforeReboot('x', undefined)).toMatchObject({ kind: 'reschedule' });
    writeFileSync(answer, 'echo reschedule 10m; exit 0');
    expect(await p.beforeReboot('x', undefined)).toMatchObject({ kind: 'reschedule', delayMs: 600_000 });
    writeFileSync(answer, 'exit 1');
    expect(await p.beforeReboot('x', undefined)).toMatchObject({ kind: 'reschedule' });
    expect(await p.beforeReboot('x', undefined)).toEqual({ kind: 'reboot' });
  });

  it('is stopped with its group when the signal is aborted', async () => {
    const hook = groupHook('reboot-hangs', 'sleep 30 & wait');
    const { policy: p } = policy({ beforeReboot: hook.command, timeoutMs: 60_000 }, { rebootPolicy: 'hook' });
    const stop = new AbortController();
    const asked = p.beforeReboot('x', undefined, stop.signal);
    const pgid = await hook.group();
    stop.abort();
    expect(await asked).toEqual({ kind: 'reboot' });
    expect(runningMembers(pgid)).toEqual([]);
  });
});
