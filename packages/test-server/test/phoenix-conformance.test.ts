// The official `phoenix` npm client (what browsers and Phoenix tools use) against the fake NervesHub: if it
// connects, joins, receives and pushes, the test-server speaks Phoenix Channels V2 as Phoenix does.
import { Socket } from 'phoenix';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { smallFixtures } from '../src/fixtures/index.js';
import { startTestServer, type TestServer } from '../src/index.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.close());

describe('the official phoenix client', () => {
  it('connects over mTLS, joins device, receives an update and pushes events', async () => {
    const device = await server.issueDeviceCertificate('phoenix-js');
    const firmware = await server.addFirmware(smallFixtures.unsigned);
    // phoenix.js creates its transport as `new transport(url)`; TLS material has to come from a subclass.
    class TlsWebSocket extends WebSocket {
      constructor(url: string) {
        super(url, { ca: server.ca.certPem, cert: device.certPem, key: device.keyPem });
      }
    }
    const socket = new Socket(server.mtlsUrl.replace(/\/websocket$/, ''), {
      transport: TlsWebSocket,
      reconnectAfterMs: () => 60_000,
    });
    socket.connect();
    const channel = socket.channel('device', {
      device_api_version: '2.0.0',
      nerves_fw_uuid: 'phoenix-js-uuid',
    });
    const update = new Promise<{ firmware_meta: { uuid: string } }>((resolve) =>
      channel.on('update', (payload) => resolve(payload as { firmware_meta: { uuid: string } })),
    );
    await new Promise<void>((resolve, reject) => {
      channel
        .join()
        .receive('ok', () => resolve())
        .receive('error', reject)
        .receive('timeout', reject);
    });
    expect(server.device('phoenix-js').joins[0]).toMatchObject({ nerves_fw_uuid: 'phoenix-js-uuid' });
    server.sendUpdate('phoenix-js', firmware.id);
    expect((await update).firmware_meta.uuid).toBe(firmware.meta.uuid);
    channel.push('status_update', { status: 'received' });
    await server.waitForEvent('phoenix-js', (event) => event.event === 'status_update');
    socket.disconnect();
  });
});
