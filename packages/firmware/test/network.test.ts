// downloadFirmware on the networks devices sit on: through a real HTTP proxy (Debian's tinyproxy, started here)
// to the test-server's firmware host, with and without credentials, a proxy that is not there, a firmware host
// whose public key is pinned, and a bandwidth cap.
import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { type FirmwareFile, startTestServer, type TestServer } from '@nerves-hub-link/test-server';
import { smallFixtures } from '@nerves-hub-link/test-server/fixtures';
import { startTinyproxy, type Tinyproxy, tinyproxyPath } from '@nerves-hub-link/test-server/testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type DownloadConnection, type DownloadFirmwareOptions, downloadFirmware } from '../src/index.js';

const noTinyproxy = tinyproxyPath() ? undefined : 'tinyproxy is not installed (apt-get install tinyproxy)';
if (noTinyproxy) console.warn(`skipping the downloads through a proxy: ${noTinyproxy}`);

let server: TestServer;
let firmware: FirmwareFile;
let directory: string;

beforeAll(async () => {
  server = await startTestServer();
  firmware = await server.addFirmware(smallFixtures.unsigned);
});
afterAll(() => server?.close());
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'network-test-'));
});
afterEach(() => rm(directory, { recursive: true, force: true }));

const fast = { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 50, idleTimeoutMs: 2_000 };
const firmwarePort = () => new URL(server.url).port;

function download(extra: Partial<DownloadFirmwareOptions> = {}) {
  return downloadFirmware({
    url: server.firmwareUrl(firmware.id),
    directory,
    ca: server.ca.certPem,
    expectedSize: firmware.size,
    expectedSha256: firmware.checksum,
    retry: fast,
    ...extra,
  });
}

/** The pin of a PEM certificate as curl computes it: openssl, not the code under test. */
function opensslPin(certFile: string): string {
  const spki = execFileSync('sh', [
    '-c',
    `openssl x509 -in '${certFile}' -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64`,
  ]);
  return `sha256/${spki.toString().trim()}`;
}

/** A pin check over the chain handed to checkServerIdentity, written here so the test does not trust the code. */
function pinCheck(pins: readonly string[], seen: string[] = []) {
  return (host: string, certificate: PeerCertificate): Error | undefined => {
    const nameError = checkServerIdentity(host, certificate);
    if (nameError) return nameError;
    const chain: string[] = [];
    for (let c: PeerCertificate | undefined = certificate; c?.raw && chain.length < 5; ) {
      const spki = new X509Certificate(c.raw).publicKey.export({ type: 'spki', format: 'der' });
      chain.push(`sha256/${createHash('sha256').update(spki).digest('base64')}`);
      const issuer: PeerCertificate | undefined = (c as { issuerCertificate?: PeerCertificate })
        .issuerCertificate;
      c = issuer && issuer !== c ? issuer : undefined;
    }
    seen.push(...chain);
    return chain.some((pin) => pins.includes(pin))
      ? undefined
      : new Error(`pin mismatch; presented ${chain.join(', ')}`);
  };
}

async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

describe.skipIf(noTinyproxy !== undefined && !process.env.CI)('through tinyproxy', () => {
  let open: Tinyproxy;
  let guarded: Tinyproxy;

  beforeAll(async () => {
    open = await startTinyproxy();
    guarded = await startTinyproxy({ credentials: { user: 'device', password: 's3cret-Pass' } });
  });
  afterAll(async () => {
    await open?.stop();
    await guarded?.stop();
  });

  it('downloads through a CONNECT tunnel, TLS end to end, and reports the connection toward the proxy', async () => {
    const before = open.connects().length;
    const connections: DownloadConnection[] = [];
    const result = await download({ proxy: open.url, onConnection: (info) => connections.push(info) });
    expect(result.sha256).toBe(firmware.checksum);
    expect(await readFile(result.path)).toHaveLength(firmware.size);
    expect(open.connects().slice(before)).toEqual([`127.0.0.1:${firmwarePort()}`]);
    expect(connections).toEqual([{ attempt: 1, localAddress: '127.0.0.1' }]);
  });

  it('holds the body back at the end of the tunnel: a capped download takes as long as the cap allows', async () => {
    const rate = 512 * 1024;
    const started = performance.now();
    const result = await download({ proxy: open.url, maxBytesPerSecond: rate });
    const seconds = (performance.now() - started) / 1000;
    expect(result.sha256).toBe(firmware.checksum);
    // As directly (below): at most the bucket and one read may come early.
    expect(seconds).toBeGreaterThanOrEqual((firmware.size - 0.05 * rate - 64 * 1024) / rate);
  });

  it('sends the credentials of the proxy URL', async () => {
    const before = guarded.connects().length;
    const result = await download({ proxy: guarded.urlWith('device', 's3cret-Pass') });
    expect(result.sha256).toBe(firmware.checksum);
    expect(guarded.connects().slice(before)).toEqual([`127.0.0.1:${firmwarePort()}`]);
  });

  it('without credentials: FW_PROXY_REFUSED naming the setting, not retried', async () => {
    const error = await download({ proxy: { url: guarded.url, source: 'network.proxy' } }).catch((e) => e);
    expect(error.code).toBe('FW_PROXY_REFUSED');
    expect(error.message).toBe(
      `proxy error: proxy ${guarded.url} (network.proxy) requires credentials (HTTP 407): put them in the proxy URL, http://user:password@host:port`,
    );
    expect(error.attempts).toBe(1);
    expect(readdirSync(directory)).toEqual([]);
  });

  it('with wrong credentials: FW_PROXY_REFUSED, the password never shown', async () => {
    const error = await download({
      proxy: { url: guarded.urlWith('device', 'wrong-Pass'), source: 'HTTPS_PROXY' },
    }).catch((e) => e);
    expect(error.code).toBe('FW_PROXY_REFUSED');
    // tinyproxy answers wrong credentials with 401, missing ones with 407.
    expect(error.message).toMatch(
      new RegExp(
        `^proxy error: proxy ${guarded.url} \\(HTTPS_PROXY\\) refused the credentials in its URL \\(HTTP 40[17]\\)$`,
      ),
    );
    expect(error.message).not.toContain('wrong-Pass');
    expect(error.attempts).toBe(1);
  });

  it('goes direct where the proxy function says so, and asks per URL', async () => {
    const before = open.connects().length;
    const asked: string[] = [];
    const result = await download({
      proxy: (target) => {
        asked.push(target.host);
        return undefined;
      },
    });
    expect(result.sha256).toBe(firmware.checksum);
    expect(open.connects().slice(before)).toEqual([]);
    expect(asked).toEqual([`127.0.0.1:${firmwarePort()}`]);
  });

  it('checks pinned keys of the firmware host at the end of the tunnel', async () => {
    const caPin = opensslPin(server.ca.certFile);
    const seen: string[] = [];
    const result = await download({ proxy: open.url, checkServerIdentity: pinCheck([caPin], seen) });
    expect(result.sha256).toBe(firmware.checksum);
    expect(seen).toContain(opensslPin(join(dirname(server.ca.certFile), 'server.crt')));
    const error = await download({
      proxy: open.url,
      checkServerIdentity: pinCheck([`sha256/${Buffer.alloc(32).toString('base64')}`]),
    }).catch((e) => e);
    expect(error.code).toBe('FW_SERVER_IDENTITY');
    expect(error.message).toContain(`untrusted firmware host 127.0.0.1: pin mismatch; presented ${seen[0]}`);
    expect(error.attempts).toBe(1);
  });
});

describe('proxy failures without a proxy process', () => {
  it('nothing listening at the proxy address: FW_PROXY, retried like the network', async () => {
    const port = await closedPort();
    const error = await download({
      proxy: { url: `http://127.0.0.1:${port}`, source: 'network.proxy' },
    }).catch((e) => e);
    expect(error.code).toBe('FW_PROXY');
    expect(error.message).toBe(
      `proxy error: proxy http://127.0.0.1:${port} (network.proxy): connection refused: nothing listens there (3 attempts)`,
    );
    expect(error.attempts).toBe(3);
  });

  it('refuses a proxy it cannot use, before any request', async () => {
    const since = server.firmwareRequests.length;
    const error = await download({ proxy: 'socks5://user:pw@127.0.0.1:1080' }).catch((e) => e);
    expect(error.code).toBe('FW_PROXY_INVALID');
    expect(error.message).not.toContain('pw');
    expect(server.firmwareRequests.length).toBe(since);
  });
});

describe('pinned firmware host, direct', () => {
  it('accepts a chain holding a pinned key (the server or its CA) and refuses one without', async () => {
    const leafPin = opensslPin(join(dirname(server.ca.certFile), 'server.crt'));
    expect((await download({ checkServerIdentity: pinCheck([leafPin]) })).sha256).toBe(firmware.checksum);
    const since = server.firmwareRequests.length;
    const error = await download({ checkServerIdentity: pinCheck(['sha256/nothing-matches']) }).catch(
      (e) => e,
    );
    expect(error.code).toBe('FW_SERVER_IDENTITY');
    expect(error.message).toContain(leafPin);
    expect(server.firmwareRequests.length).toBe(since);
  });

  it('keeps the name check: a mismatch stays a TLS name error', async () => {
    const error = await download({
      checkServerIdentity: (_host, certificate) => checkServerIdentity('elsewhere.example', certificate),
    }).catch((e) => e);
    expect(error.code).toBe('FW_NETWORK');
    expect(error.message).toContain('ERR_TLS_CERT_ALTNAME_INVALID');
  });
});

describe('bandwidth cap', () => {
  it('takes at least as long as the cap allows, and the file is whole', async () => {
    // 256 KiB at 512 KiB/s: about half a second. Only a lower bound is asserted: a busy machine is slower, never
    // faster, so this cannot fail for load. The accuracy is measured in bench/network.bench.mjs.
    const rate = 512 * 1024;
    const started = performance.now();
    const result = await download({ maxBytesPerSecond: rate });
    const seconds = (performance.now() - started) / 1000;
    expect(result.sha256).toBe(firmware.checksum);
    // At most the bucket (50 ms at the cap) and one read may come early.
    expect(seconds).toBeGreaterThanOrEqual((firmware.size - 0.05 * rate - 64 * 1024) / rate);
  });

  it('refuses a cap below 1 KiB/s before any request', async () => {
    const error = await download({ maxBytesPerSecond: 10 }).catch((e) => e);
    expect(error.code).toBe('FW_RATE_INVALID');
  });
});
