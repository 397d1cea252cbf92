import { describe, expect, it } from 'vitest';
import { boundLength, escapeControl, shown } from './untrusted-text.js';

describe('escapeControl', () => {
  it('shows control characters as escapes and leaves other text alone', () => {
    expect(escapeControl('a\nb\r\tc\x1b[31md\x00e\x7f\u0085')).toBe('a\\nb\\r\\tc\\x1b[31md\\x00e\\x7f\\x85');
    expect(escapeControl('line\u2028sep \u202eevil')).toBe('line\\u2028sep \\u202eevil');
    expect(escapeControl('plain ünïcödé ✓ 🚀')).toBe('plain ünïcödé ✓ 🚀');
  });
});

describe('boundLength', () => {
  it('keeps short text and cuts long text to the bound, noting the whole length', () => {
    expect(boundLength('short', 10)).toBe('short');
    const cut = boundLength('x'.repeat(912_345), 100);
    expect(cut).toHaveLength(100);
    expect(cut).toMatch(/^x+… \(912345 characters\)$/);
    expect(boundLength(cut, 100)).toBe(cut);
  });

  it('never keeps half of a surrogate pair', () => {
    const cut = boundLength(`${'🚀'.repeat(50)}`, 30);
    expect(cut).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
  });
});

describe('shown', () => {
  it('escapes and bounds, noting the length of the text as it was', () => {
    const text = `\n12:00:00.000 INFO  forged\x1b]0;title\x07${'u'.repeat(900_000)}`;
    const result = shown(text, 300);
    expect(result.length).toBeLessThanOrEqual(300);
    expect(result).toMatch(/^\\n12:00:00\.000 INFO {2}forged\\x1b\]0;title\\x07u+… \(900036 characters\)$/);
    expect(result).not.toMatch(/[\u0000-\u001f]/);
  });

  it('never cuts an escape in half, and showing twice changes nothing', () => {
    for (let max = 25; max < 40; max++) {
      const result = shown('\x00'.repeat(100), max);
      expect(result).toMatch(/^(\\x00)*… \(100 characters\)$/);
      expect(shown(result, max)).toBe(result);
    }
  });

  it('bounds text whose escapes make it longer than the bound', () => {
    const result = shown('\x01'.repeat(100), 200);
    expect(result.length).toBeLessThanOrEqual(200);
    expect(result).toMatch(/… \(100 characters\)$/);
  });
});
