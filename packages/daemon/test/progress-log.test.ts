// Progress as a machine reads it: with `--log-format json` (journald, log shippers) the numbers of the download
// and of the apply are fields of their own lines, never inside `msg`, and no terminal control reaches the log.
import { describe, expect, it } from 'vitest';
import { useTestServer } from './support/harness.js';
import { startJoinedDevice } from './support/joined-device.js';

const e2e = useTestServer('daemon-progress-', ['small-signed.fw']);

describe('progress in JSON logs', () => {
  it('logs a finished line per stage with uuid, stage, percent, bytes and rate as fields', async () => {
    const { device, daemon } = await startJoinedDevice(e2e, 'progress-json', { logFormat: 'json' });
    const firmware = e2e.firmware('small-signed.fw');
    e2e.server.sendUpdate(device.identifier, firmware.id);
    expect((await daemon.waitForExit()).code).toBe(0);
    const records = daemon
      .output()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const byMessage = (msg: string) => records.find((record) => record.msg === msg);
    for (const stage of ['download', 'apply']) {
      const finished = byMessage(`${stage} finished`);
      expect(finished).toMatchObject({
        level: 'info',
        uuid: firmware.meta.uuid,
        stage,
        percent: 100,
        bytes: firmware.size,
        total: firmware.size,
      });
      expect(finished!.rate).toBeGreaterThan(0);
      expect(typeof finished!.seconds).toBe('number');
    }
    // Every line about progress carries its numbers as fields; none is written into a message.
    const progressLines = records.filter((record) => record.stage !== undefined);
    expect(progressLines.map((record) => record.msg)).toEqual(
      expect.arrayContaining(['download finished', 'apply finished']),
    );
    for (const record of progressLines) expect(record.msg).toMatch(/^(download|apply) (progress|finished)$/);
    for (const record of records) expect(String(record.msg)).not.toMatch(/\d+ ?%|\bKiB\b|\bETA\b/);
    expect(daemon.output()).not.toMatch(/[\r\x1b]/);
  });
});
