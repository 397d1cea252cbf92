// What a newcomer sees when the setup is wrong: every message names the config key or the fix, a broken setup
// exits 78 (systemd does not restart it), and a clean stop is not reported as a problem. The connection problems
// with the daemon in the test process (support/in-process.ts); exit codes and the log of a stop with the bundle.
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createDevice, startDaemon, useTestServer } from './support/harness.js';
import { runInProcess } from './support/in-process.js';
import { startJoinedDevice } from './support/joined-device.js';

// With NervesHub's web endpoint too: a shared-secret device may be pointed at the web host.
const e2e = useTestServer('daemon-first-run-', [], { server: { webEndpoint: true } });

describe('a first run with a wrong setup', () => {
  it('a wrong shared secret: the keys to check', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'wrong-secret', { auth: 'shared_secret' });
    writeFileSync(`${device.dir}/secret`, 'not-the-secret', { mode: 0o600 });
    const daemon = await runInProcess(device);
    await daemon.waitForOutput(/connection problem/);
    daemon.stop();
    expect((await daemon.waitForExit()).code).toBe(0);
    expect(daemon.output()).toContain(
      `WARN  connection problem: NervesHub refused the shared-secret signature (HTTP 401): check auth.key and auth.secret_file (${device.dir}/secret)`,
    );
  });

  it('a certificate device on the shared-secret path joins: the device endpoint serves either method on both', async () => {
    const otherPath = e2e.server.mtlsUrl.replace('/socket/', '/device-socket/');
    const { daemon } = await startJoinedDevice(e2e, 'other-path', { settings: { uri: otherPath } });
    daemon.stop();
    expect((await daemon.waitForExit()).code).toBe(0);
    expect(daemon.output()).not.toContain('connection problem');
  });

  it('a path the web host has no socket on: the path NervesHub expects, as a uri to copy', async () => {
    const webHost = e2e.server.webUrl!.replace('https:', 'wss:');
    const device = await createDevice(e2e.server, e2e.root, 'wrong-path', {
      auth: 'shared_secret',
      settings: { uri: `${webHost}/websocket` },
    });
    const daemon = await runInProcess(device);
    await daemon.waitForOutput(/connection problem/);
    daemon.stop();
    expect((await daemon.waitForExit()).code).toBe(0);
    expect(daemon.output()).toContain(
      'connection problem: NervesHub has no device socket at /websocket (HTTP 404): shared-secret devices connect ' +
        `to /device-socket/websocket; set uri = "${webHost}/device-socket/websocket"`,
    );
  });

  it('a certificate file that cannot be read: the config key, and exit 78', async () => {
    const missing = `${e2e.root}/no-cert/missing.crt`;
    const device = await createDevice(e2e.server, e2e.root, 'no-cert', {
      settings: { auth: { cert_file: missing } },
    });
    const run = startDaemon(['run', '--config', device.configFile]);
    expect((await run.waitForExit()).code).toBe(78);
    expect(run.output()).toContain(
      `ERROR cannot read the device certificate ${missing} (auth.cert_file): no such file (check the path) ` +
        `(config file ${device.configFile}) code=CONFIG_INVALID`,
    );
    const check = startDaemon(['check', '--config', device.configFile]);
    expect((await check.waitForExit()).code).toBe(78);
    expect(check.output()).toContain(
      `\nfail cannot read the device certificate ${missing} (auth.cert_file): no such file (check the path)\n`,
    );
    for (const daemon of [run, check]) expect(daemon.output()).not.toContain('certFile');
  });

  it('a clean stop is logged at info level, and the version is the package version', async () => {
    const { daemon } = await startJoinedDevice(e2e, 'clean-stop', {
      process: true,
      args: ['--log-format', 'json'],
    });
    daemon.stop('SIGTERM');
    expect((await daemon.waitForExit()).code).toBe(0);
    const records = daemon
      .output()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { level: string; msg: string });
    expect(records.filter((record) => record.msg.startsWith('disconnected'))).toEqual([
      expect.objectContaining({ level: 'info', msg: 'disconnected (code 1000, closed by the daemon)' }),
    ]);
    expect(records.filter((record) => record.level === 'warn' || record.level === 'error')).toEqual([]);

    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    const printed = startDaemon(['--version']);
    await printed.waitForExit();
    expect(printed.output()).toBe(`${version}\n`);
    expect(records[0]!.msg).toBe(
      `nerves-hub-link ${version === '0.0.0' ? '0.0.0 (unreleased development build)' : version} starting`,
    );
  });
});
