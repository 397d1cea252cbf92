// Real TLS handshakes on 127.0.0.1 that fail, and the explanation each one gets.
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { connect, createServer, type Server, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTlsOptions, describeTlsError } from '../src/index.js';
import { createPki, type Pki } from './support/pki.js';

let pki: Pki;
let server: Server;
let port: number;
let serverCa: { certFile: string; keyFile: string };
let deviceCa: { certFile: string; keyFile: string };

beforeAll(async () => {
  pki = await createPki();
  serverCa = pki.serverCa;
  deviceCa = pki.deviceCa;
  const serverCert = await pki.store.pair('server');
  server = createServer({
    cert: readFileSync(serverCert.certFile),
    key: readFileSync(serverCert.keyFile),
    ca: readFileSync(deviceCa.certFile),
    requestCert: true,
    rejectUnauthorized: true,
    minVersion: 'TLSv1.2',
    maxVersion: 'TLSv1.2',
  });
  server.on('secureConnection', (socket) => socket.end());
  server.on('tlsClientError', () => {});
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});
afterAll(() => {
  server?.close();
  pki?.cleanup();
});

async function attempt(
  options: Parameters<typeof createTlsOptions>[0],
  servername = 'localhost',
): Promise<{ code?: string; message?: string } | undefined> {
  const tls = await createTlsOptions(options);
  const socket: TLSSocket = connect({
    host: '127.0.0.1',
    port,
    servername,
    secureContext: tls.secureContext,
  });
  try {
    await once(socket, 'secureConnect');
    await once(socket, 'end');
    return undefined;
  } catch (error) {
    return describeTlsError(error, `127.0.0.1:${port}`) ?? (error as Error);
  } finally {
    socket.destroy();
  }
}

describe('describeTlsError', () => {
  it('server certificate from an unknown CA', async () => {
    const device = await pki.leaf('dev-u');
    expect((await attempt({ ...device }))?.code).toBe('AUTH_SERVER_UNTRUSTED');
  });

  it('server certificate for another name', async () => {
    const device = await pki.leaf('dev-m');
    const error = await attempt({ caFile: serverCa.certFile, ...device }, 'device.example.com');
    expect(error?.code).toBe('AUTH_SERVER_NAME_MISMATCH');
  });

  it('server TLS version not offered', async () => {
    const error = await attempt({ caFile: serverCa.certFile, tlsVersion: 'TLSv1.3' });
    expect(error?.code).toBe('AUTH_TLS_VERSION_MISMATCH');
  });

  it('a device certificate from a CA the server does not know', async () => {
    const stranger = await pki.leaf('dev-x', { otherCa: true });
    const error = await attempt({ caFile: serverCa.certFile, ...stranger });
    // A TLS 1.2 server built on OpenSSL resets the connection rather than sending an alert.
    expect(error?.code).toBe('AUTH_TLS_HANDSHAKE_FAILED');
    expect(error?.message).toContain('device certificate (auth.cert_file)');
    expect(error?.message).toContain('register the certificate, or the CA that signed it');
  });

  it('succeeds with the right CA and a device certificate the server knows', async () => {
    const device = await pki.leaf('dev-ok');
    expect(await attempt({ caFile: serverCa.certFile, ...device })).toBeUndefined();
  });

  it('returns undefined for errors that are not about TLS', () => {
    expect(
      describeTlsError(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }), 'h'),
    ).toBeUndefined();
  });
});
