// The nerves-hub-test-server CLI: the printed config, the activity lines, records.json and `records`.
// The end-to-end case runs bin/ against dist/: build first (`pnpm turbo run build --filter=@nerves-hub-link/test-server`).
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ActivityPrinter } from '../src/cli/activity-printer.js';
import { cloneRoot, daemonCommands } from '../src/cli/daemon-command.js';
import { deviceConfig, firmwareEnvironment } from '../src/cli/device-config.js';
import { formatRecords, type RecordsSnapshot } from '../src/cli/records-file.js';
import { smallFixtures } from '../src/fixtures/index.js';
import { deviceConnecting, deviceOnline } from '../src/hub/connection.js';
import { createDeploymentGroup } from '../src/hub/deployments.js';
import { statusUpdate } from '../src/hub/device-messages.js';
import type { DevicePage } from '../src/hub/device-page.js';
import { deploymentView, devicePage } from '../src/hub/device-page.js';
import { createHub, deviceState } from '../src/hub/hub.js';
import { deviceJoin } from '../src/hub/join.js';
import { triggerUpdate } from '../src/hub/orchestrator.js';

const fixture = (name: string) => join(smallFixtures.dir, name);
const bin = fileURLToPath(new URL('../bin/nerves-hub-test-server.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'test-server-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const configInput = {
  uri: 'wss://127.0.0.1:1/socket/websocket',
  deviceDir: '/tmp/x/dev',
  identifier: 'dev "1"',
  auth: { method: 'mtls', certFile: '/c.crt', keyFile: '/k.key' },
  caFile: '/ca.crt',
  fwupPath: '/fwup',
} as const;

describe('device config', () => {
  it('allows unsigned firmware, saying why, only when the server has no signing key to send', () => {
    const unsigned = deviceConfig({ ...configInput, signingKeys: false });
    expect(unsigned).toMatch(/# For unsigned local firmware only.*\n.*\nallow_unsigned = true\n/);
    expect(unsigned).toContain('serial = "dev \\"1\\""');
    expect(unsigned).toContain('data_dir = "/tmp/x/dev/data"');
    expect(unsigned).toContain('devpath = "/tmp/x/dev/disk.img"');
    expect(deviceConfig({ ...configInput, signingKeys: true })).not.toContain('allow_unsigned');
  });

  it('writes the auth section of each method', () => {
    expect(deviceConfig({ ...configInput, signingKeys: true })).toContain(
      '[auth]\nmethod = "mtls"\ncert_file = "/c.crt"\nkey_file = "/k.key"\nca_file = "/ca.crt"\n',
    );
    const shared = deviceConfig({
      ...configInput,
      signingKeys: true,
      auth: { method: 'shared_secret', key: 'nhp_k', secretFile: '/s' },
    });
    expect(shared).toContain(
      '[auth]\nmethod = "shared_secret"\nkey = "nhp_k"\nsecret_file = "/s"\nca_file = "/ca.crt"\n',
    );
  });
});

describe('device config for tests, benchmarks and the demo', () => {
  it('takes keys of its own, a firmware environment file, and settings merged into its tables', () => {
    const text = deviceConfig({
      ...configInput,
      signingKeys: false,
      publicKeys: ['key1'],
      metadataFile: '/dev/uboot.env',
      settings: {
        heartbeat_interval_ms: 1000,
        fwup: { extra_options: ['--unsafe'], env: { FAKE_FWUP_LOG: '/l' } },
        commands: { reboot: ['true'], identify: ['touch', '/m'] },
        hooks: { update_available: ['/h.sh'], timeout_ms: 500 },
      },
    });
    expect(text).not.toContain('allow_unsigned');
    expect(text).toMatch(/^uri = .*\ndata_dir = .*\nheartbeat_interval_ms = 1000\n\n\[identity\]/);
    expect(text).toContain(
      '[fwup]\npath = "/fwup"\ndevpath = "/tmp/x/dev/disk.img"\npublic_keys = ["key1"]\nextra_options = ["--unsafe"]\n',
    );
    expect(text).toContain(
      '[metadata]\n# The firmware this device runs, as fw_printenv prints it.\nfile = "/dev/uboot.env"\n',
    );
    expect(text).not.toContain('[metadata.values]');
    expect(text).toContain('[commands]\nreboot = ["true"]\nidentify = ["touch", "/m"]\n');
    expect(text).toContain('[fwup.env]\nFAKE_FWUP_LOG = "/l"\n');
    expect(text).toContain('[hooks]\nupdate_available = ["/h.sh"]\ntimeout_ms = 500\n');
    expect(deviceConfig({ ...configInput, signingKeys: false, allowUnsigned: false })).not.toContain(
      'allow_unsigned',
    );
    // Full speed, unless the download is to be watched (the configs this CLI prints).
    expect(text).not.toContain('max_rate');
    expect(deviceConfig({ ...configInput, signingKeys: true, slowDownload: true })).toMatch(
      /\n\[download\]\n# Slow enough .*\n# .*\nmax_rate = "64 KiB\/s"\n$/,
    );
  });

  it('writes the firmware environment of slot a, validated unless told otherwise', () => {
    expect(firmwareEnvironment({ devpath: '/d/disk.img', uuid: 'u-1' })).toBe(
      [
        'nerves_fw_active=a',
        'nerves_fw_devpath=/d/disk.img',
        'a.nerves_fw_uuid=u-1',
        'a.nerves_fw_product=demo',
        'a.nerves_fw_version=1.0.0',
        'a.nerves_fw_platform=host',
        'a.nerves_fw_architecture=x86_64',
        'a.nerves_fw_validated=1',
        '',
      ].join('\n'),
    );
    expect(firmwareEnvironment({ devpath: '/d', uuid: 'u', validated: false, product: 'p' })).toMatch(
      /a\.nerves_fw_product=p\n.*a\.nerves_fw_validated=0\n$/s,
    );
  });
});

describe('daemon commands', () => {
  it('from a clone: pnpm exec at the repository root; else the installed binary; paths quoted when needed', () => {
    const inClone = daemonCommands('/src/nerves-hub-link');
    expect(inClone.cwd).toBe('/src/nerves-hub-link');
    expect(inClone.run('/tmp/d/device.toml')).toBe(
      'pnpm exec nerves-hub-link run --config /tmp/d/device.toml',
    );
    expect(daemonCommands(undefined).run("/tmp/it's here/d.toml")).toBe(
      "nerves-hub-link run --config '/tmp/it'\\''s here/d.toml'",
    );
    // This package runs from a clone here.
    expect(cloneRoot()).toBe(fileURLToPath(new URL('../../..', import.meta.url)).replace(/\/$/, ''));
  });
});

describe('activity lines', () => {
  it('prints progress only at 0/25/50/75/100 % per stage, and crashes always', () => {
    const printer = new ActivityPrinter();
    const progress = (stage: string, value: unknown, crashed = false) =>
      printer.line({
        at: '2026-01-01T10:00:00.000Z',
        type: 'event',
        identifier: 'd',
        event: 'fwup_progress',
        payload: { stage, value },
        crashed,
      });
    const printed = [1, 20, 26, 49, 50, 100].map((value) => progress('downloading', value));
    expect(printed.map((line) => line !== undefined)).toEqual([true, false, true, false, true, true]);
    expect(progress('updating', 0)).toBe('10:00:00 d  progress updating 0%');
    expect(progress('updating', 'x', true)).toMatch(/channel crashed/);
  });

  it('a join says the validation and a detected revert; an ignored says its reason; firmware_validated its crash', () => {
    const printer = new ActivityPrinter();
    const at = '2026-12-07T15:40:00.000Z';
    const join = (meta: Record<string, unknown>) =>
      printer.line({
        at,
        type: 'join',
        identifier: 'd',
        params: {
          nerves_fw_uuid: '002b2a90-00ba',
          nerves_fw_product: 'Acme',
          nerves_fw_version: '1.0.0',
          meta,
        },
      });
    expect(join({ firmware_validated: true, firmware_auto_revert_detected: true })).toBe(
      '15:40:00 d  joined: Acme 1.0.0 (002b2a90…), validated, auto-revert detected',
    );
    expect(join({ firmware_validated: false })).toBe(
      '15:40:00 d  joined: Acme 1.0.0 (002b2a90…), not validated',
    );
    expect(
      printer.line({
        at,
        type: 'history',
        identifier: 'd',
        entry: { at, event: 'ignored', reason: ROLLED_BACK, blockedUntil: null },
      }),
    ).toBe(`15:40:00 d  records: update ignored, reason: "${ROLLED_BACK}"`);
    const offer = { at, type: 'offer', identifier: 'd', firmwareId: '2284cb452495fdf8', deploymentId: 1 };
    expect(
      printer.line({
        ...offer,
        updateAvailable: true,
        firmwareUuid: 'd53074ae-a7ac',
        firmwareVersion: '1.0.1',
      }),
    ).toBe('15:40:00 d  <- update offered: firmware d53074ae-a7ac (1.0.1) (deployment 1)');
    const validated = (crashed: boolean) =>
      printer.line({ at, type: 'event', identifier: 'd', event: 'firmware_validated', payload: {}, crashed });
    expect(validated(false)).toBe('15:40:00 d  firmware_validated (the running firmware is good)');
    expect(validated(true)).toMatch(/firmware_validated .*-> channel crashed \(phx_error\)$/);
  });
});

const ROLLED_BACK =
  'firmware b1d1… (2.0.0) was rolled back on 2026-12-07 15:40 UTC: it did not reach NervesHub within 10m';

/**
 * NervesHub's records of a device that went from A (1.0.0) to B (2.0.0), was reverted to A by its bootloader and
 * then ignored the next offer of B; and of a device that has only connected.
 */
function rolledBackRecords(): RecordsSnapshot {
  const b = {
    id: 'b-file',
    uuid: 'b1d19973-8f5e-587e-36f6-b6b3c2eedc66',
    version: '2.0.0',
    product: 'Acme Widget',
    platform: 'acme-board',
    architecture: 'x86_64',
  };
  const hub = createHub({ firmwareByUuid: (uuid) => (uuid === b.uuid ? b : undefined) });
  let now = Date.UTC(2026, 11, 7, 15, 0);
  const join = (uuid: string, version: string, meta: Record<string, unknown>) => {
    const params = {
      nerves_fw_uuid: uuid,
      nerves_fw_product: b.product,
      nerves_fw_version: version,
      nerves_fw_platform: b.platform,
      nerves_fw_architecture: b.architecture,
      meta,
    };
    expect(deviceJoin(hub, 'd1', params, now)).toEqual({ status: 'ok' });
  };
  const group = createDeploymentGroup(hub, b, { devices: ['d1'] }, now);
  const a = '002b2a90-00ba-55a1-0d52-88211ea560c8';
  deviceConnecting(hub, 'd1', now);
  join(a, '1.0.0', { firmware_validated: true });
  deviceOnline(hub, 'd1', now);
  now += 60_000;
  join(b.uuid, '2.0.0', { firmware_validated: false });
  now += 60_000;
  join(a, '1.0.0', { firmware_validated: true, firmware_auto_revert_detected: true });
  triggerUpdate(hub, group.id, now);
  statusUpdate(hub, 'd1', { status: 'received' }, now);
  statusUpdate(hub, 'd1', { status: 'ignored', reason: ROLLED_BACK }, now);
  deviceConnecting(hub, 'd2', now);
  return {
    writtenAt: new Date(now).toISOString(),
    devices: ['d1', 'd2'].map((id) => devicePage(deviceState(hub, id), now)),
    deployments: [deploymentView(hub, group)],
  };
}

describe('a join while NervesHub holds the device back', () => {
  it('says that no update will come, until when and why', () => {
    const until = '2026-12-08T15:40:00.000Z';
    const page = {
      inPenaltyBox: true,
      updatesBlockedUntil: until,
      history: [
        { at: '', event: 'blocked', until, reason: 'exceeded failure threshold', attemptsCleared: false },
      ],
    } as unknown as DevicePage;
    const printer = new ActivityPrinter(() => page);
    const line = printer.line({
      at: '2026-12-07T15:40:00.000Z',
      type: 'join',
      identifier: 'd',
      params: {
        nerves_fw_uuid: '002b2a90-00ba',
        nerves_fw_product: 'Acme',
        nerves_fw_version: '1.0.0',
        meta: {},
      },
    });
    expect(line).toBe(
      `15:40:00 d  joined: Acme 1.0.0 (002b2a90…), validation unknown; no update will be offered: the device is in the penalty box until ${until} (exceeded failure threshold)`,
    );
  });
});

describe('records output', () => {
  it('every field labelled: the Firmware box, the firmware history, the last outcome and its reason', () => {
    expect(formatRecords(rolledBackRecords(), 2).split('\n')).toEqual([
      'records written 2026-12-07T15:02:00.000Z',
      'deployment 1: firmware: Acme Widget 2.0.0 (b1d19973-8f5e-587e-36f6-b6b3c2eedc66), active: yes, devices: 1, ' +
        'in flight: 0, updated: 0',
      '',
      'device: d1',
      '  connection: connected',
      '  firmware: Acme Widget 1.0.0 (002b2a90-00ba-55a1-0d52-88211ea560c8)',
      '  firmware status: Revert detected (validation: validated, auto-revert: detected)',
      '  deployment: 1',
      '  automatic updates: enabled',
      '  penalty box: until 2026-12-08T15:02:00.000Z: NervesHub offers this device no update until then',
      '  update attempts: 1',
      '  in flight: none',
      `  last update outcome: ignored at 2026-12-07T15:02:00.000Z, reason: "${ROLLED_BACK}"`,
      '  firmware history (newest first):',
      '    reported: 2026-12-07T15:02:00.000Z, firmware: Acme Widget 1.0.0 (002b2a90-00ba-55a1-0d52-88211ea560c8), ' +
        'status: Revert detected, product firmware: unrecognized',
      '    reported: 2026-12-07T15:01:00.000Z, firmware: Acme Widget 2.0.0 (b1d19973-8f5e-587e-36f6-b6b3c2eedc66), ' +
        'status: Not validated, product firmware: b-file',
      '    reported: 2026-12-07T15:00:00.000Z, firmware: Acme Widget 1.0.0 (002b2a90-00ba-55a1-0d52-88211ea560c8), ' +
        'status: Validated, product firmware: unrecognized',
      '  history (last 2 of 7):',
      '    2026-12-07T15:02:00.000Z in-flight status received',
      `    2026-12-07T15:02:00.000Z update ignored, reason: "${ROLLED_BACK}", penalty box until 2026-12-08T15:02:00.000Z`,
      '',
      'device: d2',
      '  connection: connecting',
      '  firmware: Unknown',
      '  firmware status: none shown (validation: unknown, auto-revert: no)',
      '  deployment: none',
      '  automatic updates: enabled',
      '  penalty box: no',
      '  update attempts: 0',
      '  in flight: none',
      '  last update outcome: none',
      '  firmware history (newest first): none',
      '  history (last 0 of 0): none',
      '',
    ]);
  });
});

describe('nerves-hub-test-server', () => {
  it('sends --public-key on join, offers the --update deployment, prints activity, keeps records.json', async () => {
    expect(existsSync(fileURLToPath(new URL('../dist/cli.js', import.meta.url))), 'build dist/ first').toBe(
      true,
    );
    const keyFile = fixture('fwup-key.pub');
    const child = spawn(
      process.execPath,
      [
        bin,
        '--dir',
        dir,
        '--update',
        '--public-key',
        keyFile,
        '--identifier',
        'cli-device',
        fixture('small.fw'),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let output = '';
    child.stdout!.setEncoding('utf8').on('data', (text: string) => {
      output += text;
    });
    try {
      await until(() => /device config for cli-device \(mTLS\): (\S+)/.test(output), child);
      const config = readFileSync(join(dir, 'device.toml'), 'utf8');
      expect(config).not.toContain('allow_unsigned');
      const setting = (key: string) => new RegExp(`${key} = "(.*)"`).exec(config)![1]!;
      const ws = new WebSocket(`${setting('uri')}?vsn=2.0.0`, {
        ca: readFileSync(setting('ca_file')),
        cert: readFileSync(setting('cert_file')),
        key: readFileSync(setting('key_file')),
      });
      const frames: unknown[][] = [];
      ws.on('message', (data) => frames.push(JSON.parse(String(data))));
      await once(ws, 'open');
      ws.send(
        JSON.stringify([
          '1',
          '1',
          'device',
          'phx_join',
          {
            nerves_fw_uuid: '00000000-0000-4000-8000-000000000000',
            nerves_fw_product: 'demo',
            nerves_fw_version: '1.0.0',
            nerves_fw_platform: 'host',
            nerves_fw_architecture: 'x86_64',
            device_api_version: '2.0.0',
            fwup_public_keys: 'on_connect',
          },
        ]),
      );
      await until(() => frames.length >= 3, child);
      expect(frames.map((frame) => frame[3])).toEqual(['phx_reply', 'fwup_public_keys', 'update']);
      expect(frames[1]![4]).toEqual({ keys: [readFileSync(keyFile, 'utf8').trim()] });
      ws.send(JSON.stringify(['1', '2', 'device', 'status_update', { status: 'received' }]));
      const recordsFile = join(dir, 'records.json');
      const records = () => JSON.parse(readFileSync(recordsFile, 'utf8')) as RecordsSnapshot;
      await until(() => records().devices[0]?.inflightUpdate?.status === 'received', child);
      expect(records().deployments[0]).toMatchObject({ id: 1, members: ['cli-device'], inflightUpdates: 1 });
      await until(() => /cli-device {2}status "received"/.test(output), child);
      expect(output).toMatch(/cli-device {2}connected\n/);
      expect(output).toMatch(/cli-device {2}joined: demo 1\.0\.0 \(00000000…\)/);
      // The firmware as the device names it: its uuid, as in the daemon's log.
      expect(output).toMatch(
        /cli-device {2}<- update offered: firmware [0-9a-f-]{36} \(\S+\) \(deployment 1\)/,
      );
      expect(output).toMatch(/cli-device {2}records: in-flight status received/);
      const printed = execFileSync(process.execPath, [bin, 'records', '--dir', dir], { encoding: 'utf8' });
      expect(printed).toMatch(/device: cli-device\n {2}connection: connected\n/);
      expect(printed).toMatch(/firmware status: none shown \(validation: unknown, auto-revert: no\)/);
      expect(printed).toMatch(/in flight: received \(deployment 1\)/);
      ws.close();
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });
});

describe('nerves-hub-test-server without a firmware file', () => {
  it('serves the bundled example with its key in a deployment, and prints a config and a command per method', async () => {
    const exampleDir = join(dir, 'example');
    const child = spawn(process.execPath, [bin, '--dir', exampleDir], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout!.setEncoding('utf8').on('data', (text: string) => {
      output += text;
    });
    try {
      await until(() => /device pages are kept in/.test(output), child);
      expect(output).toMatch(
        /firmware [0-9a-f-]{36} \(demo 1\.0\.1, 263158 bytes\): the bundled example, \S*fixtures\/small\/small-signed\.fw\n/,
      );
      expect(output).toMatch(/signing key \S*fixtures\/small\/fwup-key\.pub \(sent on join\)/);
      expect(output).toContain('deployment 1: 1.0.1 for every device');
      expect(output).toContain(
        `product key nhp_test_server for shared-secret devices (its secret: ${exampleDir}/shared-secret)`,
      );
      expect(output).toContain(`device config for test-device-0001 (mTLS): ${exampleDir}/device.toml`);
      expect(output).toContain(
        `device config for test-device-0001-shared-secret (shared secret): ${exampleDir}/device-shared-secret.toml`,
      );
      expect(output).toContain(`  pnpm exec nerves-hub-link run --config ${exampleDir}/device.toml\n`);
      expect(output).toContain(
        `  pnpm exec nerves-hub-link run --config ${exampleDir}/device-shared-secret.toml\n`,
      );
      const shared = readFileSync(join(exampleDir, 'device-shared-secret.toml'), 'utf8');
      expect(shared).toMatch(/^uri = "wss:\/\/127\.0\.0\.1:\d+\/device-socket\/websocket"$/m);
      expect(shared).toContain(`secret_file = "${exampleDir}/shared-secret"`);
      expect(shared).not.toContain('allow_unsigned');
      expect(statSync(join(exampleDir, 'shared-secret')).mode & 0o777).toBe(0o600);
      expect(readFileSync(join(exampleDir, 'shared-secret'), 'utf8')).toMatch(/^[\w-]{32}\n$/);
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });
});

describe('nerves-hub-test-server with a bad argument', () => {
  const refusals: [string, string[], RegExp][] = [
    [
      'a file that is not a fwup archive',
      [fixture('fwup-key.pub')],
      /fwup-key\.pub is not a fwup archive \(\.fw\): it has no meta\.conf/,
    ],
    [
      'a missing firmware file',
      [join(dir, 'missing.fw')],
      /^nerves-hub-test-server: firmware file \S+missing\.fw: no such file\n$/,
    ],
    ['a folder', [dir], /firmware file \S+ is not a regular file/],
    [
      'a public key that is not one',
      ['--public-key', fixture('small.fw'), fixture('small.fw')],
      /small\.fw is not an fwup public key/,
    ],
    [
      'a missing public key',
      ['--public-key', join(dir, 'nope.pub')],
      /public key file \S+nope\.pub: no such file/,
    ],
    ['a bad port', ['--port', 'many'], /--port many: expected a port number/],
  ];
  for (const [label, args, message] of refusals) {
    it(`${label}: one line saying what is wrong, no stack, exit 1`, () => {
      const result = spawnSync(process.execPath, [bin, '--dir', join(dir, 'refused'), ...args], {
        encoding: 'utf8',
        timeout: 10_000,
      });
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(message);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(result.stdout).toBe('');
    });
  }

  it('an unknown option: exit 64 with a pointer to --help', () => {
    const result = spawnSync(process.execPath, [bin, '--frobnicate'], { encoding: 'utf8', timeout: 10_000 });
    expect(result.status).toBe(64);
    expect(result.stderr).toMatch(
      /^nerves-hub-test-server: Unknown option '--frobnicate'.*\(see --help\)\n$/,
    );
  });
});

/** Polls `check` until it holds; fails early if the CLI exits. */
async function until(check: () => boolean, child: ChildProcess, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (check()) return;
    } catch {
      // not written yet
    }
    if (child.exitCode !== null) throw new Error(`the CLI exited with ${child.exitCode}`);
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
