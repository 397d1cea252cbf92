import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../log/logger.js';
import { formatBytes, ProgressDisplay } from './progress-display.js';

const MiB = 1024 * 1024;

function setup(options: { tty: boolean; format?: 'human' | 'json' }) {
  let clock = Date.UTC(2026, 0, 2, 3, 4, 5, 0);
  const stream = new PassThrough();
  let out = '';
  stream.on('data', (chunk) => {
    out += String(chunk);
  });
  const logger = createLogger({
    stream,
    isTTY: options.tty,
    format: options.format ?? 'human',
    now: () => clock,
  });
  const display = new ProgressDisplay({ logger, now: () => clock });
  return {
    display,
    logger,
    advance: (ms: number) => {
      clock += ms;
    },
    output: () => out,
    /** JSON records written so far. */
    records: () =>
      out
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

describe('ProgressDisplay on a terminal', () => {
  it('draws one live line with percent, bytes, rate and ETA, and clears it at the end', () => {
    const t = setup({ tty: true });
    t.display.start('downloading', { uuid: 'u-1', totalBytes: 10 * MiB });
    t.advance(1000);
    t.display.update('downloading', { percent: 20, bytes: 2 * MiB });
    const line = t.output().split('\r\x1b[K').at(-1)!;
    expect(line).toBe(
      `download ${'█'.repeat(6)}${'░'.repeat(24)}  20% 2.0 MiB of 10.0 MiB  2.0 MiB/s  ETA 0:04`,
    );
    expect(t.output()).not.toContain('\n');

    // A log line in between replaces the bar, which comes back below it.
    t.logger.warn('something else');
    expect(t.output()).toMatch(/\r\x1b\[K03:04:06\.000 WARN {2}something else\n\r\x1b\[Kdownload .* 20% /);

    t.advance(4000);
    t.display.update('downloading', { percent: 100, bytes: 10 * MiB });
    t.display.end('downloading', 'done');
    expect(t.output()).toMatch(
      / 100% 10\.0 MiB of 10\.0 MiB {2}2\.0 MiB\/s\r\x1b\[K03:04:10\.000 INFO {2}download finished: 10\.0 MiB in 5 s \(2\.0 MiB\/s\)\n$/,
    );
  });

  it('redraws at most every 100 ms, except for 100 %', () => {
    const t = setup({ tty: true });
    t.display.start('applying', { uuid: 'u-1', totalBytes: MiB });
    const draws = () => t.output().split('\r\x1b[Kapply').length - 1;
    const before = draws();
    t.advance(10);
    t.display.update('applying', { percent: 1 });
    t.advance(10);
    t.display.update('applying', { percent: 2 });
    expect(draws()).toBe(before);
    t.advance(100);
    t.display.update('applying', { percent: 3 });
    expect(draws()).toBe(before + 1);
    t.display.update('applying', { percent: 100 });
    expect(draws()).toBe(before + 2);
  });

  it('a failed stage only clears the line', () => {
    const t = setup({ tty: true });
    t.display.start('downloading', { uuid: 'u-1', totalBytes: MiB });
    t.advance(500);
    t.display.update('downloading', { percent: 50, bytes: MiB / 2 });
    t.display.end('downloading', 'failed');
    expect(t.output()).toMatch(/\r\x1b\[K$/);
    expect(t.output()).not.toContain('finished');
  });
});

describe('ProgressDisplay without a terminal', () => {
  it('logs milestones as fields, at most one per 10 % and per 30 s, whichever is rarer', () => {
    const t = setup({ tty: false, format: 'json' });
    t.display.start('downloading', { uuid: 'u-1', totalBytes: 100 * MiB });
    // Fast: 10 % every 5 s, so 30 s decides.
    for (let percent = 10; percent <= 90; percent += 10) {
      t.advance(5_000);
      t.display.update('downloading', { percent, bytes: percent * MiB });
    }
    // Slow: 30 s pass every 1 %, so 10 % decides.
    for (let percent = 91; percent <= 99; percent += 1) {
      t.advance(30_000);
      t.display.update('downloading', { percent, bytes: percent * MiB });
    }
    t.advance(1_000);
    t.display.update('downloading', { percent: 100, bytes: 100 * MiB });
    t.display.end('downloading', 'done');
    const records = t.records();
    // 60 % at 30 s; then 91 % (31 points and 45 s later); 92…99 % are less than 10 points on.
    expect(records.map((r) => [r.msg, r.percent])).toEqual([
      ['download progress', 60],
      ['download progress', 91],
      ['download finished', 100],
    ]);
    expect(records[0]).toEqual({
      time: '2026-01-02T03:04:35.000Z',
      level: 'info',
      msg: 'download progress',
      uuid: 'u-1',
      stage: 'download',
      percent: 60,
      bytes: 60 * MiB,
      total: 100 * MiB,
      rate: 2 * MiB,
      eta_s: 20,
    });
    expect(records[2]).toMatchObject({
      uuid: 'u-1',
      stage: 'download',
      percent: 100,
      bytes: 100 * MiB,
      seconds: 316,
      rate: Math.round((100 * MiB) / 316),
    });
    expect(t.output()).not.toContain('\r');
  });

  it('without a total, logs every 30 s; apply bytes are estimated from the firmware size', () => {
    const t = setup({ tty: false, format: 'json' });
    t.display.start('downloading', { uuid: 'u-2' });
    t.advance(31_000);
    t.display.update('downloading', { bytes: 3 * MiB });
    t.advance(10_000);
    t.display.update('downloading', { bytes: 4 * MiB });
    t.display.end('downloading', 'done');
    t.display.start('applying', { uuid: 'u-2', totalBytes: 4 * MiB });
    t.advance(40_000);
    t.display.update('applying', { percent: 50 });
    t.display.end('applying', 'stopped');
    expect(t.records().map((r) => [r.msg, r.stage, r.percent, r.bytes])).toEqual([
      ['download progress', 'download', undefined, 3 * MiB],
      ['download finished', 'download', 100, 4 * MiB],
      ['apply progress', 'apply', 50, 2 * MiB],
    ]);
  });

  it('in human format, the same milestones with key=value fields', () => {
    const t = setup({ tty: false });
    t.display.start('downloading', { uuid: 'u-3', totalBytes: 10 * MiB });
    t.advance(31_000);
    t.display.update('downloading', { percent: 50, bytes: 5 * MiB });
    expect(t.output()).toBe(
      `03:04:36.000 INFO  download progress uuid=u-3 stage=download percent=50 bytes=${5 * MiB} total=${10 * MiB} rate=169125 eta_s=31\n`,
    );
  });
});

describe('formatBytes', () => {
  it('picks a readable unit', () => {
    expect([100, 2048, 1536 * 1024, 150 * MiB, 3 * 1024 * MiB].map(formatBytes)).toEqual([
      '100 B',
      '2.0 KiB',
      '1.5 MiB',
      '150 MiB',
      '3.0 GiB',
    ]);
  });
});

describe('ProgressDisplay with a bandwidth cap', () => {
  it('never shows a rate above download.max_rate: a burst of one socket read shows the cap, marked', () => {
    let clock = 0;
    let out = '';
    const stream = new PassThrough();
    stream.on('data', (chunk) => {
      out += String(chunk);
    });
    const logger = createLogger({ stream, isTTY: true, now: () => clock });
    const display = new ProgressDisplay({ logger, now: () => clock, maxBytesPerSecond: 64 * 1024 });
    display.start('downloading', { uuid: 'u', totalBytes: 256 * 1024 });
    // 80 KiB in the first 300 ms (the socket's read-ahead), then the cap.
    clock += 300;
    display.update('downloading', { percent: 31, bytes: 80 * 1024 });
    expect(out.split('\r\x1b[K').at(-1)).toMatch(
      / 80\.0 KiB of 256 KiB {2}64\.0 KiB\/s \(capped\) {2}ETA 0:03$/,
    );
    clock += 2_700;
    display.update('downloading', { percent: 100, bytes: 256 * 1024 });
    display.end('downloading', 'done');
    expect(out).toMatch(
      /download finished: 256 KiB in 3 s \(64\.0 KiB\/s, capped by download\.max_rate\)\n$/,
    );
    // The write is not capped: its rate is what it is.
    display.start('applying', { uuid: 'u', totalBytes: 256 * 1024 });
    clock += 100;
    display.update('applying', { percent: 100 });
    display.end('applying', 'done');
    expect(out).toMatch(/apply finished: 256 KiB in 0\.1 s \(2\.5 MiB\/s\)\n$/);
  });
});
