// auth + phoenix-channel against the fake NervesHub, over real TLS on 127.0.0.1: the connections a device makes.
import { Socket, type SocketOptions } from '@nerves-hub-link/phoenix-channel';
import { startTestServer, type TestServer } from '@nerves-hub-link/test-server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTlsOptions, ServerClock, signSharedSecretHeaders } from '../src/index.js';

let server: TestServer;
const sockets: Socket[] = [];

beforeAll(async () => {
  server = await startTestServer();
  server.addProductKey('nhp_product', 'product-secret');
  server.addDeviceKey('nhd_device', 'device-secret', 'dev-keyed');
});
afterAll(() => server?.close());
afterEach(async () => {
  await Promise.all(sockets.splice(0).map((socket) => socket.close()));
});

const fast = { heartbeatIntervalMs: 200, reconnectAfterMs: () => 50 } as const;
const params = () => ({ nerves_fw_uuid: 'u', device_api_version: '2.0.0' });

function connect(url: string, options: SocketOptions): { socket: Socket; errors: Error[] } {
  const socket = new Socket(url, { ...fast, ...options });
  const errors: Error[] = [];
  socket.on('error', (error) => errors.push(error));
  sockets.push(socket);
  return { socket, errors };
}

async function joined(socket: Socket): Promise<void> {
  const channel = socket.channel('device', params);
  socket.connect();
  await channel.join({ signal: AbortSignal.timeout(10_000) });
}

async function firstError(
  errors: Error[],
  socket: Socket,
): Promise<Error & { code?: string; statusCode?: number }> {
  socket.connect();
  for (let i = 0; i < 200 && errors.length === 0; i++)
    await new Promise((resolve) => setTimeout(resolve, 25));
  await socket.close();
  return errors[0] as Error & { code?: string; statusCode?: number };
}

describe('mTLS', () => {
  it('joins with a device certificate and a key file', async () => {
    const device = await server.issueDeviceCertificate('dev-mtls');
    const tls = await createTlsOptions({ ...device, caFile: server.ca.certFile });
    const { socket } = connect(server.mtlsUrl, { tls: { secureContext: tls.secureContext } });
    await joined(socket);
    expect(server.device('dev-mtls').joins).toHaveLength(1);
  });

  it('is refused with a certificate from another CA', async () => {
    const stranger = await server.issueDeviceCertificate('dev-stranger', { ca: 'other' });
    const tls = await createTlsOptions({ ...stranger, caFile: server.ca.certFile });
    const { socket, errors } = connect(server.mtlsUrl, { tls: { secureContext: tls.secureContext } });
    expect((await firstError(errors, socket)).code).toBe('PHX_CONNECT_FAILED');
    expect(server.device('dev-stranger').connections).toBe(0);
  });

  it('is refused with an expired certificate', async () => {
    const old = await server.issueDeviceCertificate('dev-expired', {
      notBefore: new Date(Date.now() - 10 * 86_400_000),
      notAfter: new Date(Date.now() - 86_400_000),
    });
    const tls = await createTlsOptions({ ...old, caFile: server.ca.certFile });
    expect(tls.warnings.join()).toContain('expired');
    const { socket, errors } = connect(server.mtlsUrl, { tls: { secureContext: tls.secureContext } });
    expect((await firstError(errors, socket)).code).toBe('PHX_CONNECT_FAILED');
  });

  it('does not trust the server without its CA', async () => {
    const device = await server.issueDeviceCertificate('dev-notrust');
    const tls = await createTlsOptions(device);
    const { socket, errors } = connect(server.mtlsUrl, { tls: { secureContext: tls.secureContext } });
    expect((await firstError(errors, socket)).code).toBe('PHX_CONNECT_FAILED');
  });
});

describe('shared secret', () => {
  async function sharedSecretSocket(
    key: string,
    secret: string,
    identifier: string,
    clock = new ServerClock(),
  ) {
    const tls = await createTlsOptions({ caFile: server.ca.certFile });
    const signed: string[] = [];
    const result = connect(server.sharedSecretUrl, {
      tls: { secureContext: tls.secureContext },
      headers: () => {
        const headers = signSharedSecretHeaders({ key, secret, identifier, nowMs: clock.nowMs() });
        signed.push(headers['x-nh-signature']);
        return { ...headers };
      },
    });
    result.socket.on('error', (error) => clock.observeError(error));
    return { ...result, signed, clock };
  }

  it('joins with a product key (the identifier comes from the token)', async () => {
    const { socket } = await sharedSecretSocket('nhp_product', 'product-secret', 'dev-product');
    await joined(socket);
    expect(server.device('dev-product').joins).toHaveLength(1);
  });

  it('joins with a device key', async () => {
    const { socket } = await sharedSecretSocket('nhd_device', 'device-secret', 'dev-keyed');
    await joined(socket);
    expect(server.device('dev-keyed').joins).toHaveLength(1);
  });

  it('gets a 401 with a Date header for a wrong secret', async () => {
    const { socket, errors } = await sharedSecretSocket('nhp_product', 'wrong', 'dev-wrong');
    const error = await firstError(errors, socket);
    expect(error.code).toBe('PHX_UPGRADE_REJECTED');
    expect(error.statusCode).toBe(401);
    expect((error as unknown as { headers: Record<string, string> }).headers.date).toBeTruthy();
  });

  it('gets a 401 with the reason header when no credentials are sent', async () => {
    const tls = await createTlsOptions({ caFile: server.ca.certFile });
    const { socket, errors } = connect(server.sharedSecretUrl, { tls: { secureContext: tls.secureContext } });
    const error = (await firstError(errors, socket)) as unknown as {
      statusCode: number;
      headers: Record<string, string>;
    };
    expect(error.statusCode).toBe(401);
    expect(error.headers['nh-connection-error-reason']).toContain('no certificate pair');
  });

  for (const [label, skewMs] of [
    ['5 minutes behind', -5 * 60_000],
    ['5 minutes ahead', 5 * 60_000],
  ] as const) {
    it(`recovers from a clock ${label} through the Date header of the 401`, async () => {
      const clock = new ServerClock({ now: () => Date.now() + skewMs });
      const { socket, signed } = await sharedSecretSocket(
        'nhp_product',
        'product-secret',
        `dev-skew-${skewMs}`,
        clock,
      );
      await joined(socket);
      expect(signed.length).toBeGreaterThanOrEqual(2);
      expect(Math.abs(clock.offsetMs + skewMs)).toBeLessThan(2_000);
    });
  }

  it('reconnects after a server restart with a freshly signed token', async () => {
    const { socket, signed } = await sharedSecretSocket('nhp_product', 'product-secret', 'dev-restart');
    await joined(socket);
    const before = signed.length;
    await server.restart();
    await server.waitForJoin('dev-restart', { count: 2, timeoutMs: 10_000 });
    // Signed again for the new attempt (a token is only valid for 90 s).
    expect(signed.length).toBeGreaterThan(before);
  });
});
