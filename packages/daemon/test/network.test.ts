// The bundled daemon on a network that only lets it out through an HTTP proxy: a real tinyproxy (Debian's),
// started here on 127.0.0.1, carries the device socket (mTLS and shared secret) and the firmware download. Also
// proxies that want credentials or are not there, public-key pins of the server and the firmware host, and the
// download bandwidth cap.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { startTinyproxy, type Tinyproxy, tinyproxyPath } from '@nerves-hub-link/test-server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDevice,
  type Device,
  runDaemon,
  startDaemon,
  statuses,
  useTestServer,
} from './support/harness.js';

const e2e = useTestServer('daemon-network-', ['small-signed.fw']);

const noTinyproxy = tinyproxyPath() ? undefined : 'tinyproxy is not installed (apt-get install tinyproxy)';
if (noTinyproxy) console.warn(`skipping the daemon behind a proxy: ${noTinyproxy}`);

/** No proxy variable of the machine running the tests may leak into the daemon's decisions. */
const cleanEnv = {
  HTTPS_PROXY: '',
  https_proxy: '',
  HTTP_PROXY: '',
  http_proxy: '',
  NO_PROXY: '',
  no_proxy: '',
};

const portOf = (url: string) => new URL(url).port;

/** curl's recipe for a --pinnedpubkey value, from the server certificate's file. */
function opensslPin(certFile: string): string {
  const digest = execFileSync('sh', [
    '-c',
    `openssl x509 -in '${certFile}' -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64`,
  ]);
  return `sha256/${digest.toString().trim()}`;
}

async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

function check(device: Device, env: Record<string, string> = {}) {
  return startDaemon(['check', '--config', device.configFile], { ...cleanEnv, ...env });
}

describe.skipIf(noTinyproxy !== undefined && !process.env.CI)('behind tinyproxy', () => {
  let open: Tinyproxy;
  let guarded: Tinyproxy;

  beforeAll(async () => {
    open = await startTinyproxy();
    guarded = await startTinyproxy({ credentials: { user: 'fleet', password: 'Pr0xy-Pass' } });
  });
  afterAll(async () => {
    await open?.stop();
    await guarded?.stop();
  });

  it('mTLS, proxy from HTTPS_PROXY: joins and runs a full update, both connections through the proxy', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'proxied-mtls');
    const before = open.connects().length;
    const daemon = runDaemon(device, { ...cleanEnv, HTTPS_PROXY: open.url });
    await e2e.server.waitForJoin(device.identifier);
    e2e.server.sendUpdate(device.identifier, e2e.firmware('small-signed.fw').id);
    expect((await daemon.waitForExit()).code).toBe(0);
    expect(statuses(e2e.server, device.identifier)).toEqual(['received', 'started', 'completed']);
    // The socket's tunnel first, then the download's; nothing reached the server without the proxy.
    expect(open.connects().slice(before)).toEqual([
      `127.0.0.1:${portOf(e2e.server.mtlsUrl)}`,
      `127.0.0.1:${portOf(e2e.server.url)}`,
    ]);
    // The interface is the one of the connection toward the proxy.
    const started = e2e.server.device(device.identifier).events.find((e) => e.payload?.status === 'started');
    expect(started?.payload).toEqual({ status: 'started', downloader_network_interface: 'lo' });
    expect(readFileSync(device.disk).length).toBe(262144);
  });

  it('shared secret, network.proxy with credentials, pins and a rate cap: a full update, no password in the log', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'proxied-secret', {
      auth: 'shared_secret',
      keys: 'configured',
      settings: {
        network: { proxy: guarded.urlWith('fleet', 'Pr0xy-Pass') },
        download: { pins: [opensslPin(e2e.server.ca.certFile)], max_rate: '1 MiB/s' },
        auth: { server_pins: [opensslPin(e2e.server.ca.certFile)] },
      },
    });
    const before = guarded.connects().length;
    // NO_PROXY from the environment still applies (network.no_proxy is not set), but names nothing here.
    const daemon = runDaemon(device, { ...cleanEnv, NO_PROXY: 'unrelated.example', HTTPS_PROXY: open.url }, [
      '--log-level',
      'debug',
    ]);
    await e2e.server.waitForJoin(device.identifier);
    e2e.server.sendUpdate(device.identifier, e2e.firmware('small-signed.fw').id);
    expect((await daemon.waitForExit()).code).toBe(0);
    expect(statuses(e2e.server, device.identifier)).toEqual(['received', 'started', 'completed']);
    expect(guarded.connects().slice(before)).toEqual([
      `127.0.0.1:${portOf(e2e.server.sharedSecretUrl)}`,
      `127.0.0.1:${portOf(e2e.server.url)}`,
    ]);
    expect(daemon.output()).toContain('download capped at 1 MiB/s (download.max_rate)');
    expect(daemon.output()).not.toContain('Pr0xy-Pass');
    expect(daemon.output()).not.toMatch(/x-nh-signature|SFMyNTY|secret-of-/);
  });

  it('check names the proxy route and prints the pins of the server it reached', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'proxied-check', {
      settings: { network: { proxy: guarded.urlWith('fleet', 'Pr0xy-Pass') } },
    });
    const run = check(device);
    expect((await run.waitForExit()).code).toBe(0);
    const output = run.output();
    expect(output).toContain(
      `ok   device socket through proxy ${guarded.url} (network.proxy, with credentials)`,
    );
    expect(output).toContain(
      'ok   server key pins of the chain presented (any one may go in auth.server_pins):',
    );
    const serverPin = opensslPin(join(dirname(e2e.server.ca.certFile), 'server.crt'));
    expect(output).toContain(`       ${serverPin}  localhost`);
    expect(output).toContain(`       ${opensslPin(e2e.server.ca.certFile)}  `);
    expect(output).not.toContain('Pr0xy-Pass');
  });

  it('check: no credentials for a proxy that wants them, exit 69 saying how to give them', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'proxy-no-credentials', {
      settings: { network: { proxy: guarded.url } },
    });
    const run = check(device);
    expect((await run.waitForExit()).code).toBe(69);
    expect(run.output()).toContain(
      `proxy ${guarded.url} (network.proxy): requires credentials (HTTP 407 Proxy Authentication Required): put them in the proxy URL, http://user:password@host:port`,
    );
  });

  it('check: wrong credentials, exit 69, the password never printed', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'proxy-bad-credentials', {
      settings: { network: { proxy: guarded.urlWith('fleet', 'Wrong-Pass') } },
    });
    const run = check(device);
    expect((await run.waitForExit()).code).toBe(69);
    expect(run.output()).toMatch(
      new RegExp(
        `proxy ${guarded.url} \\(network\\.proxy\\): refused the credentials in its URL \\(HTTP 40[17]`,
      ),
    );
    expect(run.output()).not.toContain('Wrong-Pass');
  });

  it('NO_PROXY naming the server sends it direct; check says why', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'bypassed');
    const before = open.connects().length;
    const run = check(device, { HTTPS_PROXY: open.url, NO_PROXY: 'localhost,127.0.0.0/8' });
    expect((await run.waitForExit()).code).toBe(0);
    expect(run.output()).toContain(
      `ok   device socket direct: 127.0.0.1:${portOf(e2e.server.mtlsUrl)} matches "127.0.0.0/8" in NO_PROXY (the proxy of HTTPS_PROXY is not used for it)`,
    );
    expect(open.connects().slice(before)).toEqual([]);
  });
});

describe('proxy and pin failures without a proxy process', () => {
  it('check: a proxy where nothing listens, exit 69 naming network.proxy', async () => {
    const port = await closedPort();
    const device = await createDevice(e2e.server, e2e.root, 'proxy-closed', {
      settings: { network: { proxy: `http://127.0.0.1:${port}` } },
    });
    const run = check(device);
    expect((await run.waitForExit()).code).toBe(69);
    expect(run.output()).toContain(
      `proxy http://127.0.0.1:${port} (network.proxy): connection refused: nothing listens there; check that the proxy runs and that network.proxy names it`,
    );
  });

  it('a proxy variable that cannot be used stops the daemon with exit 78, naming it', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'proxy-socks');
    const run = check(device, { HTTPS_PROXY: 'socks5://user:hidden@127.0.0.1:1080' });
    expect((await run.waitForExit()).code).toBe(78);
    expect(run.output()).toContain('the HTTPS_PROXY environment variable is not a usable proxy');
    expect(run.output()).not.toContain('hidden');
  });

  it('check: a wrong server pin fails the join and lists the pins presented; the right one joins', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'pinned-wrong', {
      settings: { auth: { server_pins: [`sha256/${Buffer.alloc(32, 1).toString('base64')}`] } },
    });
    const wrong = check(device);
    expect((await wrong.waitForExit()).code).toBe(69);
    const serverPin = opensslPin(join(dirname(e2e.server.ca.certFile), 'server.crt'));
    expect(wrong.output()).toContain(
      'certificate pin mismatch: the chain of 127.0.0.1 matches none of the 1 pin(s) in auth.server_pins',
    );
    expect(wrong.output()).toContain(`${serverPin} (localhost)`);
    expect(wrong.output()).toContain(
      "If the server's key changed on purpose, put the new pin in auth.server_pins",
    );
    expect(e2e.server.device(device.identifier).connections).toBe(0);

    const right = await createDevice(e2e.server, e2e.root, 'pinned-right', {
      settings: { auth: { server_pins: [serverPin] } },
    });
    const run = check(right);
    expect((await run.waitForExit()).code).toBe(0);
    expect(run.output()).toContain(
      `ok   server key pinned (auth.server_pins): ${serverPin} (localhost) matched`,
    );
  });

  it('a firmware host without a pinned key: the update fails, saying which keys it presented', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'download-pinned-wrong', {
      settings: { download: { pins: [`sha256/${Buffer.alloc(32, 2).toString('base64')}`] } },
    });
    const daemon = runDaemon(device, cleanEnv);
    await e2e.server.waitForJoin(device.identifier);
    const requests = e2e.server.firmwareRequests.length;
    e2e.server.sendUpdate(device.identifier, e2e.firmware('small-signed.fw').id);
    const failed = await e2e.server.waitForEvent(
      device.identifier,
      (event) => event.payload?.status === 'failed',
    );
    expect(failed.payload.reason).toMatch(
      /^Download failed : untrusted firmware host 127\.0\.0\.1: certificate pin mismatch: .* in download\.pins; it presented sha256\//,
    );
    expect(e2e.server.firmwareRequests.length).toBe(requests);
    expect(device.fwupRuns()).toEqual([]);
    // The device page: one attempt, the failure with its reason, nothing in flight; a manual push blocks nothing.
    const page = await e2e.server.waitForRecords(device.identifier, (each) =>
      each.history.some((entry) => entry.event === 'failed'),
    );
    expect(page.history.find((entry) => entry.event === 'failed')).toMatchObject({
      reason: failed.payload.reason,
      blockedUntil: null,
    });
    expect(page.updateAttempts).toHaveLength(1);
    expect(page.inflightUpdate).toBeNull();
    expect(page.inPenaltyBox).toBe(false);
    daemon.stop();
    expect((await daemon.waitForExit()).code).toBe(0);
  });

  it('config problems name the keys', async () => {
    const device = await createDevice(e2e.server, e2e.root, 'bad-network-config', {
      settings: {
        network: { proxy: 'socks5://u:pw@proxy:1080', no_proxy: ['ok.example', 'bad host'] },
        download: { max_rate: '2 Mb/s', pins: ['sha1/abc'] },
      },
    });
    const run = check(device);
    expect((await run.waitForExit()).code).toBe(78);
    const output = run.output();
    expect(output).toContain('network.proxy: only http:// proxies are supported');
    expect(output).toContain('network.no_proxy[1]: "bad host" is not a host name');
    expect(output).toContain(
      'download.max_rate: unknown unit "Mb/s" (a lower-case b means bits; write B for bytes)',
    );
    expect(output).toContain('download.pins[0]: expected "sha256/"');
    expect(output).not.toContain('u:pw');
  });
});
