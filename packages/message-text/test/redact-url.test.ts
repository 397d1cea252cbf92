// The URL redaction contract, on the cases phoenix-channel's own copy of it is tested on.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { redactUrl } from '../src/index.js';

const CASES_FILE = new URL('./fixtures/redact-url-cases.json', import.meta.url);
// phoenix-channel takes no dependencies, so it keeps its own redactUrl and its own copy of these cases.
const PHOENIX_CASES_FILE = new URL(
  '../../phoenix-channel/test/fixtures/redact-url-cases.json',
  import.meta.url,
);
const cases = JSON.parse(readFileSync(CASES_FILE, 'utf8')) as { url: string; shown: string }[];

describe('redactUrl', () => {
  it.each(cases)('shows $url as $shown', ({ url, shown }) => {
    expect(redactUrl(url)).toBe(shown);
    if (shown !== '<invalid url>') expect(redactUrl(new URL(url))).toBe(shown);
  });

  it('cuts a long URL to 300 characters, noting the length of the redacted URL', () => {
    const result = redactUrl(`https://h.example/${'a'.repeat(900)}?X-Amz-Signature=${'s'.repeat(900)}`);
    expect(result).toHaveLength(300);
    expect(result).toMatch(/^https:\/\/h\.example\/a+… \(918 characters\)$/);
  });

  it('is tested on the same cases as phoenix-channel', () => {
    expect(JSON.parse(readFileSync(PHOENIX_CASES_FILE, 'utf8'))).toEqual(cases);
  });
});
