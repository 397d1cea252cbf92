// What the logger prints of text it did not write: no forged lines, no terminal escapes, no flood.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';

function capture(format: 'human' | 'json') {
  const stream = new PassThrough();
  let out = '';
  stream.on('data', (chunk) => {
    out += String(chunk);
  });
  const logger = createLogger({ format, stream, now: () => Date.UTC(2026, 0, 2, 3, 4, 5, 6) });
  return { logger, lines: () => out.split('\n').slice(0, -1) };
}

const forged = 'abc\n03:04:05.006 ERROR forged line\r\x1b[2J\x1b]0;owned\x07\x00';

describe('log output of untrusted text', () => {
  it('human: one line per message, control characters shown as escapes, in the message and the fields', () => {
    const { logger, lines } = capture('human');
    logger.info(`update ${forged} ignored`, { version: forged });
    expect(lines()).toHaveLength(1);
    expect(lines()[0]).toBe(
      '03:04:05.006 INFO  update abc\\n03:04:05.006 ERROR forged line\\r\\x1b[2J\\x1b]0;owned\\x07\\x00 ignored ' +
        `version=${JSON.stringify(forged)}`,
    );
    expect(lines()[0]).not.toMatch(/[\u0000-\u001f]/);
  });

  it('human: a 900 KB value makes a bounded line that says how long it was', () => {
    const { logger, lines } = capture('human');
    const url = `https://fw.example/${'a'.repeat(900_000)}`;
    logger.error(`download of ${url} failed`, { url });
    expect(lines()).toHaveLength(1);
    expect(lines()[0]!.length).toBeLessThan(3_100);
    const message = `download of ${url} failed`;
    expect(lines()[0]).toContain(`… (${message.length} characters) url=https://fw.example/aaa`);
    expect(lines()[0]).toMatch(new RegExp(`… \\(${`url=${url}`.length} characters\\)$`));
  });

  it('json: control characters stay JSON escapes, strings are bounded, secrets never half shown', () => {
    const { logger, lines } = capture('json');
    logger.addSecret('pa55word-long-secret');
    const long = `${'x'.repeat(1_990)}pa55word-long-secret${'y'.repeat(900_000)}`;
    logger.warn(forged, { detail: long, nested: { text: long } });
    expect(lines()).toHaveLength(1);
    const record = JSON.parse(lines()[0]!);
    expect(record.msg).toBe(forged);
    expect(record.detail.length).toBeLessThanOrEqual(2_000);
    expect(record.detail).toMatch(/… \(\d+ characters\)$/);
    expect(record.nested.text.length).toBeLessThanOrEqual(2_000);
    expect(lines()[0]).not.toContain('pa55');
    expect(lines()[0]!.length).toBeLessThan(7_000);
  });

  it('redacts URL queries in text made of many URLs in linear time', () => {
    const { logger, lines } = capture('human');
    const started = Date.now();
    logger.info(`${'https://a/'.repeat(20_000)} https://h/f.fw?X-Amz-Signature=secret`);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(lines()).toHaveLength(1);
    expect(lines()[0]).not.toContain('secret');
  });
});
