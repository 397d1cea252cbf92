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

  it('answers --help and --version before anything else; help and version are commands too', () => {
    expect(parseCli(['--version'])).toEqual({ command: 'version' });
    expect(parseCli(['version'])).toEqual({ command: 'version' });
    expect(parseCli(['run', '-v'])).toEqual({ command: 'version' });
    expect(parseCli(['--help'])).toEqual({ command: 'help' });
    expect(parseCli(['help'])).toEqual({ command: 'help' });
    expect(parseCli(['run', '-h'])).toEqual({ command: 'help', helpFor: 'run' });
    expect(parseCli(['check', '--help', '--config', 'x'])).toEqual({ command: 'help', helpFor: 'check' });
    expect(parseCli(['help', 'status'])).toEqual({ command: 'help', helpFor: 'status' });
  });

  it('reads check with --json', () => {
    expect(parseCli(['check', '--json'])).toEqual({ command: 'check', json: true });
  });

  it('says a usage problem in one short line', () => {
    const message = (argv: string[]) => {
      try {
        parseCli(argv);
      } catch (error) {
        return (error as Error).message;
      }
      return undefined;
    };
    expect(message(['-V'])).toBe("unknown option '-V' (try --help)");
    expect(message(['run', '--frob=1'])).toBe("unknown option '--frob' (try --help)");
    expect(message(['run', '--config'])).toBe("option '--config' needs a value (try --help)");
    expect(message([])).toBe('missing command: run, check, status or validate (try --help)');
    expect(message(['frobnicate'])).toBe("unknown command 'frobnicate' (try --help)");
    expect(message(['help', 'frobnicate'])).toBe("no help for 'frobnicate' (try --help)");
    expect(message(['run', '--json'])).toBe('--json is an option of check and status (try --help)');
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
