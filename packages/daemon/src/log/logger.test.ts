import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';
import { redact } from './redact.js';

function capture(options: { format?: 'human' | 'json'; tty?: boolean; level?: 'debug' | 'info' } = {}) {
  const stream = new PassThrough() as PassThrough & { isTTY?: boolean };
  stream.isTTY = options.tty ?? false;
  let out = '';
  stream.on('data', (chunk) => {
    out += String(chunk);
  });
  const logger = createLogger({ ...options, stream, now: () => Date.UTC(2026, 0, 2, 3, 4, 5, 6) });
  return { logger, output: () => out };
}

describe('redact', () => {
  it('drops the query string of pre-signed URLs', () => {
    const url = 'https://bucket.s3.amazonaws.com/fw/1.fw?X-Amz-Credential=AKIA%2F&X-Amz-Signature=abcdef';
    expect(redact(`GET ${url} failed`)).toBe('GET https://bucket.s3.amazonaws.com/fw/1.fw?<redacted> failed');
  });

  it('hides NH1 tokens, inline PINs and registered secrets', () => {
    const token =
      'SFMyNTY.g2gDbQAAAA10bmgtdW5pdC10ZXN0bgYAAGjlz4sBYgABUYA.UjN7CG034TdyV5umEWbY-4eTRoZ7MXgQlCQHo5mlniY';
    expect(redact(`x-nh-signature: ${token}`)).toBe('x-nh-signature: <redacted-signature>');
    expect(redact('pkcs11:token=t;object=k;pin-value=1234')).toBe(
      'pkcs11:token=t;object=k;pin-value=<redacted>',
    );
    expect(redact('secret is hunter22!', ['hunter22'])).toBe('secret is <redacted>!');
  });
});

describe('createLogger', () => {
  it('writes human-readable lines with fields', () => {
    const { logger, output } = capture();
    logger.info('joined', { topic: 'device', attempt: 2 });
    expect(output()).toBe('03:04:05.006 INFO  joined topic=device attempt=2\n');
  });

  it('writes JSON lines with `--log-format json`', () => {
    const { logger, output } = capture({ format: 'json' });
    logger.warn('slow', { ms: 12 });
    expect(JSON.parse(output())).toEqual({
      time: '2026-01-02T03:04:05.006Z',
      level: 'warn',
      msg: 'slow',
      ms: 12,
    });
  });

  it('never prints a registered secret or a URL query, in either format', () => {
    for (const format of ['human', 'json'] as const) {
      const { logger, output } = capture({ format });
      logger.addSecret('pa55word');
      logger.error('failed with pa55word', { url: 'https://h/f.fw?sig=1', detail: 'pa55word' });
      expect(output()).not.toContain('pa55word');
      expect(output()).not.toContain('sig=1');
    }
  });

  it('skips messages below the level', () => {
    const { logger, output } = capture();
    logger.debug('hidden');
    expect(output()).toBe('');
  });

  it('draws a progress bar only on a terminal; a log line replaces it and the bar is drawn again below', () => {
    const plain = capture();
    plain.logger.progress('download', 50);
    expect(plain.output()).toBe('');
    expect(plain.logger.live).toBe(false);
    expect(capture({ tty: true, format: 'json' }).logger.live).toBe(false);

    const tty = capture({ tty: true });
    expect(tty.logger.live).toBe(true);
    tty.logger.progress('download', 50, '1 MiB');
    const bar = `\r\x1b[Kdownload ${'█'.repeat(15)}${'░'.repeat(15)}  50% 1 MiB`;
    expect(tty.output()).toBe(bar);
    tty.logger.info('next');
    expect(tty.output()).toBe(`${bar}\r\x1b[K03:04:05.006 INFO  next\n${bar}`);
    tty.logger.progressDone();
    tty.logger.info('after');
    expect(tty.output()).toBe(
      `${bar}\r\x1b[K03:04:05.006 INFO  next\n${bar}\r\x1b[K03:04:05.006 INFO  after\n`,
    );
  });

  it('takes `isTTY` from the options over the stream', () => {
    const stream = new PassThrough();
    expect(createLogger({ stream, isTTY: true }).live).toBe(true);
    expect(
      createLogger({ stream: Object.assign(new PassThrough(), { isTTY: true }), isTTY: false }).live,
    ).toBe(false);
  });
});
