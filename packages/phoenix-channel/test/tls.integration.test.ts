// `tls` options reach tls.connect through ws: mutual TLS against a real TLS server with openssl-made certificates.
import { createSecureContext } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PhoenixChannelError, SocketTlsOptions } from '../src/index.js';
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

async function firstError(url: string, tls: SocketTlsOptions): Promise<PhoenixChannelError> {
  const { socket } = openSocket(url, { tls, reconnectAfterMs: () => 60_000 });
  socket.connect();
  return (await nextSocketEvent(socket, 'error')) as PhoenixChannelError;
}

describe('tls option', () => {
  it('connects with `ca`, `cert` and `key` to a server that requires a client certificate', async () => {
    const srv = await mtlsServer();
    const { socket } = openSocket(srv.url, {
      tls: { ca: pki.caCert, cert: pki.clientCert, key: pki.clientKey },
    });
    const channel = socket.channel('device', {});
    socket.connect();
    await channel.join();
    expect(srv.upgrades[0]!.url.searchParams.get('vsn')).toBe('2.0.0');
  });

  it('connects with a prepared `secureContext`', async () => {
    const srv = await mtlsServer();
    const secureContext = createSecureContext({ ca: pki.caCert, cert: pki.clientCert, key: pki.clientKey });
    const { socket } = openSocket(srv.url, { tls: { secureContext } });
    socket.connect();
    await nextSocketEvent(socket, 'open');
  });

  it('passes `servername` for SNI and the name check', async () => {
    const srv = await mtlsServer();
    const tls = { ca: pki.caCert, cert: pki.clientCert, key: pki.clientKey };
    const { socket } = openSocket(srv.url, { tls: { ...tls, servername: 'device.test' } });
    socket.connect();
    await nextSocketEvent(socket, 'open');
    const error = await firstError(srv.url, { ...tls, servername: 'elsewhere.test' });
    expect(error.code).toBe('PHX_CONNECT_FAILED');
    expect((error.cause as NodeJS.ErrnoException).code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('passes `minVersion` and `maxVersion`', async () => {
    const srv = await mtlsServer();
    const tls = { ca: pki.caCert, cert: pki.clientCert, key: pki.clientKey };
    const error = await firstError(srv.url, { ...tls, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.1' });
    expect(error.code).toBe('PHX_CONNECT_FAILED');
  });

  it('fails with `PHX_CONNECT_FAILED` without a client certificate', async () => {
    const srv = await mtlsServer();
    const error = await firstError(srv.url, { ca: pki.caCert });
    expect(error.code).toBe('PHX_CONNECT_FAILED');
  });

  it('always verifies the server: an unknown CA fails, even when asked not to verify', async () => {
    const srv = await mtlsServer();
    const tls = { ca: pki.otherCaCert, cert: pki.clientCert, key: pki.clientKey, rejectUnauthorized: false };
    const error = await firstError(srv.url, tls as SocketTlsOptions);
    expect(error.code).toBe('PHX_CONNECT_FAILED');
    expect((error.cause as NodeJS.ErrnoException).code).toMatch(
      /UNABLE_TO_VERIFY|SELF_SIGNED|UNABLE_TO_GET_ISSUER/,
    );
  });
});
