// The nerves-hub-link binary with bad configurations: each names the key and the fix, and exits 78.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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

  it('several problems: one line each on a terminal, one JSON record with the list', async () => {
    const file = join(dir, 'many.toml');
    writeFileSync(
      file,
      [...GOOD.slice(0, 2), 'heartbeat_interval_ms = -5', 'colour = "red"', ...GOOD.slice(2)].join('\n'),
    );
    const human = startDaemon(['run', '--config', file]);
    expect((await human.exited).code).toBe(78);
    const lines = human.output().trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/ERROR invalid configuration: .*many\.toml: 2 problems code=CONFIG_INVALID$/);
    expect(lines[1]).toMatch(/ERROR {3}- heartbeat_interval_ms: /);
    expect(lines[2]).toMatch(/ERROR {3}- colour: /);
    expect(human.output()).not.toContain('\\n');

    const json = startDaemon(['run', '--config', file, '--log-format', 'json']);
    expect((await json.exited).code).toBe(78);
    const records = json
      .output()
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ level: 'error', code: 'CONFIG_INVALID', file });
    expect(records[0].problems).toEqual([
      expect.stringMatching(/^heartbeat_interval_ms: /),
      expect.stringMatching(/^colour: /),
    ]);
  });

  it('a usage problem is one short line; help and version are commands; each command has its help', async () => {
    const unknown = startDaemon(['-V']);
    expect((await unknown.exited).code).toBe(64);
    expect(unknown.output()).toBe("nerves-hub-link: unknown option '-V' (try --help)\n");
    for (const args of [['help'], ['--help']]) {
      const help = startDaemon(args);
      expect((await help.exited).code).toBe(0);
      expect(help.output()).toMatch(/^Usage: nerves-hub-link <command> \[options\]\n/);
    }
    for (const args of [
      ['run', '--help'],
      ['help', 'run'],
    ]) {
      const help = startDaemon(args);
      expect((await help.exited).code).toBe(0);
      expect(help.output()).toMatch(/^Usage: nerves-hub-link run \[--config PATH\]/);
    }
    const checkHelp = startDaemon(['check', '-h']);
    await checkHelp.exited;
    expect(checkHelp.output()).toContain('That join is a real device join');
    const version = startDaemon(['version']);
    expect((await version.exited).code).toBe(0);
    expect(version.output()).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('an older Node.js: one line naming the minimum and this version, exit 1, before anything else', async () => {
    const older = join(dir, 'older-node.cjs');
    writeFileSync(
      older,
      "Object.defineProperty(process, 'versions', { value: { ...process.versions, node: '20.18.1' } });\n",
    );
    const run = startDaemon(['run', '--config', join(dir, 'nope.toml')], {
      NODE_OPTIONS: `--require=${older}`,
    });
    expect((await run.exited).code).toBe(1);
    expect(run.output()).toBe(
      `nerves-hub-link needs Node.js 20.19 or newer, this is 20.18.1 (${process.execPath})\n`,
    );
  });

  it('a bin run before a build: one line saying to run pnpm build first', async () => {
    for (const [bin, name] of [
      [new URL('../bin/nerves-hub-link.js', import.meta.url), 'nerves-hub-link'],
      [new URL('../../test-server/bin/nerves-hub-test-server.js', import.meta.url), 'nerves-hub-test-server'],
    ] as const) {
      // The bin in a package folder that has no dist yet.
      const unbuilt = join(dir, `unbuilt-${name}`);
      mkdirSync(join(unbuilt, 'bin'), { recursive: true });
      copyFileSync(bin, join(unbuilt, 'bin', `${name}.js`));
      writeFileSync(join(unbuilt, 'package.json'), '{ "type": "module" }\n');
      const run = spawnSync(process.execPath, [join(unbuilt, 'bin', `${name}.js`), '--help'], {
        encoding: 'utf8',
      });
      expect(run.status).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr).toBe(
        `${name}: ${join(unbuilt, 'dist')}/${name === 'nerves-hub-link' ? 'main' : 'cli'}.js is missing: run pnpm build first\n`,
      );
    }
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
