import { afterEach, describe, expect, it, vi } from 'vitest';
import { StatusReporter } from './status-reporter.js';
import { UpdateManager, type UpdateSteps } from './update-manager.js';

const OFFER = {
  update_available: true,
  firmware_url: 'https://fw.example/f.fw?X-Amz-Signature=secret',
  firmware_meta: { uuid: 'new-uuid', version: '1.1.0' },
  size: 10,
  checksum: 'A'.repeat(64),
  deployment_id: 1,
};

function codeError(code: string, message = code) {
  return Object.assign(new Error(message), { code });
}

function setup(overrides: Partial<UpdateSteps> = {}) {
  const sent: Array<[string, Record<string, unknown>]> = [];
  const discarded: string[] = [];
  const applied: string[] = [];
  let freshOffers = 0;
  const steps: UpdateSteps = {
    download: async (_offer, { onProgress }) => {
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
  const logger = { debug() {}, info() {}, warn() {}, error() {} };
  const manager = new UpdateManager({
    steps,
    reporter: new StatusReporter((event, payload) => sent.push([event, payload])),
    logger,
    runningUuid: 'running-uuid',
    requestFreshOffer: () => {
      freshOffers++;
    },
    onApplied: (offer) => applied.push(offer.uuid),
  });
  const statuses = () => sent.filter(([event]) => event === 'status_update').map(([, payload]) => payload);
  const settle = async () => {
    for (let i = 0; i < 20 && manager.phase !== 'idle' && manager.phase !== 'applied'; i++) {
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  return { manager, sent, statuses, discarded, applied, settle, freshOffers: () => freshOffers };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('UpdateManager', () => {
  it('reports received, started, progress, completed in that order and hands over for the reboot', async () => {
    const t = setup();
    t.manager.offer(OFFER);
    expect(t.manager.currentlyDownloadingUuid).toBe('new-uuid');
    await t.settle();
    expect(t.sent).toEqual([
      ['status_update', { status: 'received' }],
      ['status_update', { status: 'started' }],
      ['fwup_progress', { stage: 'downloading', value: 50 }],
      ['fwup_progress', { stage: 'downloading', value: 100 }],
      ['fwup_progress', { stage: 'updating', value: 0 }],
      ['fwup_progress', { stage: 'updating', value: 100 }],
      ['status_update', { status: 'completed' }],
    ]);
    expect(t.applied).toEqual(['new-uuid']);
    expect(t.discarded).toEqual(['/data/new.fw']);
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

  it('ignores a second offer while an update runs, without a status that would clear the first', async () => {
    let release!: () => void;
    const t = setup({
      download: () =>
        new Promise((resolve) => {
          release = () => resolve('/data/new.fw');
        }),
    });
    t.manager.offer(OFFER);
    t.manager.offer({ ...OFFER, firmware_meta: { uuid: 'other-uuid' } });
    expect(t.statuses()).toEqual([{ status: 'received' }, { status: 'started' }]);
    release();
    await t.settle();
    expect(t.applied).toEqual(['new-uuid']);
  });

  it('reports a fwup failure with the familiar prefix and removes the file', async () => {
    const t = setup({
      apply: async () => {
        throw Object.assign(codeError('FW_FWUP_FAILED', 'fwup failed'), { fwupMessage: 'Invalid signature' });
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

  it('waits out a growing cooldown before the same firmware is tried again', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    let downloads = 0;
    const t = setup({
      download: async () => {
        downloads++;
        throw codeError('FW_CHECKSUM_MISMATCH', 'checksum mismatch');
      },
    });
    t.manager.offer(OFFER);
    await t.settle();
    expect(downloads).toBe(1);
    t.manager.offer(OFFER);
    await t.settle();
    expect(downloads).toBe(1);
    await vi.advanceTimersByTimeAsync(30_000);
    await t.settle();
    expect(downloads).toBe(2);
    t.manager.offer(OFFER);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(downloads).toBe(2);
    await vi.advanceTimersByTimeAsync(30_000);
    await t.settle();
    expect(downloads).toBe(3);
  });

  it('asks for a fresh offer when the URL expired, and fails after a few refreshes', async () => {
    const t = setup({
      download: async () => {
        throw codeError('FW_URL_EXPIRED', 'the firmware URL was refused (403): expired');
      },
    });
    for (let i = 0; i < 3; i++) {
      t.manager.offer(OFFER);
      await t.settle();
    }
    expect(t.freshOffers()).toBe(3);
    expect(t.statuses().some((status) => status.status === 'failed')).toBe(false);
    t.manager.offer(OFFER);
    await t.settle();
    expect(t.freshOffers()).toBe(3);
    expect(t.statuses().at(-1)).toMatchObject({ status: 'failed' });
  });

  it('aborts a download on shutdown and reports it', async () => {
    const t = setup({
      download: (_offer, { signal }) =>
        new Promise((_resolve, reject) => {
          signal.addEventListener('abort', () => reject(codeError('FW_ABORTED', 'download aborted')));
        }),
    });
    t.manager.offer(OFFER);
    await t.manager.shutdown();
    expect(t.statuses().at(-1)).toMatchObject({ status: 'failed' });
    expect(t.manager.phase).toBe('idle');
  });

  it('lets a running fwup finish on shutdown', async () => {
    let finishApply!: () => void;
    const t = setup({
      apply: () =>
        new Promise((resolve) => {
          finishApply = resolve;
        }),
    });
    t.manager.offer(OFFER);
    for (let i = 0; i < 10 && !t.manager.isApplying; i++)
      await new Promise((resolve) => setImmediate(resolve));
    expect(t.manager.isApplying).toBe(true);
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
