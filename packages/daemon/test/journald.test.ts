// Under journald ($JOURNAL_STREAM names stderr), every log line starts with its syslog priority, which journald
// takes as the entry's (SyslogLevelPrefix=), so `journalctl -p warning` filters. The stream here is the test's
// pipe: the shell reads its device and inode and hands the same descriptor to the daemon, as systemd would.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BUNDLE } from './support/harness.js';

const dir = mkdtempSync(join(tmpdir(), 'daemon-journald-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// A key others can read (a warning), a certificate that is not there (an error, exit 78).
writeFileSync(join(dir, 'key.pem'), 'not read', { mode: 0o644 });
const config = join(dir, 'config.toml');
writeFileSync(
  config,
  [
    'uri = "wss://hub.example.com/socket/websocket"',
    `data_dir = "${dir}/data"`,
    '[identity]',
    'serial = "journald-device"',
    '[auth]',
    'method = "mtls"',
    'cert_file = "missing-cert.pem"',
    'key_file = "key.pem"',
    '',
  ].join('\n'),
);

/** The daemon's stderr lines, with $JOURNAL_STREAM naming its stderr (or, with `other`, another stream). */
async function stderrLines(args: string[], other = false): Promise<{ code: number | null; lines: string[] }> {
  const stream = other ? '/proc/self/fd/1' : '/proc/self/fd/2';
  const child = spawn(
    'sh',
    ['-c', `JOURNAL_STREAM=$(stat -L -c %d:%i ${stream}) exec "$0" "$@"`, process.execPath, BUNDLE, ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk;
  });
  const [code] = await once(child, 'exit');
  return { code: code as number | null, lines: stderr.trimEnd().split('\n') };
}

describe('logging to journald', () => {
  it('human lines start with their priority: <4> warning, <6> info, <3> error', async () => {
    const { code, lines } = await stderrLines(['run', '--config', config]);
    expect(code).toBe(78);
    expect(lines.map((line) => /^<(\d)>\d\d:\d\d:\d\d\.\d{3} (\w+)/.exec(line)?.slice(1))).toEqual([
      ['4', 'WARN'],
      ['6', 'INFO'],
      ['3', 'ERROR'],
    ]);
    expect(lines[2]).toContain('missing-cert.pem (auth.cert_file)');
  });

  it('JSON lines keep their level, after the priority journald strips', async () => {
    const { lines } = await stderrLines(['run', '--config', config, '--log-format', 'json']);
    const entries = lines.map((line) => {
      const [, priority, json] = /^<(\d)>(\{.*\})$/.exec(line)!;
      return [priority, (JSON.parse(json!) as { level: string }).level];
    });
    expect(entries).toEqual([
      ['4', 'warn'],
      ['6', 'info'],
      ['3', 'error'],
    ]);
  });

  it('no prefix when $JOURNAL_STREAM names another stream (stderr redirected elsewhere)', async () => {
    const { lines } = await stderrLines(['run', '--config', config], true);
    expect(lines).toHaveLength(3);
    expect(lines.every((line) => /^\d\d:\d\d:\d\d\.\d{3} /.test(line))).toBe(true);
  });
});
