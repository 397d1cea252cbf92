// `check` says everything at once: every independent problem in one run, one line each, exit 78 when any is the
// config's; whether the signing keys it asked for came; an offer reported and not taken; `--json`; quiet on a
// closed pipe. And the exit codes of `run` for a program that is not there (78, naming the key) or that fails (1).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  BUNDLE,
  createDevice,
  type Device,
  runDaemon,
  startDaemon,
  statuses,
  useTestServer,
} from './support/harness.js';

const e2e = useTestServer('daemon-check-everything-', ['small-signed.fw']);
const keyless = useTestServer('daemon-check-keyless-', [], { signingKey: false });

function rewrite(device: Device, ...changes: [RegExp, string][]): void {
  let text = readFileSync(device.configFile, 'utf8');
  for (const [pattern, replacement] of changes) {
    expect(text, `${pattern} is in the config`).toMatch(pattern);
    text = text.replace(pattern, replacement);
  }
  writeFileSync(device.configFile, text);
}

/** The lines of check's stdout, with its exit code. */
async function check(device: Device, ...args: string[]): Promise<{ code: number | null; lines: string[] }> {
  const run = startDaemon(['check', '--config', device.configFile, ...args]);
  const { code } = await run.exited;
  return { code, lines: run.output().trimEnd().split('\n') };
}

describe('check with several faults at once', () => {
  it('says every one, one line each, and exits 78', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'many-faults');
    writeFileSync(`${device.dir}/a-file`, 'not a folder');
    rewrite(
      device,
      [/^cert_file = ".*"$/m, `cert_file = "${device.dir}/missing-cert.pem"`],
      [/^data_dir = ".*"$/m, `data_dir = "${device.dir}/a-file/data"`],
      [/^reboot = .*$/m, 'reboot = "/nonexistent/reboot"'],
      [/^path = ".*"$/m, 'path = "/nonexistent/fwup"'],
      [/^file = ".*"$/m, 'command = ["/nonexistent/fw_printenv"]'],
      [/^serial = ".*"$/m, 'serial_command = ["sh", "-c", "echo no serial here >&2; exit 1"]'],
    );
    const { code, lines } = await check(device);
    expect(code).toBe(78);
    expect(lines).toEqual([
      `ok   config ${device.configFile}`,
      `fail cannot read the device certificate ${device.dir}/missing-cert.pem (auth.cert_file): no such file (check the path)`,
      'fail commands.reboot: "/nonexistent/reboot" is not an executable file (check the path, or install it)',
      'ok   updates: any time, reboot_policy immediate',
      `fail data_dir ${device.dir}/a-file/data cannot be created: ${device.dir}/a-file is a file, not a folder (data_dir)`,
      'fail fwup not found at "/nonexistent/fwup": install fwup or set fwup.path',
      'fail "/nonexistent/fw_printenv" not found: install it (u-boot-tools) or set metadata.command, metadata.file or [metadata.values]',
      'fail serial command "sh -c echo no serial here >&2; exit 1" exited with 1: no serial here',
      'skip not joining NervesHub: it needs the credentials, fwup, firmware metadata, identifier above',
      'warn fwup.public_keys is empty: updates are refused unless NervesHub sends a signing key of the organization when the device joins',
      'check: 6 problems (5 in the configuration), 1 warning; exit 78',
    ]);
    expect(e2e.server.device('many-faults').joins).toHaveLength(0);
  });

  it('--json: one object per check, the exit code, and no join payload when it did not join', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'json-faults');
    rewrite(device, [/^path = ".*"$/m, 'path = "/nonexistent/fwup"']);
    const { code, lines } = await check(device, '--json');
    expect(code).toBe(78);
    const document = JSON.parse(lines.join('\n'));
    expect(document).toMatchObject({ config: device.configFile, exit_code: 78, join_payload: null });
    expect(document.checks).toContainEqual({
      check: 'fwup',
      status: 'fail',
      message: 'fwup not found at "/nonexistent/fwup": install fwup or set fwup.path',
      config: true,
    });
    expect(document.checks.map((entry: { check: string }) => entry.check)).toEqual([
      'config',
      'credentials',
      'commands',
      'updates',
      'data_dir',
      'fwup',
      'metadata',
      'devpath',
      'validation',
      'identifier',
      'join',
      'signing',
    ]);
  });

  it('a command that exists and fails is not the config: exit 1 when nothing else is wrong', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'failing-serial');
    rewrite(device, [/^serial = ".*"$/m, 'serial_command = ["false"]']);
    const { code, lines } = await check(device);
    expect(code).toBe(1);
    expect(lines).toContain('fail serial command "false" exited with 1');
  });

  it('a config that cannot be read: every problem of it, one line each', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'bad-keys');
    rewrite(device, [/^heartbeat_interval_ms = .*$/m, 'heartbeat_interval_ms = -5\ncolour = "red"']);
    const { code, lines } = await check(device);
    expect(code).toBe(78);
    expect(lines.filter((line) => line.startsWith('fail '))).toHaveLength(2);
    expect(lines.at(-2)).toBe('skip the rest needs a configuration that can be read');
  });
});

describe('check joined', () => {
  it('says that the join is real, that the keys it asked for came, and reports an offer without taking it', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'offered');
    const firmware = e2e.firmware('small-signed.fw');
    // Pushed while check is joined, as NervesHub pushes an update it offers when the device comes online.
    const checking = check(device);
    await e2e.server.waitForJoin(device.identifier);
    e2e.server.sendUpdate(device.identifier, firmware.id);
    const { code, lines } = await checking;
    expect(code).toBe(0);
    expect(lines).toContain(
      'note that was a real device join: NervesHub shows the device as connected and may offer it an update, which check reports and does not take',
    );
    expect(lines).toContain(
      'ok   NervesHub sent 1 fwup signing key(s) of the organization, as asked (fwup.public_keys is empty)',
    );
    expect(lines).toContain(
      `note NervesHub offered firmware ${firmware.meta.uuid} (${firmware.meta.version}): check does not take it; \`run\` would`,
    );
    expect(lines.join('\n')).not.toContain('fwup.public_keys is empty:');
    // NervesHub's view: one join, and no status from the device: the offer was not taken.
    expect(e2e.server.device(device.identifier).joins).toHaveLength(1);
    expect(statuses(e2e.server, device.identifier)).toEqual([]);
  });

  it('no key from NervesHub when it asked: says that every update would be refused', async () => {
    const device = await createDevice(keyless.server, keyless.root, 'no-keys');
    const { code, lines } = await check(device);
    expect(code).toBe(0);
    expect(lines).toContain(
      'warn fwup.public_keys is empty and NervesHub sent no signing key within 2 s of the join: every update will be refused ("Refusing unverified firmware"); add a signing key to the organization in NervesHub, or set fwup.public_keys',
    );
  });
});

describe('one wording per problem', () => {
  it('a shared-secret file others can read: one warning, naming the key, in check and in run', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'open-secret', { auth: 'shared_secret' });
    chmodSync(`${device.dir}/secret`, 0o644);
    const warning = `warn ${device.dir}/secret (auth.secret_file) is readable by other users; run chmod 600 on it`;
    const { lines } = await check(device);
    expect(lines.filter((line) => line.includes('readable by'))).toEqual([warning]);
    const daemon = runDaemon(device);
    // check joined once already: this is the daemon's join.
    await e2e.server.waitForJoin(device.identifier, { count: 2 });
    daemon.child.kill('SIGTERM');
    await daemon.exited;
    expect(
      daemon
        .output()
        .split('\n')
        .filter((line) => line.includes('readable by')),
    ).toEqual([
      expect.stringMatching(
        / WARN {2}.*\/secret \(auth\.secret_file\) is readable by other users; run chmod 600 on it$/,
      ),
    ]);
  });
});

describe('a closed pipe', () => {
  /** Runs the bundle with its stdout's reader closed after `keep` bytes (0: before anything is written). */
  async function closedPipe(args: string[], keep: number) {
    const child = spawn(process.execPath, [BUNDLE, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk;
    });
    let seen = 0;
    if (keep === 0) child.stdout!.destroy();
    else {
      child.stdout!.on('data', (chunk: Buffer) => {
        seen += chunk.length;
        if (seen >= keep) child.stdout!.destroy();
      });
    }
    const [code, signal] = await once(child, 'exit');
    return { code: code as number | null, signal: signal as string | null, stderr };
  }

  it('check | head -1, status | head -1, --help | head -1: exit 141, no stack', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'piped');
    for (const args of [
      ['check', '--config', device.configFile],
      ['status', '--config', device.configFile],
      ['--help'],
      ['run', '--help'],
    ]) {
      const { code, signal, stderr } = await closedPipe(args, 0);
      expect({ args, code, signal, stderr }).toEqual({ args, code: 141, signal: null, stderr: '' });
    }
    const { code, stderr } = await closedPipe(['check', '--config', device.configFile], 1);
    expect([0, 141]).toContain(code);
    expect(stderr).toBe('');
  });
});

describe('run with a program that is not there', () => {
  for (const [label, change, key] of [
    [
      'a hook',
      [/^\[commands\]$/m, '[hooks]\nbefore_apply = "/nonexistent/stop-services"\n[commands]'],
      'hooks.before_apply',
    ],
    [
      'the metadata command',
      [/^file = ".*"$/m, 'command = ["/nonexistent/fw_printenv"]'],
      'metadata.command',
    ],
    [
      'the identifier command',
      [/^serial = ".*"$/m, 'serial_command = ["/nonexistent/serial"]'],
      'identity.serial_command',
    ],
  ] as [string, [RegExp, string], string][]) {
    it(`${label}: exit 78, naming ${key}`, async () => {
      const device = await createDevice(e2e.server, e2e.root, `missing-${key.replace(/\W/g, '-')}`);
      rewrite(device, change);
      const daemon = runDaemon(device);
      expect((await daemon.exited).code).toBe(78);
      expect(daemon.output()).toMatch(new RegExp(`ERROR .*${key.replace('.', '\\.')}.*code=CONFIG_INVALID`));
    });
  }

  it('the identifier command exists and fails: exit 1 (systemd tries again later)', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'serial-fails');
    rewrite(device, [/^serial = ".*"$/m, 'serial_command = ["false"]']);
    const daemon = runDaemon(device);
    expect((await daemon.exited).code).toBe(1);
    expect(daemon.output()).toContain('ERROR serial command "false" exited with 1');
  });
});
