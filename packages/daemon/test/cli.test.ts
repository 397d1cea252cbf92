// The nerves-hub-link binary with bad configurations: each names the key and the fix, and exits 78.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startDaemon } from './support/harness.js';

const dir = mkdtempSync(join(tmpdir(), 'daemon-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const GOOD = [
  'uri = "wss://hub.example.com/socket/websocket"',
  `data_dir = "${dir}/data"`,
  '[auth]',
  'method = "mtls"',
  'cert_file = "cert.pem"',
  'key_file = "key.pem"',
];

const bad: [string, string[], RegExp][] = [
  ['an unknown key', [...GOOD, 'colour = "red"'], /colour/],
  ['an https:// uri', GOOD.map((l) => l.replace('wss://', 'https://')), /uri/],
  ['no auth section', GOOD.slice(0, 2), /auth/],
  ['an unknown auth method', GOOD.map((l) => l.replace('"mtls"', '"password"')), /method/],
  ['no key for mTLS', GOOD.filter((l) => !l.startsWith('key_file')), /key_file|key_engine/],
  [
    'both key_file and key_engine',
    [...GOOD, 'key_engine = "pkcs11"', 'key_id = "pkcs11:x"'],
    /key_file|key_engine/,
  ],
  [
    'shared secret without secret',
    [
      'uri = "wss://h/device-socket/websocket"',
      '[identity]',
      'serial = "x"',
      '[auth]',
      'method = "shared_secret"',
      'key = "nhp_x"',
    ],
    /secret/,
  ],
  [
    'a negative heartbeat',
    [...GOOD.slice(0, 2), 'heartbeat_interval_ms = -5', ...GOOD.slice(2)],
    /heartbeat_interval_ms/,
  ],
  ['a bad tls_version', [...GOOD.slice(0, 2), 'tls_version = "SSLv3"', ...GOOD.slice(2)], /tls_version/],
  ['a string where a list belongs', [...GOOD, '[fwup]', 'public_keys = "abc"'], /public_keys/],
  ['broken TOML', ['uri = "wss://x'], /line|TOML|syntax/i],
  ['a commands table with a shell string', [...GOOD, '[commands]', 'reboot = "reboot && echo"'], /reboot/],
];

describe('nerves-hub-link with a bad config', () => {
  for (const [label, lines, pattern] of bad) {
    it(`${label}: exit 78 and a message naming the key`, async () => {
      const file = join(dir, `${label.replace(/\W+/g, '-')}.toml`);
      writeFileSync(file, `${lines.join('\n')}\n`);
      const run = startDaemon(['check', '--config', file]);
      const exit = await run.waitForExit();
      expect(exit.code).toBe(78);
      expect(run.output()).toMatch(pattern);
    });
  }

  it('a missing config file says where it looked and how to choose another', async () => {
    const run = startDaemon(['run', '--config', join(dir, 'nope.toml')]);
    expect((await run.waitForExit()).code).toBe(78);
    expect(run.output()).toMatch(/nope\.toml/);
  });

  it('--version, --help and a usage error', async () => {
    const version = startDaemon(['--version']);
    expect((await version.waitForExit()).code).toBe(0);
    expect(version.output()).toMatch(/^\d+\.\d+\.\d+/);
    const help = startDaemon(['--help']);
    expect((await help.waitForExit()).code).toBe(0);
    expect(help.output()).toMatch(/run|check/);
    const usage = startDaemon(['frobnicate']);
    expect((await usage.waitForExit()).code).toBe(64);
  });
});
