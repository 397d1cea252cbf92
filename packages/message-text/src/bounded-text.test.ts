import { describe, expect, it } from 'vitest';
import { boundLength, shown, shownTail } from './bounded-text.js';

describe('boundLength', () => {
  it('keeps short text and cuts long text to the bound, noting the whole length', () => {
    expect(boundLength('short', 10)).toBe('short');
    const cut = boundLength('x'.repeat(912_345), 100);
    expect(cut).toHaveLength(100);
    expect(cut).toMatch(/^x+… \(912345 characters\)$/);
    expect(boundLength(cut, 100)).toBe(cut);
  });

  it('never keeps half of a surrogate pair', () => {
    const cut = boundLength('🚀'.repeat(50), 30);
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

describe('shownTail', () => {
  it('keeps the end, escaped, noting the length of the text as it was', () => {
    expect(shownTail('short\n', 10)).toBe('short\\n');
    const result = shownTail(`${'x'.repeat(900_000)}\nerror: \x1b[31mdisk full`, 60);
    expect(result.length).toBeLessThanOrEqual(60);
    expect(result).toMatch(/^\(900022 characters\) …x*\\nerror: \\x1b\[31mdisk full$/);
    expect(shownTail(result, 60)).toBe(result);
  });

  it('never keeps half of a surrogate pair or of an escape', () => {
    for (let max = 25; max < 40; max++) {
      expect(shownTail('🚀'.repeat(50), max)).not.toMatch(/(?<![\ud800-\udbff])[\udc00-\udfff]/);
      expect(shownTail('\x00'.repeat(100), max)).toMatch(/^\(100 characters\) …(\\x00)*$/);
    }
  });
});
