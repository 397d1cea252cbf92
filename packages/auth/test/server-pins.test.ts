// Public-key pins against the test-server over real TLS on 127.0.0.1: the pins the code computes are those
// openssl computes (the curl --pinnedpubkey recipe), right pins join, wrong pins fail with what was presented,
// and pins never let in a server the CAs refuse.
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { connect } from 'node:tls';
import { Socket } from '@nerves-hub-link/phoenix-channel';
import { startTestServer, type TestServer } from '@nerves-hub-link/test-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AuthError,
  createTlsOptions,
  parsePins,
  pinProblem,
  ServerPinCheck,
  ServerPinMismatchError,
  spkiPin,
} from '../src/index.js';

let server: TestServer;
let serverCertFile: string;

beforeAll(async () => {
  server = await startTestServer();
  serverCertFile = join(dirname(server.ca.certFile), 'server.crt');
});
afterAll(() => server?.close());

/** curl's recipe for a --pinnedpubkey value. */
function opensslPin(certFile: string): string {
  const digest = execFileSync('sh', [
    '-c',
    `openssl x509 -in '${certFile}' -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64`,
  ]);
  return `sha256/${digest.toString().trim()}`;
}

const WRONG = `sha256/${Buffer.alloc(32, 7).toString('base64')}`;

/** One TLS handshake with the shared-secret listener; resolves with the error, if any. */
function handshake(
  check: ServerPinCheck,
  ca: string[] = [server.ca.certPem],
  servername?: string,
): Promise<Error | undefined> {
  const { port } = new URL(server.url);
  return new Promise((resolve) => {
    const socket = connect({
      host: '127.0.0.1',
      port: Number(port),
      ca,
      ...(servername ? { servername } : {}),
      checkServerIdentity: check.checkServerIdentity,
    });
    socket.once('secureConnect', () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once('error', (error) => resolve(error));
  });
}

describe('spkiPin', () => {
  it('is what openssl computes, for the server and for its CA', () => {
    expect(spkiPin(new X509Certificate(readFileSync(serverCertFile)))).toBe(opensslPin(serverCertFile));
    expect(spkiPin(new X509Certificate(server.ca.certPem))).toBe(opensslPin(server.ca.certFile));
  });
});

describe('ServerPinCheck against the test-server', () => {
  it('records the chain presented: the server, then the CA that anchored it', async () => {
    const check = new ServerPinCheck({ pins: [] });
    expect(await handshake(check)).toBeUndefined();
    expect(check.lastPresented).toEqual({
      host: '127.0.0.1',
      chain: [
        { pin: opensslPin(serverCertFile), subject: 'localhost' },
        { pin: opensslPin(server.ca.certFile), subject: expect.any(String) },
      ],
    });
  });

  it('accepts a pin of the server certificate, or of its CA, among others', async () => {
    expect(
      await handshake(new ServerPinCheck({ pins: [WRONG, opensslPin(serverCertFile)] })),
    ).toBeUndefined();
    expect(await handshake(new ServerPinCheck({ pins: [opensslPin(server.ca.certFile)] }))).toBeUndefined();
  });

  it('refuses a chain that matches no pin, listing what it presented', async () => {
    const error = await handshake(new ServerPinCheck({ pins: [WRONG], setting: 'auth.server_pins' }));
    expect(error).toBeInstanceOf(ServerPinMismatchError);
    expect((error as AuthError).code).toBe('AUTH_SERVER_PIN_MISMATCH');
    expect(error?.message).toBe(
      `certificate pin mismatch: the chain of 127.0.0.1 matches none of the 1 pin(s) in auth.server_pins; it presented ${opensslPin(serverCertFile)} (localhost), ${opensslPin(server.ca.certFile)} (${(error as ServerPinMismatchError).presented[1]!.subject})`,
    );
  });

  it('never replaces CA verification: a pinned server the CAs do not trust is refused', async () => {
    const check = new ServerPinCheck({ pins: [opensslPin(serverCertFile)] });
    const error = await handshake(check, [
      readFileSync(join(dirname(server.ca.certFile), 'other-ca.crt'), 'utf8'),
    ]);
    expect((error as NodeJS.ErrnoException).code).toMatch(
      /UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER/,
    );
    expect(check.lastPresented).toBeUndefined();
  });

  it('keeps the host-name check: a right pin does not excuse a certificate for another name', async () => {
    const check = new ServerPinCheck({ pins: [opensslPin(serverCertFile)] });
    const error = await handshake(check, [server.ca.certPem], 'elsewhere.example');
    expect((error as NodeJS.ErrnoException).code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    expect(check.lastPresented?.host).toBe('elsewhere.example');
  });
});

describe('pins on the device socket (phoenix-channel tls.checkServerIdentity)', () => {
  async function attempt(pins: string[]): Promise<Error | undefined> {
    const device = await server.issueDeviceCertificate(`pinned-${pins.length}-${Date.now()}`);
    const tls = await createTlsOptions({ ...device, caFile: server.ca.certFile });
    const check = new ServerPinCheck({ pins, setting: 'auth.server_pins' });
    const socket = new Socket(server.mtlsUrl, {
      tls: { secureContext: tls.secureContext, checkServerIdentity: check.checkServerIdentity },
      reconnectAfterMs: () => 60_000,
    });
    const channel = socket.channel('device', { nerves_fw_uuid: 'u', device_api_version: '2.0.0' });
    const failed = new Promise<Error>((resolve) => socket.on('error', resolve));
    socket.connect();
    try {
      return await Promise.race([
        channel.join({ signal: AbortSignal.timeout(10_000) }).then(() => undefined),
        failed,
      ]);
    } finally {
      await socket.close();
    }
  }

  it('joins with the right pin', async () => {
    expect(await attempt([opensslPin(server.ca.certFile)])).toBeUndefined();
  });

  it('fails the connection with the pins it saw, before any upgrade', async () => {
    const error = await attempt([WRONG]);
    expect((error as { code?: string }).code).toBe('PHX_CONNECT_FAILED');
    expect(error?.cause).toBeInstanceOf(ServerPinMismatchError);
    expect(error?.message).toContain(opensslPin(serverCertFile));
  });
});

describe('pin syntax', () => {
  it('accepts sha256/ and 44 base64 characters only', () => {
    expect(pinProblem(opensslPin(serverCertFile))).toBeUndefined();
    expect(pinProblem('sha1/AAAA')).toMatch(/expected "sha256\/"/);
    expect(pinProblem('sha256/abc')).toMatch(/44 base64 characters/);
    expect(pinProblem(42)).toMatch(/expected a string/);
  });

  it('names the bad entry', () => {
    expect(() => parsePins([WRONG, 'sha256/short'], 'download.pins')).toThrow(/^download\.pins\[1\]: /);
    expect(parsePins([WRONG], 'x')).toEqual([WRONG]);
  });
});
