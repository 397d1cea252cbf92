// The update manager feeds its progress sink: download and apply each start, report and end; a failure cancels.
import { describe, expect, it } from 'vitest';
import { UpdateManager } from './manager.js';
import { type ProgressSink, showProgress } from './progress-display.js';
import { reportToServer, StatusReporter } from './status-reporter.js';
import type { UpdateSteps } from './steps.js';

const OFFER = {
  update_available: true,
  firmware_url: 'https://fw.example/f.fw',
  firmware_meta: { uuid: 'new-uuid', version: '1.1.0' },
  size: 10,
  checksum: 'A'.repeat(64),
  deployment_id: 1,
};

function run(steps: Partial<UpdateSteps>): Promise<string[]> {
  const calls: string[] = [];
  const progress: ProgressSink = {
    start: (stage, info) => calls.push(`start ${stage} ${info.uuid} ${info.totalBytes}`),
    update: (stage, done) => calls.push(`update ${stage} ${done.percent} ${done.bytes}`),
    end: (stage, outcome) => calls.push(`end ${stage} ${outcome}`),
    cancel: () => calls.push('cancel'),
  };
  return new Promise((resolve) => {
    const logger = { debug() {}, info() {}, warn() {}, error: () => resolve(calls) };
    const manager = new UpdateManager({
      steps: {
        download: async (_offer, { onProgress }) => {
          onProgress(50, 5, 10);
          onProgress(100, 10, 10);
          return '/data/new.fw';
        },
        verify: async () => {},
        apply: async (_path, { onProgress }) => onProgress(40),
        discard: async () => {},
        ...steps,
      },
      listeners: [reportToServer(new StatusReporter(() => true)), showProgress(progress)],
      logger,
      runningUuid: 'running-uuid',
      publicKeys: () => ['key'],
      allowUnsigned: false,
      onApplied: () => resolve(calls),
    });
    manager.offer(OFFER);
  });
}

describe('UpdateManager progress', () => {
  it('starts, updates and ends the download, then the apply', async () => {
    expect(await run({})).toEqual([
      'start downloading new-uuid 10',
      'update downloading 50 5',
      'update downloading 100 10',
      'end downloading done',
      'start applying new-uuid 10',
      'update applying 40 undefined',
      'end applying done',
    ]);
  });

  it('cancels the display when a step fails', async () => {
    const failing = async () => {
      throw Object.assign(new Error('fwup says no'), { code: 'FW_FWUP_FAILED' });
    };
    expect(await run({ apply: failing })).toEqual([
      'start downloading new-uuid 10',
      'update downloading 50 5',
      'update downloading 100 10',
      'end downloading done',
      'start applying new-uuid 10',
      'cancel',
    ]);
  });
});
