import { FirmwareError } from '@nerves-hub-link/firmware';
import { describe, expect, it } from 'vitest';
import { classifyFailure } from './failure-reason.js';

const url = 'https://fw.example/f.fw?X-Amz-Signature=secret';

describe('classifyFailure', () => {
  it('keeps the class words the firmware package puts first', () => {
    const cases: [FirmwareError, RegExp][] = [
      [
        new FirmwareError('FW_CHECKSUM_MISMATCH', 'checksum mismatch: https://fw.example/f.fw: …'),
        /^Download failed : checksum mismatch: /,
      ],
      [
        new FirmwareError('FW_CHECKSUM_INVALID', 'malformed checksum: "ABC" (3 characters) is not …'),
        /^Download failed : malformed checksum: /,
      ],
      [
        new FirmwareError('FW_URL_INVALID', 'invalid URL: the firmware URL "not a url" cannot be parsed'),
        /^Download failed : invalid URL: /,
      ],
      [
        new FirmwareError('FW_HTTP_STATUS', 'HTTP 404 from https://fw.example/f.fw', { statusCode: 404 }),
        /^Download failed : HTTP 404 /,
      ],
      [
        new FirmwareError('FW_NETWORK', 'network error: https://fw.example/f.fw: ECONNRESET'),
        /^Download failed : network error: /,
      ],
      [
        new FirmwareError('FW_CONTENT_ENCODING', 'encoded body refused: …'),
        /^Download failed : encoded body refused: /,
      ],
    ];
    for (const [error, reason] of cases) {
      const failure = classifyFailure(error, url);
      expect(failure.reason).toMatch(reason);
      expect(failure.code).toBe(error.code);
    }
  });

  it('escapes and bounds what the message carries, and never shows a query', () => {
    const error = new FirmwareError(
      'FW_NETWORK',
      `network error: https://fw.example/${'p'.repeat(900_000)}?sig=secret\n\x1b[31mforged\x00`,
    );
    const { reason } = classifyFailure(error, url);
    expect(reason.length).toBeLessThanOrEqual(600);
    expect(reason).toMatch(/… \(\d{6} characters\)$/);
    expect(reason).not.toContain('secret');
    expect(reason).not.toMatch(/[\u0000-\u001f]/);

    const fwup = classifyFailure(
      Object.assign(new Error('fwup failed'), {
        code: 'FW_FWUP_FAILED',
        fwupMessage: `bad\n${'x'.repeat(5_000)}`,
      }),
      url,
    );
    expect(fwup.reason).toMatch(/^FWUP error : "bad\\nxxx/);
    expect(fwup.reason.length).toBeLessThanOrEqual(600);

    const refused = classifyFailure(
      new FirmwareError('FW_URL_EXPIRED', 'HTTP 403', { statusCode: 403 }),
      `https://h/${'a'.repeat(900_000)}?s=1`,
    );
    expect(refused.reason.length).toBeLessThanOrEqual(600);
    expect(refused.reason).toMatch(
      /refused the URL with HTTP 403 \(https:\/\/h\/a+… \(900010 characters\)\)/,
    );
  });
});
