// NervesHub's web endpoint as a device meets it, over real TLS: /device-socket for shared secrets, /socket is the
// browsers' socket (403), every other path 404, the health check.
import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../src/index.js';
import { nh1Headers } from './support/nh1-signer.js';
import { joinParams, RawDevice } from './support/raw-device.js';

let server: TestServer;
const opened: RawDevice[] = [];
beforeAll(async () => {
  server = await startTestServer({ webEndpoint: true });
  server.addProductKey('nhp_product', 'product-secret');
});
afterAll(async () => {
  await Promise.all(opened.map((device) => device.close()));
  await server?.close();
});

const webSocketUrl = (path: string) => `${server.webUrl!.replace('https:', 'wss:')}${path}?vsn=2.0.0`;

function refusal(path: string, headers: Record<string, string> = {}): Promise<{ status?: number }> {
  return RawDevice.connect(server, webSocketUrl(path), { headers }).then(
    (device) => {
      opened.push(device);
      throw new Error('connected');
    },
    (error) => error,
  );
}

describe('the web endpoint', () => {
  it('is off unless asked for, and on its own port when it is', async () => {
    const plain = await startTestServer();
    try {
      expect(plain.webUrl).toBeUndefined();
    } finally {
      await plain.close();
    }
    expect(new URL(server.webUrl!).port).not.toBe(new URL(server.deviceEndpointUrl).port);
  });

  it('/device-socket joins a shared-secret device', async () => {
    const device = await RawDevice.connect(server, webSocketUrl('/device-socket/websocket'), {
      headers: nh1Headers('nhp_product', 'product-secret', 'web-secret'),
    });
    opened.push(device);
    expect((await device.join(joinParams()))[4]).toEqual({ status: 'ok', response: {} });
    expect(server.device('web-secret').joins).toHaveLength(1);
  });

  it('/device-socket asks for no client certificate: a certificate device has no credentials there (401)', async () => {
    const certificate = await server.issueDeviceCertificate('web-cert');
    const error = await RawDevice.connect(server, webSocketUrl('/device-socket/websocket'), {
      certificate,
    }).catch((caught) => caught);
    expect(error.status).toBe(401);
    expect(error.headers['nh-connection-error-reason']).toMatch(/^no certificate pair/);
    expect(server.device('web-cert').connections).toBe(0);
  });

  it('/socket is the browsers’ socket: 403 for a device, whatever it sends', async () => {
    expect((await refusal('/socket/websocket')).status).toBe(403);
    const signed = nh1Headers('nhp_product', 'product-secret', 'web-browser-socket');
    expect((await refusal('/socket/websocket', signed)).status).toBe(403);
    expect(server.device('web-browser-socket').connections).toBe(0);
  });

  it('every other path: 404, not a redirect', async () => {
    for (const path of ['/websocket', '/device-socket', '/socket/longpoll']) {
      expect((await refusal(path)).status).toBe(404);
    }
  });

  it('answers the health check', async () => {
    const body = await new Promise<string>((resolve, reject) => {
      request(`${server.webUrl}/status/alive`, { ca: server.ca.certPem }, (res) => {
        let text = '';
        res.on('data', (chunk) => {
          text += chunk;
        });
        res.on('end', () => resolve(`${res.statusCode} ${text}`));
      })
        .on('error', reject)
        .end();
    });
    expect(body).toBe('200 Hello, Friend!');
  });
});
