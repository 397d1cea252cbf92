import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  AUTH_ERROR_CODES,
  AuthError,
  isAuthError,
  RefusedFileError,
  ServerPinMismatchError,
} from './errors.js';

describe('AuthError', () => {
  it('has every code listed in the README', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    for (const code of AUTH_ERROR_CODES) expect(readme, code).toContain(`\`${code}\``);
  });

  it('gives each class its own name and a code of the union', () => {
    const errors = [
      new AuthError('AUTH_KEY_INVALID', 'x'),
      new ServerPinMismatchError('h', [], ['sha256/a'], 'auth.server_pins'),
      new RefusedFileError('/dev/zero', 'it is not a regular file (it is a character device)'),
    ];
    expect(errors.map((error) => error.name)).toEqual([
      'AuthError',
      'ServerPinMismatchError',
      'RefusedFileError',
    ]);
    for (const error of errors) expect(AUTH_ERROR_CODES).toContain(error.code);
  });

  it('is recognised by its code, even from another copy of the package', () => {
    const copy = Object.assign(new Error('from elsewhere'), { code: 'AUTH_PIN_INCORRECT' });
    expect(isAuthError(copy)).toBe(true);
    expect(isAuthError(Object.assign(new Error('x'), { code: 'AUTH_SOMETHING_ELSE' }))).toBe(false);
  });
});
