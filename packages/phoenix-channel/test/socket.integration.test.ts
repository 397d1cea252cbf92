// Socket and channels over real ws connections on 127.0.0.1, against the small server in test/support/.
import { type AddressInfo, createServer, type Server } from 'node:net';
import { networkInterfaces } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { exponentialBackoff } from '../src/backoff.js';
import {
  type Channel,
  type PhoenixChannelError,
  Socket,
  type SocketCloseEvent,
  type SocketReconnectingEvent,
  type UpgradeRejectedError,
} from '../src/index.js';
import {
  closeAll,
  heldTimers,
  nextChannelEvent,
  nextSocketEvent,
  openSocket,
  track,
  until,
} from './support/helpers.js';
import { type PhoenixServer, startPhoenixServer } from './support/phoenix-server.js';

afterEach(closeAll);

function hasIpv6Loopback(): boolean {
  return Object.values(networkInterfaces()).some((addresses) => addresses?.some((a) => a.address === '::1'));
}

async function server(): Promise<PhoenixServer> {
  return track(await startPhoenixServer());
}

async function joined(channel: Channel): Promise<unknown> {
  return channel.join();
}

describe('Socket#connect', () => {
  it('sends `vsn=2.0.0`, the `params` and the `headers`, and no Origin header', async () => {
    const srv = await server();
    const { socket } = openSocket(srv.url, {
      params: { token: 'abc', vsn: '1.0.0', skipped: null },
      headers: { 'x-device': 'd1', Origin: 'https://evil.example' },
    });
    socket.connect();
    await nextSocketEvent(socket, 'open');
    const upgrade = srv.upgrades[0]!;
    expect(upgrade.url.pathname).toBe('/socket/websocket');
    expect(upgrade.url.searchParams.get('vsn')).toBe('2.0.0');
    expect(upgrade.url.searchParams.get('token')).toBe('abc');
    expect(upgrade.url.searchParams.has('skipped')).toBe(false);
    expect(upgrade.headers['x-device']).toBe('d1');
    expect(upgrade.rawHeaderNames.map((n) => n.toLowerCase())).not.toContain('origin');
    expect(upgrade.headers['sec-websocket-extensions']).toBeUndefined();
    expect(socket.isConnected()).toBe(true);
    expect(socket.state).toBe('open');
  });

  it('calls the `params` and `headers` functions again for every attempt', async () => {
    const srv = await server();
    let n = 0;
    const { socket } = openSocket(srv.url, {
      params: () => ({ attempt: String(n) }),
      headers: async () => ({ 'x-signed': `sig-${++n}` }),
    });
    socket.connect();
    await nextSocketEvent(socket, 'open');
    srv.current!.ws.terminate();
    await nextSocketEvent(socket, 'open');
    srv.current!.ws.close(1012);
    await nextSocketEvent(socket, 'open');
    expect(srv.upgrades.map((u) => u.headers['x-signed'])).toEqual(['sig-1', 'sig-2', 'sig-3']);
    expect(srv.upgrades.map((u) => u.url.searchParams.get('attempt'))).toEqual(['0', '1', '2']);
  });

  it('reports a `headers` function that throws as `PHX_CONNECT_FAILED` and retries', async () => {
    const srv = await server();
    let calls = 0;
    const { socket, errors } = openSocket(srv.url, {
      headers: () => {
        calls += 1;
        if (calls === 1) throw new Error('key unavailable');
        return { 'x-ok': '1' };
      },
    });
    socket.connect();
    await nextSocketEvent(socket, 'open');
    expect(errors.map((e) => e.code)).toEqual(['PHX_CONNECT_FAILED']);
    expect(srv.upgrades).toHaveLength(1);
  });

  it('does nothing when called twice', async () => {
    const srv = await server();
    const { socket } = openSocket(srv.url);
    socket.connect();
    socket.connect();
    await nextSocketEvent(socket, 'open');
    socket.connect();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(srv.upgrades).toHaveLength(1);
  });

  it('reports a refused TCP connection as `PHX_CONNECT_FAILED` and backs off by attempt', async () => {
    const probe = await startPhoenixServer();
    const url = probe.url;
    await probe.stop();
    const attempts: number[] = [];
    const { socket, errors } = openSocket(url, {
      reconnectAfterMs: (attempt) => {
        attempts.push(attempt);
        return 20;
      },
    });
    const events: SocketReconnectingEvent[] = [];
    socket.on('reconnecting', (event) => events.push(event));
    socket.connect();
    await until(() => events.length >= 3);
    expect(errors.slice(0, 3).map((e) => e.code)).toEqual([
      'PHX_CONNECT_FAILED',
      'PHX_CONNECT_FAILED',
      'PHX_CONNECT_FAILED',
    ]);
    expect(errors[0]!.cause).toBeInstanceOf(Error);
    expect(attempts.slice(0, 3)).toEqual([1, 2, 3]);
    expect(events.slice(0, 3)).toEqual([
      { attempt: 1, delayMs: 20 },
      { attempt: 2, delayMs: 20 },
      { attempt: 3, delayMs: 20 },
    ]);
  });

  it('waits its backoff on the `timers` it is given: the next attempt comes when that timer runs', async () => {
    const probe = await startPhoenixServer();
    const url = probe.url;
    await probe.stop();
    const pending: Array<{ delayMs: number; run: () => void }> = [];
    const { socket, errors } = openSocket(url, {
      reconnectAfterMs: () => 60_000,
      timers: {
        setTimeout: (run, delayMs) => {
          pending.push({ delayMs, run });
          return { unref: () => {} };
        },
        clearTimeout: () => {},
      },
    });
    socket.connect();
    await nextSocketEvent(socket, 'reconnecting');
    expect(pending.map((each) => each.delayMs)).toEqual([60_000]);
    expect(errors).toHaveLength(1);
    const second = nextSocketEvent(socket, 'reconnecting');
    pending[0]!.run();
    await second;
    expect(errors).toHaveLength(2);
    expect(pending).toHaveLength(2);
  });

  it('resets the attempt count once a connection has stayed open for a heartbeat interval', async () => {
    const srv = await server();
    srv.refuse = { status: 503 };
    const attempts: number[] = [];
    const { socket } = openSocket(srv.url, {
      heartbeatIntervalMs: 100,
      reconnectAfterMs: (attempt) => {
        attempts.push(attempt);
        return 20;
      },
    });
    socket.connect();
    await until(() => attempts.length >= 2);
    srv.refuse = null;
    await nextSocketEvent(socket, 'open');
    // Dropped before a heartbeat interval: the count goes on.
    srv.current!.ws.terminate();
    await nextSocketEvent(socket, 'open');
    expect(attempts.at(-1)).toBe(3);
    // A second heartbeat: the connection has stayed open for more than an interval.
    const connection = srv.current!;
    await until(() => connection.frames.filter(([, , topic]) => topic === 'phoenix').length >= 2);
    connection.ws.terminate();
    await nextSocketEvent(socket, 'open');
    expect(attempts.at(-1)).toBe(1);
  });

  it('backs off against a server that accepts and closes every connection at once', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => wss.once('listening', resolve));
    track({ close: () => new Promise<void>((resolve) => wss.close(() => resolve())) });
    let connections = 0;
    wss.on('connection', (ws) => {
      connections++;
      ws.close(1011);
    });
    const { port } = wss.address() as AddressInfo;
    const delays: number[] = [];
    const held = heldTimers();
    const { socket } = openSocket(`ws://127.0.0.1:${port}/socket/websocket`, {
      reconnectAfterMs: exponentialBackoff({ initialMs: 20, factor: 2, maxMs: 5_000, jitter: 0 }),
      timers: held.timers,
    });
    socket.on('reconnecting', ({ delayMs }) => delays.push(delayMs));
    socket.connect();
    // Each connection opens and is closed at once: the delay keeps growing, where starting over after each open
    // would wait 20 ms every time.
    for (let wait = 0; wait < 6; wait++) {
      await nextSocketEvent(socket, 'reconnecting');
      expect(held.runNext()).toBe(20 * 2 ** wait);
    }
    await nextSocketEvent(socket, 'reconnecting');
    await socket.close();
    expect(connections).toBe(7);
    expect(delays).toEqual([20, 40, 80, 160, 320, 640, 1_280]);
    expect(held.pending).toEqual([]);
  });

  it('tells the local address of the open connection, and nothing while not connected', async () => {
    const srv = await server();
    const { socket } = openSocket(srv.url, { reconnectAfterMs: () => 200 });
    socket.connect();
    expect(socket.localAddress).toBeUndefined();
    await nextSocketEvent(socket, 'open');
    expect(socket.localAddress).toBe('127.0.0.1');
    const closed = nextSocketEvent(socket, 'close');
    srv.current!.ws.terminate();
    await closed;
    expect(socket.state).toBe('waiting');
    expect(socket.localAddress).toBeUndefined();
    await nextSocketEvent(socket, 'open');
    expect(socket.localAddress).toBe('127.0.0.1');
    await socket.close();
    expect(socket.localAddress).toBeUndefined();
  });

  it.skipIf(!hasIpv6Loopback())('tells an IPv6 local address as the server sees it', async () => {
    const wss = new WebSocketServer({ host: '::1', port: 0 });
    await new Promise((resolve) => wss.once('listening', resolve));
    track({ close: () => new Promise<void>((resolve) => wss.close(() => resolve())) });
    const seen: (string | undefined)[] = [];
    wss.on('connection', (_ws, request) => seen.push(request.socket.remoteAddress));
    const { port } = wss.address() as AddressInfo;
    const { socket } = openSocket(`ws://[::1]:${port}/socket/websocket`);
    socket.connect();
    await nextSocketEvent(socket, 'open');
    expect(socket.localAddress).toBe('::1');
    expect(seen).toEqual([socket.localAddress]);
  });

  it('gives up an attempt after `connectTimeoutMs` with `PHX_CONNECT_TIMEOUT`', async () => {
    const silent: Server = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const sockets = new Set<import('node:net').Socket>();
    silent.on('connection', (s) => sockets.add(s));
    track({
      stop: () =>
        new Promise<void>((resolve) => {
          for (const s of sockets) s.destroy();
          silent.close(() => resolve());
        }),
    });
    const port = (silent.address() as { port: number }).port;
    const { socket } = openSocket(`ws://127.0.0.1:${port}/socket/websocket`, {
      connectTimeoutMs: 150,
      reconnectAfterMs: () => 60_000,
    });
    socket.connect();
    const error = (await nextSocketEvent(socket, 'error')) as PhoenixChannelError;
    expect(error.code).toBe('PHX_CONNECT_TIMEOUT');
    expect(socket.state).toBe('waiting');
  });
});

describe('upgrade refused', () => {
  it.each([401, 403, 503])(
    'surfaces HTTP %i as `PHX_UPGRADE_REJECTED` with status and headers',
    async (status) => {
      const srv = await server();
      srv.refuse = {
        status,
        headers: { 'x-refusal-reason': 'Device not found', 'retry-after': '7' },
      };
      const { socket } = openSocket(srv.url, { reconnectAfterMs: () => 60_000 });
      const closes: SocketCloseEvent[] = [];
      socket.on('close', (event) => closes.push(event));
      socket.connect();
      const error = (await nextSocketEvent(socket, 'error')) as UpgradeRejectedError;
      expect(error.code).toBe('PHX_UPGRADE_REJECTED');
      expect(error.statusCode).toBe(status);
      expect(error.headers['x-refusal-reason']).toBe('Device not found');
      expect(error.message).toBe(`WebSocket upgrade rejected with HTTP ${status}`);
      expect(error.headers['retry-after']).toBe('7');
      expect(Number.isNaN(Date.parse(error.headers.date!))).toBe(false);
      expect(socket.state).toBe('waiting');
      expect(closes).toEqual([]);
    },
  );

  it('keeps retrying with backoff and connects once the server accepts', async () => {
    const srv = await server();
    srv.refuse = { status: 401 };
    const { socket, errors } = openSocket(srv.url, { reconnectAfterMs: () => 30 });
    socket.connect();
    await until(() => errors.length >= 2);
    srv.refuse = null;
    await nextSocketEvent(socket, 'open');
    expect(errors.every((e) => e.code === 'PHX_UPGRADE_REJECTED')).toBe(true);
  });
});

describe('heartbeat', () => {
  it('keeps a connection whose heartbeats are answered', async () => {
    const srv = await server();
    const { socket, errors } = openSocket(srv.url, { heartbeatIntervalMs: 50 });
    socket.connect();
    await nextSocketEvent(socket, 'open');
    await srv.waitFor(() => srv.frames.filter((f) => f[3] === 'heartbeat').length >= 5);
    expect(srv.connections).toHaveLength(1);
    expect(errors).toEqual([]);
    const beat = srv.frames.find((f) => f[3] === 'heartbeat')!;
    expect(beat[0]).toBeNull();
    expect(beat[2]).toBe('phoenix');
    expect(beat[4]).toEqual({});
  });

  it('closes a connection whose peer stops answering with `PHX_HEARTBEAT_TIMEOUT` within two intervals, then reconnects', async () => {
    const srv = await server();
    const { socket } = openSocket(srv.url, { heartbeatIntervalMs: 100 });
    socket.connect();
    await nextSocketEvent(socket, 'open');
    srv.heartbeatReplies = false;
    const started = Date.now();
    const lastBeat = srv.frames.filter((f) => f[3] === 'heartbeat').length;
    const error = (await nextSocketEvent(socket, 'error')) as PhoenixChannelError;
    expect(error.code).toBe('PHX_HEARTBEAT_TIMEOUT');
    // The unanswered heartbeat went out at most one interval after we stopped answering; detection one later.
    expect(Date.now() - started).toBeLessThan(100 * 2 + 1000);
    expect(srv.frames.filter((f) => f[3] === 'heartbeat').length).toBe(lastBeat + 1);
    const close = (await nextSocketEvent(socket, 'close')) as SocketCloseEvent;
    expect(close.code).toBe(1006);
    expect(close.reconnectInMs).toBe(50);
    srv.heartbeatReplies = true;
    await nextSocketEvent(socket, 'open');
    expect(srv.connections).toHaveLength(2);
  });

  it('honors a shorter `heartbeatTimeoutMs`', async () => {
    const srv = await server();
    srv.heartbeatReplies = false;
    const { socket } = openSocket(srv.url, { heartbeatIntervalMs: 300, heartbeatTimeoutMs: 50 });
    socket.connect();
    await nextSocketEvent(socket, 'open');
    const beat = await srv.waitForFrame((f) => f[3] === 'heartbeat');
    const sentAt = Date.now();
    const error = (await nextSocketEvent(socket, 'error')) as PhoenixChannelError;
    expect(error.code).toBe('PHX_HEARTBEAT_TIMEOUT');
    expect(Date.now() - sentAt).toBeLessThan(300);
    expect(beat).toBeDefined();
  });
});

describe('server restarts', () => {
  it('reconnects and rejoins with fresh join params', async () => {
    const srv = await server();
    const { socket } = openSocket(srv.url);
    let joins = 0;
    const channel = socket.channel('room:1', () => ({ n: ++joins }));
    socket.connect();
    await joined(channel);
    const closed = nextSocketEvent(socket, 'close');
    const errored = nextChannelEvent(channel, 'errored');
    await srv.restart();
    expect(((await closed) as SocketCloseEvent).reconnectInMs).toBe(50);
    expect(((await errored) as PhoenixChannelError).code).toBe('PHX_SOCKET_CLOSED');
    expect(channel.state).toBe('errored');
    await nextChannelEvent(channel, 'joined');
    expect(channel.state).toBe('joined');
    const joinFrames = srv.frames.filter((f) => f[3] === 'phx_join');
    expect(joinFrames.map((f) => f[4])).toEqual([{ n: 1 }, { n: 2 }]);
    // refs restart with each connection; a join sends ref == join_ref.
    expect(joinFrames.map((f) => [f[0], f[1]])).toEqual([
      ['1', '1'],
      ['1', '1'],
    ]);
  });

  it('keeps reconnecting while the server is down', async () => {
    const srv = await server();
    const { socket, errors } = openSocket(srv.url, { reconnectAfterMs: () => 20 });
    socket.connect();
    await nextSocketEvent(socket, 'open');
    await srv.stop();
    await until(() => errors.filter((e) => e.code === 'PHX_CONNECT_FAILED').length >= 3);
    await srv.start();
    await nextSocketEvent(socket, 'open');
  });
});

describe('Socket#close', () => {
  it('closes with 1000, ends channels, and reconnects no more', async () => {
    const srv = await server();
    const held = heldTimers();
    const { socket } = openSocket(srv.url, { timers: held.timers });
    const channel = socket.channel('room:1', {});
    socket.connect();
    await joined(channel);
    const pending = channel.push('slow', {}, { timeoutMs: 5000 }).catch((error: unknown) => error);
    const closedChannel = nextChannelEvent(channel, 'closed');
    const closeEvent = nextSocketEvent(socket, 'close');
    await socket.close();
    expect(await pending).toMatchObject({ code: 'PHX_SOCKET_CLOSED' });
    expect(((await closedChannel) as PhoenixChannelError).code).toBe('PHX_SOCKET_CLOSED');
    expect(await closeEvent).toEqual({ code: 1000, reason: '' });
    expect(channel.state).toBe('closed');
    expect(socket.state).toBe('idle');
    // No reconnect waits, and no rejoin.
    expect(held.pending).toEqual([]);
    expect(srv.upgrades).toHaveLength(1);
  });

  it('leaves no timer or socket of its own behind', async () => {
    const srv = await server();
    const count = () => {
      const info = process.getActiveResourcesInfo();
      return {
        timers: info.filter((r) => r === 'Timeout').length,
        tcp: info.filter((r) => r === 'TCPSocketWrap').length,
      };
    };
    const before = count();
    const socket = new Socket(srv.url, { heartbeatIntervalMs: 50, reconnectAfterMs: () => 30 });
    socket.on('error', () => {});
    const channel = socket.channel('room:1', {}, { rejoinAfterMs: () => 30 });
    socket.connect();
    await channel.join();
    channel.push('never-answered', {}, { timeoutMs: 60_000 }).catch(() => {});
    srv.onJoin = () => ({ status: 'error' });
    srv.current!.ws.terminate();
    await nextSocketEvent(socket, 'open');
    await nextChannelEvent(channel, 'join_error');
    await socket.close();
    await until(() => count().tcp <= before.tcp);
    expect(count().timers).toBeLessThanOrEqual(before.timers);
  });

  it('stops a pending reconnect and can connect again afterwards', async () => {
    const srv = await server();
    srv.refuse = { status: 503 };
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    const { socket } = openSocket(srv.url, { reconnectAfterMs: () => 100_000 });
    socket.connect();
    await nextSocketEvent(socket, 'reconnecting');
    expect(timers()).toBe(before + 1);
    await socket.close();
    expect(timers()).toBe(before);
    expect(socket.state).toBe('idle');
    srv.refuse = null;
    socket.connect();
    await nextSocketEvent(socket, 'open');
  });

  it('aborts an attempt still computing its headers', async () => {
    const srv = await server();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { socket } = openSocket(srv.url, {
      headers: async () => {
        await gate;
        return {};
      },
    });
    socket.connect();
    await socket.close();
    release();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(srv.upgrades).toHaveLength(0);
    expect(socket.state).toBe('idle');
  });
});

describe('errors never crash the process', () => {
  it('logs reported errors to `logger.warn` when nobody listens to `error`', async () => {
    const srv = await server();
    srv.refuse = { status: 401 };
    const warnings: Array<{ message: string; fields?: Record<string, unknown> }> = [];
    const socket = track(
      new Socket(srv.url, {
        reconnectAfterMs: () => 60_000,
        logger: { warn: (message, fields) => warnings.push({ message, fields }) },
      }),
    );
    socket.connect();
    await nextSocketEvent(socket, 'reconnecting');
    expect(warnings.map((w) => w.fields?.code)).toContain('PHX_UPGRADE_REJECTED');
  });

  it('survives listeners and loggers that throw', async () => {
    const srv = await server();
    const warned: string[] = [];
    const socket = track(
      new Socket(srv.url, {
        logger: {
          warn: (message) => {
            warned.push(message);
            throw new Error('logger broke');
          },
        },
      }),
    );
    let opened = 0;
    socket.on('open', () => {
      opened++;
      throw new Error('listener broke');
    });
    const channel = socket.channel('room:1', {});
    socket.connect();
    await channel.join();
    srv.current!.sendRaw('garbage');
    srv.push('room:1', 'after', { ok: true });
    expect(await nextChannelEvent(channel, 'after')).toEqual({ ok: true });
    // Both were called and threw; the socket and the channel carry on, on the same connection.
    expect(opened).toBe(1);
    expect(warned.length).toBeGreaterThan(0);
    expect(socket.isConnected()).toBe(true);
    expect(channel.state).toBe('joined');
    expect(srv.upgrades).toHaveLength(1);
  });
});
