// `maxRedirects`: the upgrade follows redirects over real TLS servers on 127.0.0.1 that require a client
// certificate, so every hop proves that the TLS options and the attempt's headers went with it.
import type { AddressInfo, Socket as NetSocket } from 'node:net';
import { createSecureContext, createServer as createTlsServer } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type PhoenixChannelError,
  RedirectRefusedError,
  type SocketOptions,
  UpgradeRejectedError,
} from '../src/index.js';
import { makeTestPki, type TestPki } from './support/certs.js';
import { closeAll, nextSocketEvent, openSocket, track } from './support/helpers.js';
import { type PhoenixServer, startPhoenixServer } from './support/phoenix-server.js';

let pki: TestPki;

beforeAll(async () => {
  pki = await makeTestPki();
});
afterAll(async () => {
  await pki?.remove();
});
afterEach(closeAll);

async function mtlsServer(): Promise<PhoenixServer> {
  return track(
    await startPhoenixServer({ tls: { cert: pki.serverCert, key: pki.serverKey, clientCa: pki.caCert } }),
  );
}

function tls() {
  return { ca: pki.caCert, cert: pki.clientCert, key: pki.clientKey };
}

/** The URL of `path` on `srv`, as a client would be given it. */
function urlOn(srv: PhoenixServer, path: string): string {
  return new URL(path, srv.url).href;
}

/** A TLS host that asks for a client certificate and counts every connection that reaches it. */
async function recordingTlsHost(): Promise<{ port: number; connections: number }> {
  const host = { port: 0, connections: 0 };
  const held = new Set<NetSocket>();
  const server = createTlsServer(
    { cert: pki.serverCert, key: pki.serverKey, requestCert: true },
    (socket) => {
      host.connections += 1;
      held.add(socket);
      socket.on('error', () => {});
    },
  );
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  host.port = (server.address() as AddressInfo).port;
  track({
    close: () => {
      for (const socket of held) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
  return host;
}

async function firstError(url: string, options: SocketOptions): Promise<PhoenixChannelError> {
  const { socket } = openSocket(url, { reconnectAfterMs: () => 60_000, ...options });
  socket.connect();
  return (await nextSocketEvent(socket, 'error')) as PhoenixChannelError;
}

describe('maxRedirects', () => {
  it('follows a 301 to the real path with the client certificate and the attempt headers', async () => {
    const srv = await mtlsServer();
    srv.redirects.set('/old/websocket', { status: 301, location: '/socket/websocket' });
    const { socket, errors } = openSocket(urlOn(srv, '/old/websocket'), {
      tls: tls(),
      maxRedirects: 2,
      headers: () => ({ 'x-nh-key': 'key-1', 'x-nh-signature': 'signed' }),
    });
    const channel = socket.channel('device', {});
    socket.connect();
    await channel.join();
    expect(srv.upgrades.map((u) => u.url.pathname)).toEqual(['/old/websocket', '/socket/websocket']);
    for (const upgrade of srv.upgrades) {
      expect(upgrade.headers['x-nh-key']).toBe('key-1');
      expect(upgrade.headers['x-nh-signature']).toBe('signed');
      expect(upgrade.rawHeaderNames.map((n) => n.toLowerCase())).not.toContain('origin');
    }
    expect(srv.upgrades[1]!.url.searchParams.get('vsn')).toBe('2.0.0');
    expect(socket.localAddress).toBe('127.0.0.1');
    expect(errors).toEqual([]);
  });

  it('carries a prepared `secureContext` through an absolute https: Location on the same origin', async () => {
    const srv = await mtlsServer();
    srv.redirects.set('/socket/websocket', {
      status: 308,
      location: `https://127.0.0.1:${srv.port}/device-socket/websocket`,
    });
    const secureContext = createSecureContext(tls());
    const { socket } = openSocket(srv.url, {
      tls: { secureContext },
      maxRedirects: 1,
      headers: { 'x-nh-key': 'key-2' },
    });
    socket.connect();
    await nextSocketEvent(socket, 'open');
    expect(srv.upgrades.map((u) => u.url.pathname)).toEqual([
      '/socket/websocket',
      '/device-socket/websocket',
    ]);
    expect(srv.upgrades[1]!.headers['x-nh-key']).toBe('key-2');
    expect(srv.upgrades[1]!.url.searchParams.get('vsn')).toBe('2.0.0');
  });

  it.each([
    ['another port', (other: number) => `https://127.0.0.1:${other}/socket/websocket`],
    ['another host', (other: number) => `https://localhost:${other}/socket/websocket`],
  ])(
    'refuses a redirect to %s: neither the headers nor the client certificate go there',
    async (_, location) => {
      const target = await recordingTlsHost();
      const front = await mtlsServer();
      front.redirects.set('/socket/websocket', { status: 301, location: location(target.port) });
      const error = await firstError(front.url, {
        tls: tls(),
        maxRedirects: 2,
        headers: { 'x-nh-key': 'key-3', 'x-nh-signature': 'signed' },
      });
      expect(error).toBeInstanceOf(RedirectRefusedError);
      expect(error).toMatchObject({ code: 'PHX_UPGRADE_REJECTED', reason: 'cross-origin', statusCode: 301 });
      expect((error as RedirectRefusedError).location).toBe(
        new URL(location(target.port).replace('https:', 'wss:')).href,
      );
      expect(error.message).toContain('the credentials are not sent there');
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(target.connections).toBe(0);
    },
  );

  it('refuses a redirect from wss: to https: on another port even without credentials', async () => {
    const other = await mtlsServer();
    const front = await mtlsServer();
    front.redirects.set('/socket/websocket', { status: 302, location: other.url });
    const error = await firstError(front.url, { tls: tls(), maxRedirects: 2 });
    expect(error).toMatchObject({ reason: 'cross-origin' });
    expect(other.upgrades).toEqual([]);
  });

  it.each([302, 303, 307])('follows a %i', async (status) => {
    const srv = await mtlsServer();
    srv.redirects.set('/old/websocket', { status, location: '/socket/websocket' });
    const { socket } = openSocket(urlOn(srv, '/old/websocket'), { tls: tls(), maxRedirects: 1 });
    socket.connect();
    await nextSocketEvent(socket, 'open');
    expect(srv.upgrades.map((u) => u.url.pathname)).toEqual(['/old/websocket', '/socket/websocket']);
  });

  it('evaluates `headers` once per attempt and starts every attempt at the endpoint', async () => {
    const srv = await mtlsServer();
    srv.redirects.set('/old/websocket', { status: 301, location: '/socket/websocket' });
    let calls = 0;
    const { socket } = openSocket(urlOn(srv, '/old/websocket'), {
      tls: tls(),
      maxRedirects: 1,
      headers: () => ({ 'x-nh-time': String(++calls) }),
    });
    socket.connect();
    await nextSocketEvent(socket, 'open');
    srv.current!.ws.terminate();
    await nextSocketEvent(socket, 'open');
    expect(srv.upgrades.map((u) => [u.url.pathname, u.headers['x-nh-time']])).toEqual([
      ['/old/websocket', '1'],
      ['/socket/websocket', '1'],
      ['/old/websocket', '2'],
      ['/socket/websocket', '2'],
    ]);
  });

  it('refuses a redirect from wss: to ws: without connecting to it', async () => {
    const plain = track(await startPhoenixServer());
    const srv = await mtlsServer();
    srv.redirects.set('/socket/websocket', { status: 301, location: plain.url });
    const error = await firstError(srv.url, { tls: tls(), maxRedirects: 2 });
    expect(error).toBeInstanceOf(RedirectRefusedError);
    expect(error).toMatchObject({ code: 'PHX_UPGRADE_REJECTED', reason: 'insecure', statusCode: 301 });
    expect((error as RedirectRefusedError).location).toBe(`ws://127.0.0.1:${plain.port}/socket/websocket`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(plain.upgrades).toEqual([]);
  });

  it('ends a redirect loop with reason `loop`', async () => {
    const srv = await mtlsServer();
    srv.redirects.set('/a', { status: 302, location: '/b' });
    srv.redirects.set('/b', { status: 302, location: '/a' });
    const error = await firstError(urlOn(srv, '/a'), { tls: tls(), maxRedirects: 5 });
    expect(error).toMatchObject({ code: 'PHX_UPGRADE_REJECTED', reason: 'loop', statusCode: 302 });
    expect(srv.upgrades.map((u) => u.url.pathname)).toEqual(['/a', '/b']);
  });

  it('ends after `maxRedirects` with reason `too-many`, and keeps retrying with backoff', async () => {
    const srv = await mtlsServer();
    srv.redirects.set('/a', { status: 301, location: '/b' });
    srv.redirects.set('/b', { status: 301, location: '/c' });
    srv.redirects.set('/c', { status: 301, location: '/socket/websocket' });
    const { socket, errors } = openSocket(urlOn(srv, '/a'), { tls: tls(), maxRedirects: 2 });
    const reconnecting = nextSocketEvent(socket, 'reconnecting');
    socket.connect();
    await reconnecting;
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'PHX_UPGRADE_REJECTED', reason: 'too-many' });
    expect(errors[0]!.message).toContain('more than 2');
    expect(srv.upgrades.map((u) => u.url.pathname)).toEqual(['/a', '/b', '/c']);
    srv.redirects.delete('/b');
    await nextSocketEvent(socket, 'open');
    expect(srv.upgrades.map((u) => u.url.pathname).slice(3)).toEqual(['/a', '/b']);
  });

  it('does not follow by default: a 301 is an `UpgradeRejectedError` as before', async () => {
    const srv = await mtlsServer();
    srv.redirects.set('/old/websocket', { status: 301, location: '/socket/websocket' });
    const error = await firstError(urlOn(srv, '/old/websocket'), { tls: tls() });
    expect(error).toBeInstanceOf(UpgradeRejectedError);
    expect(error).not.toBeInstanceOf(RedirectRefusedError);
    expect(error).toMatchObject({ statusCode: 301 });
    expect((error as UpgradeRejectedError).headers.location).toBe('/socket/websocket');
    expect(srv.upgrades).toHaveLength(1);
  });

  it('does not follow a 300 even with a Location', async () => {
    const srv = await mtlsServer();
    srv.redirects.set('/old/websocket', { status: 300, location: '/socket/websocket' });
    const error = await firstError(urlOn(srv, '/old/websocket'), { tls: tls(), maxRedirects: 2 });
    expect(error).not.toBeInstanceOf(RedirectRefusedError);
    expect(error).toMatchObject({ code: 'PHX_UPGRADE_REJECTED', statusCode: 300 });
    expect(srv.upgrades).toHaveLength(1);
  });

  it('ends a hop that never answers at the attempt deadline, `connectTimeoutMs`', async () => {
    const srv = await mtlsServer();
    srv.redirects.set('/socket/websocket', { status: 307, location: '/held/websocket' });
    srv.silentPaths.add('/held/websocket');
    const started = Date.now();
    const error = await firstError(srv.url, { tls: tls(), maxRedirects: 1, connectTimeoutMs: 400 });
    expect(error.code).toBe('PHX_CONNECT_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(srv.upgrades.map((u) => u.url.pathname)).toEqual(['/socket/websocket', '/held/websocket']);
  });
});
