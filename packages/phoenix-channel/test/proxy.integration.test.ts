// `proxy`: the socket through a real CONNECT proxy on 127.0.0.1 to real Phoenix servers, mutual TLS end to end,
// and each way a proxy can fail (credentials missing or wrong, nothing listening, no answer, another status).
import { createServer, type Server } from 'node:net';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type PhoenixChannelError, ProxyError, Socket, type SocketOptions } from '../src/index.js';
import { makeTestPki, type TestPki } from './support/certs.js';
import { type ConnectProxy, type ConnectProxyOptions, startConnectProxy } from './support/connect-proxy.js';
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

const proxyServer = async (options: ConnectProxyOptions = {}): Promise<ConnectProxy> =>
  track(await startConnectProxy(options));

const tls = () => ({ ca: pki.caCert, cert: pki.clientCert, key: pki.clientKey });

async function joined(url: string, options: SocketOptions): Promise<Socket> {
  const { socket } = openSocket(url, options);
  const channel = socket.channel('device', {});
  socket.connect();
  await channel.join({ signal: AbortSignal.timeout(10_000) });
  return socket;
}

/** The first error of a socket that is not expected to connect, and the ProxyError behind it. */
async function failure(
  url: string,
  options: SocketOptions,
): Promise<{ error: PhoenixChannelError; proxy: ProxyError }> {
  const { socket } = openSocket(url, { reconnectAfterMs: () => 60_000, ...options });
  socket.connect();
  const error = (await nextSocketEvent(socket, 'error')) as PhoenixChannelError;
  expect(error.code).toBe('PHX_CONNECT_FAILED');
  expect(error.cause).toBeInstanceOf(ProxyError);
  return { error, proxy: error.cause as ProxyError };
}

/** A port on 127.0.0.1 where nothing listens. */
async function closedPort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('through a CONNECT proxy', () => {
  it('joins over mutual TLS inside the tunnel; the upgrade headers reach the server, not the proxy', async () => {
    const srv = await mtlsServer();
    const proxy = await proxyServer();
    const socket = await joined(srv.url, {
      tls: tls(),
      proxy: proxy.url,
      headers: () => ({ 'x-nh-signature': 'signed-token' }),
    });
    expect(proxy.requests.map((r) => r.target)).toEqual([`127.0.0.1:${srv.port}`]);
    expect(proxy.requests[0]!.headers.host).toBe(`127.0.0.1:${srv.port}`);
    expect(proxy.requests[0]!.headers['x-nh-signature']).toBeUndefined();
    expect(srv.upgrades[0]!.headers['x-nh-signature']).toBe('signed-token');
    expect(srv.upgrades[0]!.url.searchParams.get('vsn')).toBe('2.0.0');
    // The local address is the one of the connection toward the proxy.
    expect(socket.localAddress).toBe('127.0.0.1');
  });

  it('carries a plain ws: connection through the tunnel too', async () => {
    const srv = track(await startPhoenixServer());
    const proxy = await proxyServer();
    await joined(srv.url, { proxy: proxy.url });
    expect(proxy.requests.map((r) => r.target)).toEqual([`127.0.0.1:${srv.port}`]);
  });

  it('sends the credentials of the proxy URL, percent-decoded, as Basic', async () => {
    const srv = await mtlsServer();
    const proxy = await proxyServer({ credentials: 'alice:p@ss:wörd' });
    await joined(srv.url, { tls: tls(), proxy: proxy.urlWith('alice', 'p@ss:wörd') });
    expect(proxy.requests.map((r) => r.credentials)).toEqual(['alice:p@ss:wörd']);
  });

  it('asks a function for the proxy of each target: undefined goes direct', async () => {
    const direct = await mtlsServer();
    const proxied = await mtlsServer();
    const proxy = await proxyServer();
    const choose = (target: URL) =>
      target.port === String(proxied.port) ? { url: proxy.url, source: 'test setting' } : undefined;
    await joined(direct.url, { tls: tls(), proxy: choose });
    expect(proxy.requests).toEqual([]);
    await joined(proxied.url, { tls: tls(), proxy: choose });
    expect(proxy.requests.map((r) => r.target)).toEqual([`127.0.0.1:${proxied.port}`]);
  });

  it('tunnels a redirect hop through a CONNECT of its own', async () => {
    const srv = await mtlsServer();
    srv.redirects.set('/socket/websocket', { status: 302, location: '/device-socket/websocket' });
    const proxy = await proxyServer();
    await joined(srv.url, { tls: tls(), proxy: proxy.url, maxRedirects: 1 });
    expect(proxy.requests.map((r) => r.target)).toEqual([`127.0.0.1:${srv.port}`, `127.0.0.1:${srv.port}`]);
    expect(srv.upgrades.map((u) => u.url.pathname)).toEqual([
      '/socket/websocket',
      '/device-socket/websocket',
    ]);
  });

  it('hands checkServerIdentity the chain of the server at the end of the tunnel', async () => {
    const srv = await mtlsServer();
    const proxy = await proxyServer();
    const seen: string[] = [];
    const check = (host: string, certificate: PeerCertificate) => {
      seen.push(
        `${host} ${certificate.subject?.CN} ${(certificate as { issuerCertificate?: PeerCertificate }).issuerCertificate?.subject?.CN}`,
      );
      return checkServerIdentity(host, certificate);
    };
    await joined(srv.url, { tls: { ...tls(), checkServerIdentity: check }, proxy: proxy.url });
    expect(seen).toEqual(['127.0.0.1 server ca']);
    const refuse = () => new Error('pinned key not presented');
    const { error } = await (async () => {
      const { socket } = openSocket(srv.url, {
        tls: { ...tls(), checkServerIdentity: refuse },
        proxy: proxy.url,
        reconnectAfterMs: () => 60_000,
      });
      socket.connect();
      return { error: (await nextSocketEvent(socket, 'error')) as PhoenixChannelError };
    })();
    expect(error.code).toBe('PHX_CONNECT_FAILED');
    expect((error.cause as Error).message).toBe('pinned key not presented');
    expect(srv.upgrades).toHaveLength(1);
  });
});

describe('proxy failures', () => {
  it('407 without credentials: says so, and how to give them', async () => {
    const srv = await mtlsServer();
    const proxy = await proxyServer({ credentials: 'alice:secret' });
    const { error, proxy: cause } = await failure(srv.url, {
      tls: tls(),
      proxy: { url: proxy.url, source: 'network.proxy' },
    });
    expect(cause.failure).toBe('auth');
    expect(cause.proxyStatusCode).toBe(407);
    expect(cause.sentCredentials).toBe(false);
    expect(cause.message).toBe(
      `proxy ${proxy.url} (network.proxy): requires credentials (HTTP 407 Proxy Authentication Required): put them in the proxy URL, http://user:password@host:port`,
    );
    expect(error.message).toContain(cause.message);
    expect(srv.upgrades).toEqual([]);
  });

  it('407 with wrong credentials: never shows them', async () => {
    const srv = await mtlsServer();
    const proxy = await proxyServer({ credentials: 'alice:secret' });
    const { error, proxy: cause } = await failure(srv.url, {
      tls: tls(),
      proxy: proxy.urlWith('alice', 'wrong-password'),
    });
    expect(cause.failure).toBe('auth');
    expect(cause.sentCredentials).toBe(true);
    expect(cause.message).toContain('refused the credentials in its URL (HTTP 407');
    expect(`${error.message} ${cause.message} ${cause.proxy}`).not.toMatch(/wrong-password|alice/);
    expect(proxy.requests.map((r) => r.credentials)).toEqual(['alice:wrong-password']);
  });

  it('nothing listening at the proxy address: refused', async () => {
    const srv = await mtlsServer();
    const port = await closedPort();
    const { proxy: cause } = await failure(srv.url, { tls: tls(), proxy: `http://127.0.0.1:${port}` });
    expect(cause.failure).toBe('refused');
    expect(cause.message).toBe(`proxy http://127.0.0.1:${port}: connection refused: nothing listens there`);
  });

  it('a proxy that never answers: timeout within connectTimeoutMs', async () => {
    const srv = await mtlsServer();
    const proxy = await proxyServer({ silent: true });
    const started = Date.now();
    const { proxy: cause } = await failure(srv.url, { tls: tls(), proxy: proxy.url, connectTimeoutMs: 300 });
    expect(cause.failure).toBe('timeout');
    expect(cause.message).toContain(`no answer to CONNECT 127.0.0.1:${srv.port} within 300 ms`);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('another answer to CONNECT: status, with the code', async () => {
    const srv = await mtlsServer();
    const proxy = await proxyServer({ answer: { status: 403, message: 'Forbidden' } });
    const { proxy: cause } = await failure(srv.url, { tls: tls(), proxy: proxy.url });
    expect(cause.failure).toBe('status');
    expect(cause.proxyStatusCode).toBe(403);
    expect(cause.message).toBe(
      `proxy ${proxy.url}: answered CONNECT 127.0.0.1:${srv.port} with HTTP 403 Forbidden`,
    );
  });

  it('refuses a proxy URL it cannot use, without echoing credentials', () => {
    expect(
      () => new Socket('wss://127.0.0.1:1/socket/websocket', { proxy: 'socks5://u:pw@127.0.0.1:1080' }),
    ).toThrow(/only http:\/\/ proxies/);
    expect(
      () => new Socket('wss://127.0.0.1:1/socket/websocket', { proxy: 'http://u:pw@proxy:3128/path' }),
    ).toThrow(/without a path/);
    try {
      new Socket('wss://127.0.0.1:1/socket/websocket', { proxy: 'http://u:pw@proxy:3128/path' });
    } catch (error) {
      expect((error as Error).message).not.toContain('pw');
    }
    expect(() => new Socket('wss://127.0.0.1:1/socket/websocket', { proxy: 42 as never })).toThrow(
      /PHX_INVALID_ARGUMENT|proxy: expected/,
    );
  });
});
