// The fake NervesHub seen by a raw WebSocket client: the Phoenix and NervesHub behaviour a device can observe.
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { smallFixtures } from '../src/fixtures/index.js';
import { decodePayload, startTestServer, type TestServer, verifySharedSecret } from '../src/index.js';

const vectors = JSON.parse(
  readFileSync(fileURLToPath(new URL('./fixtures/shared-secret.json', import.meta.url)), 'utf8'),
).vectors as {
  inputs: { name?: string; key: string; secret: string; identifier: string; signed_at: number; alg: string };
  outputs: { token?: string; signature?: string; payload_etf_hex: string };
}[];

let server: TestServer;
let device: { certPem: string; keyPem: string };
beforeAll(async () => {
  server = await startTestServer();
  device = await server.issueDeviceCertificate('raw-1');
});
afterAll(() => server?.close());

function open(path = '?vsn=2.0.0', identity = device): Promise<WebSocket> {
  const ws = new WebSocket(`${server.mtlsUrl}${path}`, {
    ca: server.ca.certPem,
    cert: identity.certPem,
    key: identity.keyPem,
  });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) =>
      reject(Object.assign(new Error('refused'), { status: res.statusCode })),
    );
    ws.once('error', reject);
  });
}

function next(ws: WebSocket): Promise<unknown[]> {
  return once(ws, 'message').then(([data]) => JSON.parse(String(data)));
}

describe('NH1 verification', () => {
  for (const vector of vectors) {
    it(`accepts vector ${vector.inputs.name ?? vector.inputs.key}`, () => {
      const { key, secret, identifier, signed_at, alg } = vector.inputs;
      const headers = {
        'x-nh-alg': alg,
        'x-nh-key': key,
        'x-nh-time': String(signed_at),
        'x-nh-signature': vector.outputs.token ?? vector.outputs.signature,
      };
      const keys = { product: new Map([[key, secret]]), device: new Map() };
      const result = verifySharedSecret(headers, keys, { nowMs: signed_at * 1000 + 1000 });
      expect(result).toEqual({ ok: true, identifier, keyKind: 'product' });
      expect(verifySharedSecret(headers, keys, { nowMs: signed_at * 1000 + 91_000 })).toMatchObject({
        ok: false,
      });
      expect(verifySharedSecret(headers, keys, { nowMs: signed_at * 1000 - 1000 })).toMatchObject({
        ok: false,
      });
      expect(decodePayload(Buffer.from(vector.outputs.payload_etf_hex, 'hex'))?.identifier).toBe(identifier);
    });
  }
});

describe('device socket', () => {
  it('refuses an upgrade without vsn=2.0.0 with 403', async () => {
    await expect(open('')).rejects.toMatchObject({ status: 403 });
  });

  it('answers heartbeats and joins of "device" only; records join params', async () => {
    const ws = await open();
    ws.send(JSON.stringify([null, '1', 'phoenix', 'heartbeat', {}]));
    expect(await next(ws)).toEqual([null, '1', 'phoenix', 'phx_reply', { status: 'ok', response: {} }]);
    ws.send(JSON.stringify(['2', '2', 'firmware', 'phx_join', {}]));
    expect(((await next(ws))[4] as { status: string }).status).toBe('error');
    ws.send(
      JSON.stringify([
        '3',
        '3',
        'device',
        'phx_join',
        { nerves_fw_uuid: 'abc', device_api_version: '2.0.0' },
      ]),
    );
    expect(await next(ws)).toEqual(['3', '3', 'device', 'phx_reply', { status: 'ok', response: {} }]);
    expect(server.device('raw-1').joins.at(-1)).toMatchObject({ nerves_fw_uuid: 'abc' });
    server.setHeartbeatReplies(false);
    ws.send(JSON.stringify([null, '4', 'phoenix', 'heartbeat', {}]));
    ws.send(JSON.stringify(['3', '5', 'device', 'status_update', { status: 'received' }]));
    await server.waitForEvent('raw-1', (e) => e.event === 'status_update');
    server.setHeartbeatReplies(true);
    ws.close();
  });

  it('crashes the join on a non-string device_api_version, and the channel on an unknown status', async () => {
    const ws = await open();
    ws.send(JSON.stringify(['1', '1', 'device', 'phx_join', { device_api_version: 2 }]));
    expect(((await next(ws))[4] as { response: unknown }).response).toEqual({ reason: 'join crashed' });
    ws.send(JSON.stringify(['2', '2', 'device', 'phx_join', {}]));
    await next(ws);
    ws.send(JSON.stringify(['2', '3', 'device', 'status_update', { status: 'bogus' }]));
    expect(await next(ws)).toEqual(['2', '2', 'device', 'phx_error', { reason: 'channel_crash' }]);
    ws.close();
  });

  it('closes the first connection of a device when a second one arrives (1001)', async () => {
    const first = await open();
    const closed = once(first, 'close');
    const second = await open();
    expect((await closed)[0]).toBe(1001);
    second.close();
  });

  it('refuses upgrades with a chosen status, then accepts again', async () => {
    server.refuseUpgrades(503);
    await expect(open()).rejects.toMatchObject({ status: 503 });
    server.refuseUpgrades(null);
    (await open()).close();
  });

  it('pushes an update with the real size, checksum and meta of a .fw', async () => {
    const firmware = await server.addFirmware(smallFixtures.unsigned);
    expect(firmware.size).toBe(262928);
    expect(firmware.checksum).toBe('2AC86E00ACE15C11E043BD79A3E91A48482C52BDD52BD91AB826EA2CFE394F86');
    expect(firmware.meta).toMatchObject({
      uuid: 'd53074ae-a7ac-5d9b-9c01-44dd0c41c745',
      product: 'demo',
      version: '1.0.1',
    });
    const ws = await open();
    ws.send(JSON.stringify(['1', '1', 'device', 'phx_join', {}]));
    await next(ws);
    server.sendUpdate('raw-1', firmware.id);
    const [joinRef, ref, topic, event, payload] = (await next(ws)) as [
      null,
      null,
      string,
      string,
      Record<string, unknown>,
    ];
    expect([joinRef, ref, topic, event]).toEqual([null, null, 'device', 'update']);
    expect(Object.keys(payload).sort()).toEqual(
      [
        'checksum',
        'deployment_id',
        'firmware_meta',
        'firmware_url',
        'partials_checksums',
        'size',
        'update_available',
      ].sort(),
    );
    expect(payload.firmware_url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/firmware\/.+X-Amz-Signature=/);
    ws.close();
  });
});
