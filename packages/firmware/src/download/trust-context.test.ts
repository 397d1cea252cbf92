import { connect } from 'node:tls';
import { startTestServer, type TestServer } from '@nerves-hub-link/test-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trustContext } from './trust-context.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

/** Whether a TLS handshake with the test-server's firmware host succeeds with `context`. */
function handshake(context: ReturnType<typeof trustContext>): Promise<boolean> {
  const { hostname, port } = new URL(server.url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port), secureContext: context });
    socket.once('secureConnect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('trustContext', () => {
  it('builds one context for the same trust anchors and hands it out again', () => {
    const first = trustContext([server.ca.certPem]);
    expect(trustContext([Buffer.from(server.ca.certPem)])).toBe(first);
    expect(trustContext([server.deviceCa.certPem])).not.toBe(first);
  });

  it('trusts the extra anchors: the handshake succeeds with the server CA, not with another', async () => {
    expect(await handshake(trustContext([server.ca.certPem]))).toBe(true);
    expect(await handshake(trustContext([server.deviceCa.certPem]))).toBe(false);
  });
});
