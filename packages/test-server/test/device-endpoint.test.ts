// NervesHub's device endpoint over real TLS on 127.0.0.1: one listener, both socket paths, a certificate or NH1
// headers on either, known expired certificates, the 301 for every other path, the health check.
import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CertificatePair, startTestServer, type TestServer } from '../src/index.js';
import { nh1Headers } from './support/nh1-signer.js';
import { type Identity, joinParams, RawDevice } from './support/raw-device.js';

const DOCS = 'https://docs.example.test/device-endpoint';
const DAY = 86_400_000;

let server: TestServer;
const opened: RawDevice[] = [];
beforeAll(async () => {
  server = await startTestServer({ deviceEndpointRedirect: DOCS });
  server.addProductKey('nhp_product', 'product-secret');
});
afterAll(async () => {
  await Promise.all(opened.map((device) => device.close()));
  await server?.close();
});

const socketUrl = (path: string) => `${server.deviceEndpointUrl.replace('https:', 'wss:')}${path}?vsn=2.0.0`;

async function joined(path: string, identity: Identity): Promise<RawDevice> {
  const device = await RawDevice.connect(server, socketUrl(path), identity);
  opened.push(device);
  expect((await device.join(joinParams()))[4]).toEqual({ status: 'ok', response: {} });
  return device;
}

function refusal(
  path: string,
  identity: Identity,
): Promise<{ status?: number; headers?: Record<string, string>; code?: string }> {
  return RawDevice.connect(server, socketUrl(path), identity).then(
    (device) => {
      opened.push(device);
      throw new Error('connected');
    },
    (error) => error,
  );
}

/** A plain HTTPS request to the device endpoint, without a client certificate. */
function get(path: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${server.deviceEndpointUrl}${path}`, { ca: server.ca.certPem }, (res) => {
      let body = '';
      res.on('data', (chunk) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('both socket paths on one listener', () => {
  it('shares its port with nothing else: the firmware host has its own', () => {
    expect(new URL(server.mtlsUrl).port).toBe(new URL(server.sharedSecretUrl).port);
    expect(new URL(server.url).port).not.toBe(new URL(server.mtlsUrl).port);
  });

  for (const path of ['/socket/websocket', '/device-socket/websocket']) {
    it(`${path}: a client certificate identifies the device by its CN`, async () => {
      const identifier = `cert${path.replaceAll('/', '-')}`;
      const certificate = await server.issueDeviceCertificate(identifier);
      await joined(path, { certificate });
      expect(server.device(identifier).joins).toHaveLength(1);
    });

    it(`${path}: NH1 headers without a certificate identify the device`, async () => {
      const identifier = `nh1${path.replaceAll('/', '-')}`;
      await joined(path, { headers: nh1Headers('nhp_product', 'product-secret', identifier) });
      expect(server.device(identifier).joins).toHaveLength(1);
    });
  }

  it('a certificate wins over NH1 headers sent with it (connect/3 matches the certificate first)', async () => {
    const certificate = await server.issueDeviceCertificate('cert-and-headers');
    await joined('/device-socket/websocket', {
      certificate,
      headers: nh1Headers('nhp_product', 'wrong-secret', 'someone-else'),
    });
    expect(server.device('cert-and-headers').joins).toHaveLength(1);
    expect(server.device('someone-else').connections).toBe(0);
  });

  it('no credentials at all: 401 with nh-connection-error-reason, on either path', async () => {
    for (const path of ['/socket/websocket', '/device-socket/websocket']) {
      const error = await refusal(path, {});
      expect(error.status).toBe(401);
      expect(error.headers?.['nh-connection-error-reason']).toBe(
        'no certificate pair or shared secrets connection settings were provided',
      );
    }
  });

  it('a wrong shared secret: 401 without a reason', async () => {
    const error = await refusal('/socket/websocket', {
      headers: nh1Headers('nhp_product', 'nope', 'bad-secret'),
    });
    expect(error.status).toBe(401);
    expect(error.headers?.['nh-connection-error-reason']).toBeUndefined();
  });

  it('without vsn=2.0.0: 403 before authentication', async () => {
    const url = socketUrl('/socket/websocket').replace('?vsn=2.0.0', '');
    const error = await RawDevice.connect(server, url, {}).catch((caught) => caught);
    expect(error.status).toBe(403);
  });
});

describe('client certificates (NervesHub.SSL.decide)', () => {
  let expired: CertificatePair;
  beforeAll(async () => {
    expired = await server.issueDeviceCertificate('expired-device', {
      notBefore: new Date(Date.now() - 10 * DAY),
      notAfter: new Date(Date.now() - DAY),
    });
  });

  it('an expired certificate NervesHub does not know: the handshake is refused, nothing is recorded', async () => {
    const error = await refusal('/socket/websocket', { certificate: expired });
    expect(error.status).toBeUndefined();
    expect(error.code).toBe('ECONNRESET');
    expect(server.device('expired-device').connections).toBe(0);
  });

  it('a certificate from a CA NervesHub does not know: refused in the handshake', async () => {
    const stranger = await server.issueDeviceCertificate('stranger', { ca: 'other' });
    const error = await refusal('/device-socket/websocket', { certificate: stranger });
    expect(error.code).toBe('ECONNRESET');
    expect(server.device('stranger').connections).toBe(0);
  });

  it('the same expired certificate once NervesHub has it on record: accepted', async () => {
    server.registerDeviceCertificate(expired.certPem);
    await joined('/socket/websocket', { certificate: expired });
    expect(server.device('expired-device').joins).toHaveLength(1);
  });

  it('a known certificate is accepted whatever signed it', async () => {
    const outsider = await server.issueDeviceCertificate('known-outsider', {
      ca: 'other',
      notAfter: new Date(Date.now() - DAY),
      notBefore: new Date(Date.now() - 2 * DAY),
    });
    server.registerDeviceCertificate(outsider.certPem);
    await joined('/device-socket/websocket', { certificate: outsider });
    expect(server.device('known-outsider').joins).toHaveLength(1);
  });

  it('registerDeviceCertificate refuses what is not a PEM certificate', () => {
    expect(() => server.registerDeviceCertificate('not a certificate')).toThrow(/PEM certificate/);
  });
});

describe('every other path', () => {
  it('an upgrade on another path gets the 301 to DEVICE_ENDPOINT_REDIRECT, credentials or not', async () => {
    const certificate = await server.issueDeviceCertificate('lost');
    for (const path of ['/websocket', '/socket', '/api/socket/websocket']) {
      const error = await refusal(path, { certificate });
      expect(error.status).toBe(301);
      expect(error.headers?.location).toBe(DOCS);
    }
    expect(server.device('lost').connections).toBe(0);
  });

  it('a plain request on another path gets the same 301 with an empty body', async () => {
    const answer = await get('/');
    expect(answer.status).toBe(301);
    expect(answer.headers.location).toBe(DOCS);
    expect(answer.body).toBe('');
  });

  it('the health check answers on the device endpoint (ImAlive)', async () => {
    for (const path of ['/status/alive', '/status/_health', '/status/health', '/status/healthy']) {
      const answer = await get(path);
      expect(answer.status).toBe(200);
      expect(answer.headers['content-type']).toMatch(/^text\/plain/);
      expect(answer.body).toBe('Hello, Friend!');
    }
  });

  it('a socket path asked without an upgrade: 400 once authenticated, 401 before', async () => {
    expect((await get('/socket/websocket?vsn=2.0.0')).status).toBe(401);
  });

  it('the redirect target is configurable and defaults to the NervesHub docs', async () => {
    const plain = await startTestServer();
    try {
      const answer = await new Promise<number | undefined>((resolve, reject) => {
        request(`${plain.deviceEndpointUrl}/nowhere`, { ca: plain.ca.certPem }, (res) => {
          res.resume();
          resolve(res.headers.location === 'https://docs.nerves-hub.org/' ? res.statusCode : undefined);
        })
          .on('error', reject)
          .end();
      });
      expect(answer).toBe(301);
    } finally {
      await plain.close();
    }
  });
});
