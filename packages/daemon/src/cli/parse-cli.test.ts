import { describe, expect, it } from 'vitest';
import { parseCli } from './parse-cli.js';

describe('parseCli', () => {
  it('reads a command with its options', () => {
    expect(parseCli(['run', '--config', '/c.toml', '--log-format', 'json'])).toEqual({
      command: 'run',
      configFlag: '/c.toml',
      logFormat: 'json',
    });
    expect(parseCli(['check', '-c', 'x.toml', '--log-level', 'debug'])).toEqual({
      command: 'check',
      configFlag: 'x.toml',
      logLevel: 'debug',
    });
  });

  it('reads status with --json', () => {
    expect(parseCli(['status', '--config', '/c.toml', '--json'])).toEqual({
      command: 'status',
      configFlag: '/c.toml',
      json: true,
    });
    expect(parseCli(['status'])).toEqual({ command: 'status' });
  });

  it('answers --help and --version before anything else', () => {
    expect(parseCli(['--version'])).toEqual({ command: 'version' });
    expect(parseCli(['run', '-h'])).toEqual({ command: 'help' });
  });

  it('rejects unknown commands, options and values with DAEMON_USAGE', () => {
    for (const argv of [
      [],
      ['serve'],
      ['run', '--verbose'],
      ['run', 'extra'],
      ['run', '--log-format', 'xml'],
      ['run', '--json'],
      ['status', 'now'],
    ]) {
      expect(() => parseCli(argv)).toThrowError(expect.objectContaining({ code: 'DAEMON_USAGE' }));
    }
  });
});
