// A wrong `uri` path on NervesHub's device endpoint is answered with a 301 to another site (nerves_hub_web
// DEVICE_ENDPOINT_REDIRECT, its docs by default). The device must not take its credentials there: a host on
// 127.0.0.1 stands for that site and records every request, the headers and whether a client certificate came.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type RawHttpsHost, startRawHttpsHost } from '@nerves-hub-link/test-server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevice, startDaemon, useTestServer } from './support/harness.js';
import { runInProcess } from './support/in-process.js';

const e2e = useTestServer('daemon-redirect-origin-', []);
let docs: RawHttpsHost;

beforeAll(async () => {
  docs = await openDocsHost();
  // What nerves_hub_web's device endpoint answers on /websocket, with DEVICE_ENDPOINT_REDIRECT set to this host.
  e2e.server.redirectUpgrades({ from: '/websocket', to: `${docs.origin}/`, status: 301 });
});
afterAll(() => docs?.close());

/** Uses the test-server's certificate (127.0.0.1, trusted by the devices), so an old client would connect. */
async function openDocsHost(): Promise<RawHttpsHost> {
  const certs = dirname(e2e.server.ca.certFile);
  return startRawHttpsHost(
    {
      cert: readFileSync(join(certs, 'server.crt'), 'utf8'),
      key: readFileSync(join(certs, 'server.key'), 'utf8'),
    },
    async (_request, reply) => {
      await reply.write('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    },
    { requestCert: true },
  );
}

const wrongPath = (uri: string) => new URL('/websocket', uri).href;

describe.each(['mtls', 'shared_secret'] as const)(
  'a %s device pointed at a path NervesHub redirects',
  (auth) => {
    it('sends nothing to the redirect target, explains the paths, and `run` and `check` exit 78', async () => {
      const configured = auth === 'mtls' ? e2e.server.mtlsUrl : e2e.server.sharedSecretUrl;
      const device = await createDevice(e2e.server, e2e.root, `redirected-${auth}`, {
        auth,
        settings: { uri: wrongPath(configured) },
      });
      const host = new URL(configured).host;
      const expectedUri = auth === 'mtls' ? e2e.server.mtlsUrl : e2e.server.sharedSecretUrl;

      // `run` in the test process; `check` as the binary.
      const daemon = await runInProcess(device);
      expect((await daemon.waitForExit()).code).toBe(78);
      const check = startDaemon(['check', '--config', device.configFile]);
      expect((await check.waitForExit()).code).toBe(78);

      expect(docs.requests).toEqual([]);
      const explanation =
        `${host}/websocket redirected the WebSocket upgrade (HTTP 301) to another site, ${docs.origin}/; not ` +
        `followed: the device's credentials are only sent to ${host}. NervesHub redirects every path it has no ` +
        'device socket on: devices connect to /socket/websocket or /device-socket/websocket (on the device endpoint ' +
        'both accept either auth method; a web host serves only /device-socket/websocket); ' +
        `set uri = "${expectedUri}"`;
      expect(daemon.output()).toContain(`ERROR the configured uri cannot work: ${explanation}`);
      expect(check.output()).toContain(`could not join at ${wrongPath(configured)}: ${explanation}`);
      expect(e2e.server.records(device.identifier)).toBeUndefined();
    });
  },
);
