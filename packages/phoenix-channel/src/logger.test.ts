import { describe, expect, it, vi } from 'vitest';
import { log } from './logger.js';

describe('log', () => {
  it('calls the method of the level with message and fields', () => {
    const warn = vi.fn();
    log({ warn }, 'warn', 'hello', { a: 1 });
    expect(warn).toHaveBeenCalledWith('hello', { a: 1 });
  });

  it('ignores a missing logger or level and a logger that throws', () => {
    expect(() => log(undefined, 'info', 'x')).not.toThrow();
    expect(() => log({}, 'debug', 'x')).not.toThrow();
    expect(() =>
      log(
        {
          error: () => {
            throw new Error('broken');
          },
        },
        'error',
        'x',
      ),
    ).not.toThrow();
  });
});
