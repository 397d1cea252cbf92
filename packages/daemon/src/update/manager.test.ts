import { ManualClock } from '@nerves-hub-link/test-server/testing';
import { describe, expect, it } from 'vitest';
import type { Clock } from '../runtime/clock.js';
import { REPEATED_FAILURES, STATUS_BOUND } from './constants.js';
import type { UpdateFacts } from './facts.js';
import { UpdateManager, type UpdateManagerOptions } from './manager.js';
import { recordUpdates, type UpdateObserver } from './observer.js';
import type { PreparationResult, UpdateDecision, UpdatePolicy } from './policy.js';
import { reportToServer, StatusReporter } from './status-reporter.js';
import type { UpdateSteps } from './steps.js';

const KEY = 'q6VGsxJz6n1dBbv8hVbJYW0LZ6pJ0Cj5Rrq3Jm2Ykq4=';
const OFFER = {
  update_available: true,
  firmware_url: 'https://fw.example/f.fw?X-Amz-Signature=secret',
  firmware_meta: { uuid: 'new-uuid', version: '1.1.0' },
  size: 10,
  checksum: 'A'.repeat(64),
  deployment_id: 1,
};

function codeError(code: string, message = code, extra: Record<string, unknown> = {}) {
  return Object.assign(new Error(message), { code, ...extra });
}

interface SetupOptions extends Partial<UpdateSteps> {
  readonly keys?: string[];
  readonly allowUnsigned?: boolean;
  readonly keysWaitMs?: number;
  /** Hold statuses as a channel does while not joined: `release()` hands them to the socket. */
  readonly holdStatuses?: boolean;
  /** Refuse every status (a full buffer, a closed channel). */
  readonly refuseStatuses?: boolean;
  readonly policy?: UpdatePolicy;
  readonly observer?: UpdateObserver;
  readonly graceMs?: number;
}

function setup(options: SetupOptions = {}) {
  const sent: Array<[string, Record<string, unknown>]> = [];
  const held: Array<() => void> = [];
  const discarded: string[] = [];
  const applied: string[] = [];
  const logs: string[] = [];
  let downloads = 0;
  const clock = new ManualClock({ startAt: 1_000_000, frozen: true });
  // A wall clock that NTP (or a bad RTC) steps, either way; timers are not moved by a step.
  let wallStepMs = 0;
  const managerClock: Clock = {
    now: () => clock.now() + wallStepMs,
    setTimeout: (callback, delayMs) => clock.setTimeout(callback, delayMs),
    clearTimeout: (timer) => clock.clearTimeout(timer),
  };
  const keys = options.keys ?? [KEY];
  const {
    keys: _keys,
    allowUnsigned,
    keysWaitMs,
    holdStatuses,
    refuseStatuses,
    policy,
    observer,
    graceMs,
    ...overrides
  } = options;
  const steps: UpdateSteps = {
    download: async (_offer, { onProgress, onConnection }) => {
      onConnection({ networkInterface: 'eth0' });
      onProgress(50, 5, 10);
      onProgress(100, 10, 10);
      return '/data/new.fw';
    },
    verify: async () => {},
    apply: async (_path, { onProgress }) => {
      onProgress(0);
      onProgress(100);
    },
    discard: async (path) => {
      discarded.push(path);
    },
    ...overrides,
  };
  const download = steps.download;
  steps.download = (offer, downloadOptions) => {
    downloads++;
    return download(offer, downloadOptions);
  };
  const log = (message: string) => logs.push(message);
  const logger = { debug: log, info: log, warn: log, error: log };
  const managerOptions: UpdateManagerOptions = {
    steps,
    listeners: [
      reportToServer(
        new StatusReporter((event, payload, sendOptions) => {
          if (refuseStatuses) return false;
          sent.push([event, payload]);
          if (sendOptions?.onSent) {
            if (holdStatuses) held.push(sendOptions.onSent);
            else sendOptions.onSent();
          }
          return true;
        }),
      ),
      ...(observer ? [recordUpdates(observer)] : []),
    ],
    logger,
    runningUuid: 'running-uuid',
    publicKeys: () => keys,
    allowUnsigned: allowUnsigned ?? false,
    keysWaitMs: keysWaitMs ?? 50,
    onApplied: (offer) => applied.push(offer.uuid),
    clock: managerClock,
    ...(policy ? { policy } : {}),
    ...(graceMs !== undefined ? { deploymentReofferGraceMs: graceMs } : {}),
  };
  const manager = new UpdateManager(managerOptions);
  const statuses = () => sent.filter(([event]) => event === 'status_update').map(([, payload]) => payload);
  const settle = async () => {
    for (let i = 0; i < 50 && manager.phase !== 'idle' && manager.phase !== 'awaiting-reboot'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  };
  const untilPhase = async (phase: string) => {
    for (let i = 0; i < 50 && manager.phase !== phase; i++) await new Promise((r) => setImmediate(r));
    expect(manager.phase).toBe(phase);
  };
  return {
    manager,
    sent,
    statuses,
    discarded,
    applied,
    keys,
    settle,
    untilPhase,
    logs,
    clock,
    downloads: () => downloads,
    /** Moves the clock, calling the re-asks that fall due. */
    advance: (ms: number) => clock.advance(ms),
    /** Steps the wall clock the manager reads (as NTP does), without moving its timers. */
    stepWallClock: (ms: number) => {
      wallStepMs += ms;
    },
    releaseHeld: () => {
      for (const onSent of held.splice(0)) onSent();
    },
  };
}

describe('UpdateManager', () => {
  it('reports received, started per connection, progress, completed in that order and hands over for the reboot', async () => {
    const t = setup();
    t.manager.offer(OFFER);
    expect(t.manager.currentlyDownloadingUuid).toBe('new-uuid');
    await t.settle();
    expect(t.sent).toEqual([
      ['status_update', { status: 'received' }],
      ['status_update', { status: 'started', downloader_network_interface: 'eth0' }],
      ['fwup_progress', { stage: 'downloading', value: 50 }],
      ['fwup_progress', { stage: 'downloading', value: 100 }],
      ['fwup_progress', { stage: 'updating', value: 0 }],
      ['fwup_progress', { stage: 'updating', value: 100 }],
      ['status_update', { status: 'completed' }],
    ]);
    expect(t.applied).toEqual(['new-uuid']);
    expect(t.discarded).toEqual(['/data/new.fw']);
  });

  it('sends started for every connection of the download, with the interface only when it is known', async () => {
    const t = setup({
      download: async (_offer, { onConnection }) => {
        onConnection({ networkInterface: 'wlan0' });
        onConnection({ networkInterface: 'wlan0' });
        onConnection({ networkInterface: undefined });
        return '/data/new.fw';
      },
    });
    t.manager.offer(OFFER);
    await t.settle();
    expect(t.statuses().filter((status) => status.status === 'started')).toEqual([
      { status: 'started', downloader_network_interface: 'wlan0' },
      { status: 'started', downloader_network_interface: 'wlan0' },
      { status: 'started' },
    ]);
  });

  it('ignores a message with nothing to apply, without any status', () => {
    const t = setup();
    t.manager.offer({ update_available: false, firmware_url: null, firmware_meta: null });
    t.manager.offer({ update_available: true, firmware_url: 'https://x/f.fw' });
    t.manager.offer('nonsense');
    expect(t.sent).toEqual([]);
  });

  it('answers an offer of the running firmware with received then ignored and a reason', () => {
    const t = setup();
    t.manager.offer({ ...OFFER, firmware_meta: { uuid: 'running-uuid' } });
    expect(t.statuses()).toEqual([
      { status: 'received' },
      { status: 'ignored', reason: 'firmware running-uuid is already running' },
    ]);
    expect(t.manager.phase).toBe('idle');
  });

  it('ignores a second offer while an update runs, without a status that would land on the first', async () => {
    let release!: () => void;
    const t = setup({
      download: () =>
        new Promise((resolve) => {
          release = () => resolve('/data/new.fw');
        }),
    });
    t.manager.offer(OFFER);
    await t.untilPhase('downloading');
    t.manager.offer({ ...OFFER, firmware_meta: { uuid: 'other-uuid' } });
    expect(t.statuses()).toEqual([{ status: 'received' }]);
    release();
    await t.settle();
    expect(t.applied).toEqual(['new-uuid']);
  });

  it('reports a fwup failure with the familiar prefix and removes the file', async () => {
    const t = setup({
      apply: async () => {
        throw codeError('FW_FWUP_FAILED', 'fwup failed', { fwupMessage: 'Invalid signature' });
      },
    });
    t.manager.offer(OFFER);
    await t.settle();
    expect(t.statuses().at(-1)).toEqual({ status: 'failed', reason: 'FWUP error : "Invalid signature"' });
    expect(t.discarded).toEqual(['/data/new.fw']);
    expect(t.manager.phase).toBe('idle');
    expect(t.applied).toEqual([]);
  });

  it('never puts a pre-signed query string into a reason', async () => {
    const t = setup({
      download: async () => {
        throw codeError('FW_HTTP_ERROR', 'GET https://fw.example/f.fw?X-Amz-Signature=secret answered 404');
      },
    });
    t.manager.offer(OFFER);
    await t.settle();
    const reason = String(t.statuses().at(-1)?.reason);
    expect(reason).toMatch(/^Download failed : /);
    expect(reason).not.toContain('secret');
  });

  describe('a stop (SIGTERM/SIGINT)', () => {
    it('during the download: aborts it, removes the file, sends no status, and the next join names no update', async () => {
      let partialRemoved = false;
      const t = setup({
        download: (_offer, { signal, onConnection }) =>
          new Promise((_resolve, reject) => {
            onConnection({ networkInterface: 'eth0' });
            signal.addEventListener('abort', () => {
              partialRemoved = true; // the firmware package deletes the .part file on abort
              reject(codeError('FW_ABORTED', 'download cancelled'));
            });
          }),
      });
      t.manager.offer(OFFER);
      await t.untilPhase('downloading');
      await t.manager.shutdown();
      expect(partialRemoved).toBe(true);
      expect(t.statuses().map((status) => status.status)).toEqual(['received', 'started']);
      expect(t.manager.phase).toBe('idle');
      expect(t.manager.currentlyDownloadingUuid).toBeNull();
    });

    it('during verify: lets fwup -V end, removes the file, sends no status', async () => {
      let finishVerify!: () => void;
      const t = setup({
        verify: () =>
          new Promise((resolve) => {
            finishVerify = resolve;
          }),
      });
      t.manager.offer(OFFER);
      await t.untilPhase('verifying');
      const stopped = t.manager.shutdown();
      finishVerify();
      await stopped;
      expect(t.discarded).toEqual(['/data/new.fw']);
      expect(t.statuses().map((status) => status.status)).toEqual(['received', 'started']);
      expect(t.applied).toEqual([]);
      expect(t.manager.currentlyDownloadingUuid).toBeNull();
    });

    it('during apply: waits for fwup to finish and completes', async () => {
      let finishApply!: () => void;
      const t = setup({
        apply: () =>
          new Promise((resolve) => {
            finishApply = resolve;
          }),
      });
      t.manager.offer(OFFER);
      await t.untilPhase('applying');
      let shutDown = false;
      const shutdown = t.manager.shutdown().then(() => {
        shutDown = true;
      });
      await new Promise((resolve) => setImmediate(resolve));
      expect(shutDown).toBe(false);
      finishApply();
      await shutdown;
      expect(t.statuses().at(-1)).toEqual({ status: 'completed' });
    });
  });

  describe('signing keys', () => {
    it('with none configured and none from the server: received, then failed saying how to fix it; nothing downloaded', async () => {
      const t = setup({ keys: [] });
      t.manager.offer(OFFER);
      await t.untilPhase('awaiting-keys');
      expect(t.manager.currentlyDownloadingUuid).toBe('new-uuid');
      t.advance(49);
      expect(t.manager.phase).toBe('awaiting-keys');
      t.advance(1);
      await t.settle();
      expect(t.downloads()).toBe(0);
      const statuses = t.statuses();
      expect(statuses.map((status) => status.status)).toEqual(['received', 'failed']);
      expect(statuses[1]?.reason).toMatch(/^Refusing unverified firmware : no fwup public keys/);
      expect(statuses[1]?.reason).toContain('fwup.public_keys');
      expect(statuses[1]?.reason).toContain('signing key to the NervesHub organization');
    });

    it('uses keys that arrive from the server while the offer waits for them', async () => {
      const t = setup({ keys: [], keysWaitMs: 10_000 });
      t.manager.offer(OFFER);
      await t.untilPhase('awaiting-keys');
      t.manager.keysChanged(); // an empty list changes nothing
      expect(t.manager.phase).toBe('awaiting-keys');
      t.keys.push(KEY);
      t.manager.keysChanged();
      await t.settle();
      expect(t.statuses().map((status) => status.status)).toEqual(['received', 'started', 'completed']);
    });

    it('applies unsigned firmware without waiting when fwup.allow_unsigned is set', async () => {
      const t = setup({ keys: [], allowUnsigned: true, keysWaitMs: 10_000 });
      t.manager.offer(OFFER);
      await t.settle();
      expect(t.statuses().map((status) => status.status)).toEqual(['received', 'started', 'completed']);
    });

    it('a stop while waiting for keys sends nothing more', async () => {
      const t = setup({ keys: [], keysWaitMs: 10_000 });
      t.manager.offer(OFFER);
      await t.untilPhase('awaiting-keys');
      await t.manager.shutdown();
      expect(t.statuses()).toEqual([{ status: 'received' }]);
      expect(t.downloads()).toBe(0);
    });
  });

  it('reports a refused firmware URL (401/403) as failed, naming the status, with the URL redacted', async () => {
    for (const [code, statusCode] of [
      ['FW_URL_EXPIRED', 403],
      ['FW_HTTP_STATUS', 401],
    ] as const) {
      const t = setup({
        download: async () => {
          throw codeError(code, 'https://fw.example/f.fw refused the download', { statusCode });
        },
      });
      t.manager.offer(OFFER);
      await t.settle();
      const last = t.statuses().at(-1);
      expect(last?.status).toBe('failed');
      expect(last?.reason).toContain(`HTTP ${statusCode}`);
      expect(last?.reason).toContain('refused the URL');
      expect(last?.reason).toContain('https://fw.example/f.fw');
      expect(last?.reason).not.toContain('X-Amz');
      expect(t.downloads()).toBe(1);
    }
  });

  describe('final statuses and the in-flight uuid', () => {
    it('keeps naming the update in joins until its final status has left the socket', async () => {
      const t = setup({
        holdStatuses: true,
        download: async () => {
          throw codeError('FW_CHECKSUM_MISMATCH', 'checksum mismatch');
        },
      });
      t.manager.offer(OFFER);
      await t.settle();
      expect(t.manager.phase).toBe('idle');
      expect(t.statuses().at(-1)).toMatchObject({ status: 'failed' });
      expect(t.manager.currentlyDownloadingUuid).toBe('new-uuid');
      t.releaseHeld();
      expect(t.manager.currentlyDownloadingUuid).toBeNull();
    });

    it('also for ignored and completed', async () => {
      const ignored = setup({ holdStatuses: true });
      ignored.manager.offer({ ...OFFER, firmware_meta: { uuid: 'running-uuid' } });
      expect(ignored.manager.currentlyDownloadingUuid).toBe('running-uuid');
      ignored.releaseHeld();
      expect(ignored.manager.currentlyDownloadingUuid).toBeNull();

      const completed = setup({ holdStatuses: true });
      completed.manager.offer(OFFER);
      await completed.settle();
      expect(completed.manager.currentlyDownloadingUuid).toBe('new-uuid');
    });

    it('forgets a final status that could not be queued at all', async () => {
      const t = setup({
        refuseStatuses: true,
        download: async () => {
          throw codeError('FW_CHECKSUM_MISMATCH', 'checksum mismatch');
        },
      });
      t.manager.offer(OFFER);
      await t.settle();
      expect(t.manager.currentlyDownloadingUuid).toBeNull();
    });
  });

  describe('the same firmware failing again and again', () => {
    const failing = () =>
      setup({
        download: async () => {
          throw codeError('FW_CHECKSUM_MISMATCH', 'checksum mismatch');
        },
      });

    it(`tries every offer at once (within ${STATUS_BOUND.offers} a minute): no hidden cooldown`, async () => {
      const t = failing();
      for (let i = 0; i < REPEATED_FAILURES.count; i++) {
        t.manager.offer(OFFER);
        await t.settle();
        t.advance(STATUS_BOUND.windowMs / STATUS_BOUND.offers);
      }
      expect(t.downloads()).toBe(REPEATED_FAILURES.count);
    });

    it(`answers the next offer after ${REPEATED_FAILURES.count} failures in ${REPEATED_FAILURES.windowMs / 60_000} minutes with received + rescheduled`, async () => {
      const t = failing();
      for (let i = 0; i < REPEATED_FAILURES.count; i++) {
        t.manager.offer(OFFER);
        await t.settle();
        t.advance(60_000);
      }
      const before = t.statuses().length;
      t.manager.offer(OFFER);
      expect(t.downloads()).toBe(REPEATED_FAILURES.count);
      const answer = t.statuses().slice(before);
      expect(answer).toEqual([
        { status: 'received' },
        {
          status: 'rescheduled',
          delay_for: REPEATED_FAILURES.rescheduleMs,
          reason: expect.stringMatching(/failed 3 times .* again in 10 minutes/),
        },
      ]);
      expect(Number.isInteger(answer[1]?.delay_for)).toBe(true);
      // Another firmware is not held back, and this one is tried again once the failures are old enough.
      t.manager.offer({ ...OFFER, firmware_meta: { uuid: 'other-uuid' } });
      await t.settle();
      expect(t.downloads()).toBe(REPEATED_FAILURES.count + 1);
      t.advance(REPEATED_FAILURES.windowMs);
      t.manager.offer(OFFER);
      await t.settle();
      expect(t.downloads()).toBe(REPEATED_FAILURES.count + 2);
    });

    it('failures while the clock was years ahead do not count once it is set back (NTP after a bad RTC)', async () => {
      const t = failing();
      const fourYears = 4 * 365 * 86_400_000;
      t.stepWallClock(fourYears);
      for (let i = 0; i < REPEATED_FAILURES.count; i++) {
        t.manager.offer(OFFER);
        await t.settle();
        t.advance(STATUS_BOUND.windowMs / STATUS_BOUND.offers);
      }
      t.stepWallClock(-fourYears);
      const before = t.statuses().length;
      t.manager.offer(OFFER);
      await t.settle();
      expect(t.downloads()).toBe(REPEATED_FAILURES.count + 1);
      expect(
        t
          .statuses()
          .slice(before)
          .map((payload) => payload.status),
      ).toEqual(['received', 'failed']);
    });
  });
});

/** A policy that answers from queues (the real one, with hooks and windows, is tested in hooks/operator-policy.test.ts). */
function scriptedPolicy(
  decisions: UpdateDecision[],
  options: { beforeDownload?: PreparationResult; beforeApply?: PreparationResult } = {},
) {
  const calls: string[] = [];
  const errors: string[] = [];
  const policy: UpdatePolicy = {
    async decide(update) {
      calls.push(`decide ${update.uuid}`);
      return decisions.shift() ?? { kind: 'apply' };
    },
    async beforeDownload() {
      calls.push('before_download');
      return options.beforeDownload ?? { kind: 'continue' };
    },
    async beforeApply(_update, file) {
      calls.push(`before_apply ${file}`);
      return options.beforeApply ?? { kind: 'continue' };
    },
    async afterApply() {
      calls.push('after_apply');
    },
    async onError(_update, reason) {
      errors.push(reason);
    },
  };
  return { policy, calls, errors };
}

function recordingObserver() {
  const events: string[] = [];
  let next: { update: UpdateFacts; at?: number; localRetryAt?: number; note: string } | undefined;
  const observer: UpdateObserver = {
    stage: (update, stage, percent) => {
      const last = events.at(-1);
      const line = `stage ${update.uuid} ${stage}`;
      if (percent === undefined || !last?.startsWith(line))
        events.push(percent === undefined ? line : `${line} ${percent}`);
    },
    result: (update, status, reason) =>
      events.push(`result ${update.uuid} ${status}${reason ? `: ${reason}` : ''}`),
    dropped: () => events.push('dropped'),
    nextAttempt: (attempt) => {
      next = attempt;
    },
  };
  return { observer, events, next: () => next };
}

const MANUAL = { ...OFFER, deployment_id: null };

describe('operator decisions', () => {
  it('ignore: received, then ignored with the reason; nothing is downloaded', async () => {
    const { policy } = scriptedPolicy([{ kind: 'ignore', reason: 'pinned by the field team' }]);
    const watch = recordingObserver();
    const t = setup({ policy, observer: watch.observer });
    t.manager.offer(OFFER);
    await t.settle();
    expect(t.statuses()).toEqual([
      { status: 'received' },
      { status: 'ignored', reason: 'pinned by the field team' },
    ]);
    expect(t.downloads()).toBe(0);
    expect(watch.events).toEqual([
      'stage new-uuid deciding',
      'result new-uuid ignored: pinned by the field team',
    ]);
  });

  it('reschedule of a manual push: rescheduled with an integer delay_for, then the device asks again itself and applies', async () => {
    const { policy, calls } = scriptedPolicy([{ kind: 'reschedule', delayMs: 600_000, reason: 'busy' }]);
    const watch = recordingObserver();
    const t = setup({ policy, observer: watch.observer });
    t.manager.offer(MANUAL);
    await t.settle();
    expect(t.statuses()).toEqual([
      { status: 'received' },
      { status: 'rescheduled', delay_for: 600_000, reason: 'busy' },
    ]);
    expect(t.manager.currentlyDownloadingUuid).toBeNull();
    expect(watch.next()).toMatchObject({
      update: { uuid: 'new-uuid' },
      localRetryAt: 1_600_000,
      note: expect.stringMatching(/asks again itself/),
    });
    expect(watch.next()?.at).toBeUndefined();
    t.advance(599_999);
    expect(calls.filter((call) => call.startsWith('decide'))).toHaveLength(1);
    t.advance(1);
    await t.settle();
    expect(calls.filter((call) => call.startsWith('decide'))).toHaveLength(2);
    expect(t.statuses().map((status) => status.status)).toEqual([
      'received',
      'rescheduled',
      'received',
      'started',
      'completed',
    ]);
    expect(t.applied).toEqual(['new-uuid']);
  });

  it('reschedule of a deployment offer: the server offers it again when its block ends; the device waits longer', async () => {
    const { policy, calls } = scriptedPolicy([{ kind: 'reschedule', delayMs: 600_000, reason: 'later' }]);
    const watch = recordingObserver();
    const t = setup({ policy, observer: watch.observer, graceMs: 180_000 });
    t.manager.offer(OFFER);
    await t.settle();
    expect(watch.next()).toMatchObject({ at: 1_600_000, localRetryAt: 1_780_000 });
    t.advance(700_000);
    expect(calls).toEqual(['decide new-uuid']);
    // The server offers it again: that offer is decided, and the device's own re-ask is off.
    t.manager.offer(OFFER);
    await t.settle();
    t.advance(600_000);
    expect(t.clock.pending().length).toBe(0);
    expect(calls.filter((call) => call.startsWith('decide'))).toHaveLength(2);
    expect(t.applied).toEqual(['new-uuid']);
  });

  it('another offer replaces a rescheduled one', async () => {
    const { policy, calls } = scriptedPolicy([{ kind: 'reschedule', delayMs: 300_000, reason: 'later' }]);
    const watch = recordingObserver();
    const t = setup({ policy, observer: watch.observer });
    t.manager.offer(MANUAL);
    await t.settle();
    expect(watch.next()).toBeDefined();
    t.manager.offer({ ...MANUAL, firmware_meta: { uuid: 'other-uuid' } });
    expect(watch.next()).toBeUndefined();
    await t.settle();
    t.advance(600_000);
    expect(calls.filter((call) => call.startsWith('decide'))).toEqual([
      'decide new-uuid',
      'decide other-uuid',
    ]);
    expect(t.applied).toEqual(['other-uuid']);
  });

  it('does not re-use an offer whose firmware link will have expired; says so', async () => {
    const day = 24 * 3_600_000;
    const { policy, calls } = scriptedPolicy([{ kind: 'reschedule', delayMs: day, reason: 'weekend only' }]);
    const watch = recordingObserver();
    const t = setup({ policy, observer: watch.observer });
    t.manager.offer(MANUAL);
    await t.settle();
    expect(t.statuses().at(-1)).toEqual({ status: 'rescheduled', delay_for: day, reason: 'weekend only' });
    expect(watch.next()).toMatchObject({ at: 1_000_000 + day, note: expect.stringMatching(/push it again/) });
    expect(watch.next()?.localRetryAt).toBeUndefined();
    expect(calls).toHaveLength(1);
  });

  it('before_download fails the update with its reason, before anything is downloaded; on_error hears it', async () => {
    const { policy, errors } = scriptedPolicy([], {
      beforeDownload: {
        kind: 'fail',
        reason: 'Update failed : hooks.before_download exited with status 1: no space',
      },
    });
    const t = setup({ policy });
    t.manager.offer(OFFER);
    await t.settle();
    expect(t.statuses()).toEqual([
      { status: 'received' },
      { status: 'failed', reason: 'Update failed : hooks.before_download exited with status 1: no space' },
    ]);
    expect(t.downloads()).toBe(0);
    expect(errors).toEqual(['Update failed : hooks.before_download exited with status 1: no space']);
  });

  it('before_apply may reschedule: the checked file is removed and fwup does not run', async () => {
    let applies = 0;
    const { policy, calls } = scriptedPolicy([], {
      beforeApply: { kind: 'reschedule', delayMs: 900_000, reason: 'recording in progress' },
    });
    const t = setup({
      policy,
      apply: async () => {
        applies++;
      },
    });
    t.manager.offer(OFFER);
    await t.settle();
    expect(t.statuses().map((status) => status.status)).toEqual(['received', 'started', 'rescheduled']);
    expect(t.statuses().at(-1)).toEqual({
      status: 'rescheduled',
      delay_for: 900_000,
      reason: 'recording in progress',
    });
    expect(calls).toContain('before_apply /data/new.fw');
    expect(t.discarded).toEqual(['/data/new.fw']);
    expect(applies).toBe(0);
  });

  it('runs the steps in order and reports every stage; after_apply before the hand-over for the reboot', async () => {
    const { policy, calls } = scriptedPolicy([]);
    const watch = recordingObserver();
    const t = setup({ policy, observer: watch.observer });
    t.manager.offer(OFFER);
    await t.settle();
    expect(calls).toEqual(['decide new-uuid', 'before_download', 'before_apply /data/new.fw', 'after_apply']);
    expect(watch.events).toEqual([
      'stage new-uuid deciding',
      'stage new-uuid before-download',
      'stage new-uuid downloading',
      'stage new-uuid verifying',
      'stage new-uuid before-apply',
      'stage new-uuid applying 0',
      'result new-uuid completed',
      'stage new-uuid after-apply',
      'stage new-uuid awaiting-reboot',
    ]);
    expect(t.manager.applied?.uuid).toBe('new-uuid');
  });

  it('while a written firmware waits for its reboot, no offer is answered: no attempt, no penalty box', async () => {
    const t = setup();
    t.manager.offer(OFFER);
    await t.settle();
    expect(t.manager.phase).toBe('awaiting-reboot');
    const before = t.statuses().length;
    t.manager.offer({ ...OFFER, firmware_meta: { uuid: 'newer-uuid' } });
    t.manager.offer(OFFER);
    expect(t.statuses()).toHaveLength(before);
    expect(t.downloads()).toBe(1);
    expect(t.manager.applied?.uuid).toBe('new-uuid');
    expect(t.logs).toContain(
      'update newer-uuid not answered: firmware new-uuid is written and runs after the next reboot; no other update until then (no status: NervesHub counts no attempt and offers it again after the reboot)',
    );
  });

  it('a stop while the operator decides: no status after received, and the next join names no update', async () => {
    let sawAbort = false;
    const policy: UpdatePolicy = {
      ...scriptedPolicy([]).policy,
      decide: (_update, signal) =>
        new Promise((resolve) => {
          signal.addEventListener('abort', () => {
            sawAbort = true;
            resolve({ kind: 'apply' });
          });
        }),
    };
    const watch = recordingObserver();
    const t = setup({ policy, observer: watch.observer });
    t.manager.offer(OFFER);
    await t.untilPhase('deciding');
    expect(t.manager.isPreparing).toBe(true);
    await t.manager.shutdown();
    expect(sawAbort).toBe(true);
    expect(t.statuses()).toEqual([{ status: 'received' }]);
    expect(t.manager.currentlyDownloadingUuid).toBeNull();
    expect(t.downloads()).toBe(0);
    expect(watch.events.at(-1)).toBe('dropped');
  });
});

describe('bounds on what NervesHub hears', () => {
  it('a reschedule shorter than 5 minutes waits 5 minutes, and says so; the hook is not asked sooner', async () => {
    const { policy, calls } = scriptedPolicy([
      { kind: 'reschedule', delayMs: 1, reason: 'busy' },
      { kind: 'reschedule', delayMs: 0, reason: 'busy' },
    ]);
    const t = setup({ policy });
    t.manager.offer(MANUAL);
    await t.settle();
    expect(t.statuses()).toEqual([
      { status: 'received' },
      { status: 'rescheduled', delay_for: 300_000, reason: 'busy' },
    ]);
    expect(t.logs).toContain(
      'update new-uuid (1.1.0): the delay of a rescheduled offer, 1 ms, was raised to 5 min (the shortest reschedule the device sends NervesHub and asks again after)',
    );
    t.advance(299_999);
    await t.settle();
    expect(calls).toHaveLength(1);
    t.advance(1);
    await t.settle();
    expect(calls).toHaveLength(2);
    expect(t.statuses().at(-1)).toEqual({ status: 'rescheduled', delay_for: 300_000, reason: 'busy' });
  });

  it('a reschedule longer than 30 days is cut to 30 days, and says so', async () => {
    const { policy } = scriptedPolicy([
      { kind: 'reschedule', delayMs: 40 * 86_400_000, reason: 'next quarter' },
    ]);
    const t = setup({ policy });
    t.manager.offer(OFFER);
    await t.settle();
    expect(t.statuses().at(-1)).toEqual({
      status: 'rescheduled',
      delay_for: 30 * 86_400_000,
      reason: 'next quarter',
    });
    expect(t.logs.some((line) => line.includes('40 d, was cut to 30 d'))).toBe(true);
  });

  it(`answers at most ${STATUS_BOUND.offers} offers of one firmware a minute; the others get no status at all`, async () => {
    const { policy } = scriptedPolicy(
      Array.from({ length: 100 }, () => ({ kind: 'ignore', reason: 'no' }) as const),
    );
    const t = setup({ policy });
    for (let second = 0; second < 120; second++) {
      t.manager.offer(MANUAL);
      await t.settle();
      t.advance(1_000);
    }
    const statuses = t.statuses();
    // Two in the first minute, two in the second: received + ignored each.
    expect(statuses.filter((status) => status.status === 'received')).toHaveLength(4);
    expect(statuses).toHaveLength(8);
    // Another firmware is not held back by it.
    t.manager.offer({ ...MANUAL, firmware_meta: { uuid: 'other-uuid' } });
    await t.settle();
    expect(t.statuses()).toHaveLength(10);
    const notAnswered = t.logs.filter((line) =>
      line.startsWith('update new-uuid not answered: it was answered 2 times'),
    );
    expect(notAnswered).toHaveLength(116);
  });

  it(`reports at most ${STATUS_BOUND.started} download connections of one update a minute`, async () => {
    const t = setup({
      download: async (_offer, { onConnection }) => {
        for (let i = 0; i < 12; i++) onConnection({ networkInterface: 'eth0' });
        return '/data/new.fw';
      },
    });
    t.manager.offer(OFFER);
    await t.settle();
    expect(t.statuses().map((status) => status.status)).toEqual([
      'received',
      'started',
      'started',
      'started',
      'started',
      'completed',
    ]);
  });
});
