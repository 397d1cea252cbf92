// What the daemon tells systemd (Type=notify): READY=1 once started, STATUS= lines for `systemctl status`,
// WATCHDOG=1 from its event loop, EXTEND_TIMEOUT_USEC while fwup writes during a stop, STOPPING=1. Against a real
// datagram listener on $NOTIFY_SOCKET, with the real systemd-notify.
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServiceNotifier, takeNotifySocket } from '../src/runtime/service-notifier.js';
import { startWatchdog, takeWatchdogPeriod } from '../src/runtime/watchdog.js';
import { createDevice, runDaemon, statuses, useTestServer } from './support/harness.js';
import { listenNotifySocket, type NotifyMessage, type NotifySocket } from './support/notify-socket.js';

const missing = ['python3', 'systemd-notify']
  .filter((program) => spawnSync(program, ['--version']).error !== undefined)
  .map(
    (program) => `${program} not found (apt-get install ${program === 'python3' ? 'python3' : 'systemd'})`,
  );
if (missing.length > 0) console.warn(`skipping the notify socket tests: ${missing.join('; ')}`);

const e2e = useTestServer('daemon-notify-', ['small-signed.fw']);
let socket: NotifySocket;
beforeAll(async () => {
  if (missing.length === 0) socket = await listenNotifySocket(e2e.root);
});
afterAll(() => socket?.close());

/** Beats every 150 ms. */
const WATCHDOG_USEC = '300000';
const has = (key: string, value?: string) => (message: NotifyMessage) =>
  key in message.fields && (value === undefined || message.fields[key] === value);
const statusLines = (from: number) =>
  socket.messages
    .slice(from)
    .map((message) => message.fields.STATUS)
    .filter((status): status is string => status !== undefined);

describe.skipIf(missing.length > 0)('the daemon under systemd (Type=notify)', () => {
  it('says READY=1 once started, what it does in STATUS=, beats WATCHDOG=1, and STOPPING=1 on SIGTERM', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'notify-ready');
    const from = socket.messages.length;
    const daemon = runDaemon(device, { NOTIFY_SOCKET: socket.path, WATCHDOG_USEC });
    const ready = await socket.waitFor(has('READY', '1'), 15_000, from);
    // Started means: config loaded, lock taken, first connection attempt under way.
    expect(ready.fields.STATUS).toBe('connecting to NervesHub; idle');
    expect(socket.messages.slice(from).filter(has('STATUS')).indexOf(ready)).toBe(0);
    await socket.waitFor(has('STATUS', 'joined NervesHub; idle'), 15_000, from);
    const beatsFrom = socket.messages.length;
    for (let beat = 0; beat < 3; beat++) {
      await socket.waitFor(
        (message) => has('WATCHDOG', '1')(message) && socket.messages.indexOf(message) >= beatsFrom + beat,
        5_000,
        beatsFrom,
      );
    }
    daemon.child.kill('SIGTERM');
    expect((await daemon.exited).code).toBe(0);
    expect(socket.messages.slice(from).find(has('STOPPING'))?.fields).toEqual({
      STOPPING: '1',
      STATUS: 'SIGTERM: shutting down',
    });
    // Nothing the daemon runs inherits the socket.
    expect(daemon.output()).not.toContain('cannot tell systemd');
  });

  it('an update: downloading with its percent, applying, then the reboot', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'notify-update');
    const from = socket.messages.length;
    const daemon = runDaemon(device, { NOTIFY_SOCKET: socket.path });
    await e2e.server.waitForJoin(device.identifier);
    const firmware = e2e.firmware('small-signed.fw');
    e2e.server.sendUpdate(device.identifier, firmware.id, {
      fault: { kind: 'slow', bytesPerSecond: 200_000, times: 1 },
    });
    expect((await daemon.exited).code).toBe(0);
    await socket.waitFor(has('STOPPING'), 5_000, from);
    const lines = statusLines(from);
    const version = firmware.meta.version;
    // Messages sent while systemd-notify still runs are merged: the newest status wins, so not every step shows.
    const downloading = lines.filter((line) => line.startsWith(`joined NervesHub; downloading ${version}: `));
    expect(downloading.length).toBeGreaterThan(2);
    expect(downloading.every((line) => /: \d*[05] %$/.test(line))).toBe(true);
    expect(lines).toContainEqual(expect.stringMatching(`^joined NervesHub; applying ${version}`));
    expect(lines.at(-1)).toBe('rebooting: the new firmware is written');
    expect(statuses(e2e.server, device.identifier)).toContain('completed');
  });

  it('SIGTERM while fwup writes: STOPPING=1 and EXTEND_TIMEOUT_USEC, so the stop timeout does not kill fwup', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'notify-extend');
    const from = socket.messages.length;
    const daemon = runDaemon(device, { NOTIFY_SOCKET: socket.path, FAKE_FWUP_DELAY_MS: '60' });
    await e2e.server.waitForJoin(device.identifier);
    e2e.server.sendUpdate(device.identifier, e2e.firmware('small-signed.fw').id);
    await e2e.server.waitForEvent(
      device.identifier,
      (event) => event.event === 'fwup_progress' && event.payload.stage === 'updating',
    );
    daemon.child.kill('SIGTERM');
    expect((await daemon.exited).code).toBe(0);
    const stopping = socket.messages.slice(from).find(has('STOPPING'));
    expect(stopping?.fields.STATUS).toBe('SIGTERM: waiting for fwup to finish before exiting');
    expect(socket.messages.slice(from).find(has('EXTEND_TIMEOUT_USEC'))?.fields.EXTEND_TIMEOUT_USEC).toBe(
      '30000000',
    );
  });

  it('a firmware not validated yet says so', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'notify-unvalidated');
    const env = `${device.dir}/uboot.env`;
    writeFileSync(
      env,
      readFileSync(env, 'utf8').replace('a.nerves_fw_validated=1', 'a.nerves_fw_validated=0'),
    );
    const from = socket.messages.length;
    const daemon = runDaemon(device, { NOTIFY_SOCKET: socket.path });
    await socket.waitFor(
      has('STATUS', 'joined NervesHub; idle; running firmware not validated'),
      15_000,
      from,
    );
    daemon.child.kill('SIGTERM');
    await daemon.exited;
  });

  it('a server that never answers does not stop the beat', async () => {
    const held: Socket[] = [];
    const silent = createServer((connection) => held.push(connection));
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const { port } = silent.address() as { port: number };
    try {
      const device = await createDevice(e2e.server, e2e.root, 'notify-silent');
      writeFileSync(
        device.configFile,
        readFileSync(device.configFile, 'utf8').replace(
          /^uri = ".*"$/m,
          `uri = "wss://127.0.0.1:${port}/socket/websocket"`,
        ),
      );
      const from = socket.messages.length;
      const connected = once(silent, 'connection');
      const daemon = runDaemon(device, { NOTIFY_SOCKET: socket.path, WATCHDOG_USEC });
      await socket.waitFor(has('READY'), 15_000, from);
      await connected;
      const beatsFrom = socket.messages.length;
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      const beats = socket.messages.slice(beatsFrom).filter(has('WATCHDOG'));
      expect(beats.length).toBeGreaterThanOrEqual(5);
      expect(statusLines(from).at(-1)).toBe('connecting to NervesHub; idle');
      daemon.child.kill('SIGTERM');
      expect((await daemon.exited).code).toBe(0);
    } finally {
      for (const connection of held) connection.destroy();
      silent.close();
    }
  });

  it('a blocked event loop sends no beat until it runs again', async () => {
    // A socket of its own: only this process's beats arrive on it.
    const own = await listenNotifySocket(e2e.root, 'blocked.sock');
    const notifier = createServiceNotifier({ socket: own.path });
    const from = 0;
    const watchdog = startWatchdog(notifier, 200)!;
    expect(watchdog.intervalMs).toBe(100);
    await own.waitFor(has('WATCHDOG'), 5_000, from);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const blockedAt = Date.now();
    while (Date.now() - blockedAt < 1_000) {
      // The loop is blocked: no timer runs.
    }
    const resumed = Date.now();
    const after = await own.waitFor(
      (message) => has('WATCHDOG')(message) && message.at > resumed,
      5_000,
      from,
    );
    watchdog.stop();
    await notifier.flush();
    await own.close();
    const beats = own.messages.filter(has('WATCHDOG'));
    const during = beats.filter((beat) => beat.at > blockedAt + 150 && beat.at < resumed);
    expect(during).toEqual([]);
    expect(after.at - resumed).toBeLessThan(1_000);
  });
});

describe('the notifier and the watchdog period', () => {
  it('take $NOTIFY_SOCKET and $WATCHDOG_USEC out of the environment; the watchdog only for this pid', () => {
    const env: NodeJS.ProcessEnv = { NOTIFY_SOCKET: '/run/systemd/notify', WATCHDOG_USEC: '120000000' };
    expect(takeNotifySocket(env)).toBe('/run/systemd/notify');
    expect(takeWatchdogPeriod(env, 42)).toBe(120_000);
    expect(env).toEqual({});
    expect(takeWatchdogPeriod({ WATCHDOG_USEC: '120000000', WATCHDOG_PID: '41' }, 42)).toBeUndefined();
    expect(takeWatchdogPeriod({ WATCHDOG_USEC: '120000000', WATCHDOG_PID: '42' }, 42)).toBe(120_000);
    expect(takeNotifySocket({})).toBeUndefined();
    expect(createServiceNotifier({ socket: undefined }).enabled).toBe(false);
    expect(startWatchdog(createServiceNotifier({ socket: undefined }), 1_000)).toBeUndefined();
  });

  it('say once, naming the program, when systemd-notify cannot be run', async () => {
    const problems: string[] = [];
    const notifier = createServiceNotifier({
      socket: '/nonexistent/notify',
      program: '/nonexistent/systemd-notify',
      onError: (message) => problems.push(message),
    });
    notifier.send({ READY: '1' });
    await notifier.flush();
    notifier.send({ WATCHDOG: '1' });
    await notifier.flush();
    expect(problems).toEqual([
      'cannot tell systemd how the daemon is doing: /nonexistent/systemd-notify not found (it comes with systemd)',
    ]);
  });
});
