import { describe, expect, it } from 'vitest';
import { redact } from './redact.js';

describe('redact: URL queries', () => {
  const cases: [string, string][] = [
    [
      'GET https://b.example/fw/1.fw?X-Amz-Credential=A&X-Amz-Signature=s failed',
      'GET https://b.example/fw/1.fw?<redacted> failed',
    ],
    ['https://h/p?q=1#frag', 'https://h/p?<redacted>#frag'],
    ['https://h/p#frag?not-a-query', 'https://h/p#frag?not-a-query'],
    ['"wss://h/socket?token=abc"', '"wss://h/socket?<redacted>"'],
    ['HTTPS://H/P?A=1', 'HTTPS://H/P?<redacted>'],
    ['a https://h/a?x=1 b http://h/b?y=2', 'a https://h/a?<redacted> b http://h/b?<redacted>'],
    ['https://h/a?x=1https://h/b?y=2', 'https://h/a?<redacted>'],
    ['https://h/a#x https://h/b?y=2#z?w', 'https://h/a#x https://h/b?<redacted>#z?w'],
    ['no url? here', 'no url? here'],
  ];
  for (const [text, expected] of cases) {
    it(`${text} → ${expected}`, () => expect(redact(text)).toBe(expected));
  }

  it('takes time in proportion to the text, whatever it holds', () => {
    // One pattern over the whole text backtracks once per URL start: seconds for these 200 KB.
    for (const unit of ['https://a/', 'https://a/#', 'https://a/?#']) {
      const started = Date.now();
      const text = `${unit.repeat(20_000)} https://h/f.fw?X-Amz-Signature=secret`;
      expect(redact(text)).not.toContain('secret');
      expect(Date.now() - started).toBeLessThan(1_000);
    }
  });
});
