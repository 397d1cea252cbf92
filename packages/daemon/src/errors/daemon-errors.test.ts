import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, DAEMON_ERROR_CODES, DaemonError, ExitError } from './daemon-errors.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('daemon errors', () => {
  it('each have their class name and a code of the closed list', () => {
    const errors = [
      new DaemonError('DAEMON_LOCKED', 'locked'),
      new ConfigError('CONFIG_INVALID', '/etc/x.toml', ['uri: missing']),
      new ExitError(69, 'could not join'),
    ];
    expect(errors.map((error) => error.name)).toEqual(['DaemonError', 'ConfigError', 'ExitError']);
    for (const error of errors) expect(DAEMON_ERROR_CODES).toContain(error.code);
  });

  it('have every code listed in the README, and no other', () => {
    const listed = [...readme.matchAll(/^\| `((?:CONFIG|DAEMON)_[A-Z_]+)` \|/gm)].map((match) => match[1]);
    expect(listed).toEqual([...DAEMON_ERROR_CODES]);
  });
});
