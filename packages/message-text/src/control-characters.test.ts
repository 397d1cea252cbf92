import { describe, expect, it } from 'vitest';
import { escapeControl } from './control-characters.js';

describe('escapeControl', () => {
  it('shows control characters as escapes and leaves other text alone', () => {
    expect(escapeControl('a\nb\r\tc\x1b[31md\x00e\x7f\u0085')).toBe('a\\nb\\r\\tc\\x1b[31md\\x00e\\x7f\\x85');
    expect(escapeControl('line\u2028sep \u202eevil')).toBe('line\\u2028sep \\u202eevil');
    expect(escapeControl('plain ünïcödé ✓ 🚀')).toBe('plain ünïcödé ✓ 🚀');
  });
});
