// downloadFirmware against the test-server's firmware host over real HTTPS: every fault, its outcome, the
// retries made, and never a partial file left behind.
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  type FirmwareFault,
  type FirmwareFile,
  startTestServer,
  type TestServer,
} from '@nerves-hub-link/test-server';
import { smallFixtures } from '@nerves-hub-link/test-server/fixtures';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type DownloadConnection, type DownloadFirmwareOptions, downloadFirmware } from '../src/index.js';

let server: TestServer;
let firmware: FirmwareFile;
let directory: string;

beforeAll(async () => {
  server = await startTestServer();
  firmware = await server.addFirmware(smallFixtures.unsigned);
});
afterAll(() => server?.close());
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'download-test-'));
});
afterEach(() => rm(directory, { recursive: true, force: true }));

const fast = { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 50, idleTimeoutMs: 500 };

function download(fault?: FirmwareFault, extra: Partial<DownloadFirmwareOptions> = {}) {
  const since = server.firmwareRequests.length;
  const result = downloadFirmware({
    url: server.firmwareUrl(firmware.id, fault ? { fault } : {}),
    directory,
    ca: server.ca.certPem,
    expectedSize: firmware.size,
    expectedSha256: firmware.checksum,
    retry: fast,
    ...extra,
  });
  return { result, requests: () => server.firmwareRequests.slice(since) };
}

const files = () => readdirSync(directory);
const run = promisify(execFile);

function hasIpv6Loopback(): boolean {
  return Object.values(networkInterfaces()).some((addresses) => addresses?.some((a) => a.address === '::1'));
}

/** An HTTPS server on `host` with its own self-signed certificate that redirects every request to `target()`. */
async function startRedirectingServer(host: string, target: () => string) {
  const dir = await mkdtemp(join(tmpdir(), 'redirect-cert-'));
  try {
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
      '-days',
      '1',
      '-subj',
      '/CN=redirect-test',
      '-addext',
      `subjectAltName=IP:${host}`,
    ]);
    const certPem = await readFile(join(dir, 'cert.pem'), 'utf8');
    const keyPem = await readFile(join(dir, 'key.pem'), 'utf8');
    const clients: (string | undefined)[] = [];
    const https = createHttpsServer({ cert: certPem, key: keyPem }, (request, response) => {
      clients.push(request.socket.remoteAddress);
      response.writeHead(302, { location: target(), connection: 'close' }).end();
    });
    await new Promise<void>((resolve) => https.listen(0, host, resolve));
    const { port } = https.address() as AddressInfo;
    return {
      port,
      certPem,
      clients,
      close: () => new Promise<void>((resolve) => https.close(() => resolve())),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('downloadFirmware', () => {
  it('downloads the whole file and checks size and checksum', async () => {
    const progress: (number | undefined)[] = [];
    const { result, requests } = download(undefined, { onProgress: (p) => progress.push(p.percent) });
    const done = await result;
    expect(done).toMatchObject({ size: firmware.size, sha256: firmware.checksum, attempts: 1 });
    expect(files()).toEqual([done.path.split('/').at(-1)]);
    expect(progress.at(-1)).toBe(100);
    expect(requests()).toHaveLength(1);
    expect(requests()[0]).toMatchObject({ retryNumber: '0', range: undefined, userAgent: 'nerves-hub-link' });
  });

  const retried: [string, FirmwareFault][] = [
    ['a dropped connection', { kind: 'drop', atByte: 10_000, times: 1 }],
    ['a stall mid-body', { kind: 'stall', atByte: 10_000, times: 1 }],
    ['a corrupt byte', { kind: 'corrupt', atByte: 1234, times: 1 }],
    ['a short Content-Length', { kind: 'wrong-length', contentLength: 1000, times: 1 }],
    ['a 500', { kind: 'status', status: 500, times: 1 }],
    ['a 503 with Retry-After', { kind: 'status', status: 503, retryAfterSeconds: 0, times: 2 }],
  ];
  for (const [label, fault] of retried) {
    it(`recovers from ${label} by starting again from byte 0`, async () => {
      const { result, requests } = download(fault);
      const done = await result;
      expect(done.sha256).toBe(firmware.checksum);
      expect(done.attempts).toBe((fault.times ?? 1) + 1);
      expect(requests().map((r) => r.retryNumber)).toEqual(requests().map((_, i) => String(i)));
      expect(requests().every((r) => r.range === undefined)).toBe(true);
      expect(files()).toHaveLength(1);
    });
  }

  const failures: [string, FirmwareFault, string, number][] = [
    ['an expired URL', { kind: 'expired' }, 'FW_URL_EXPIRED', 1],
    ['a 404', { kind: 'status', status: 404 }, 'FW_HTTP_STATUS', 1],
    ['a server that keeps failing', { kind: 'status', status: 500 }, 'FW_HTTP_STATUS', 3],
    ['a connection that always drops', { kind: 'drop', atByte: 5000 }, 'FW_NETWORK', 3],
    ['a body that always stalls', { kind: 'stall', atByte: 5000 }, 'FW_STALLED', 3],
    [
      'a body that is always corrupt (retried once)',
      { kind: 'corrupt', atByte: 99 },
      'FW_CHECKSUM_MISMATCH',
      2,
    ],
    ['too many redirects', { kind: 'redirects', count: 9 }, 'FW_TOO_MANY_REDIRECTS', 1],
    ['a redirect loop', { kind: 'redirect-loop' }, 'FW_TOO_MANY_REDIRECTS', 1],
  ];
  for (const [label, fault, code, attempts] of failures) {
    it(`fails on ${label} with ${code} after ${attempts} attempt(s), leaving no file`, async () => {
      const error = await download(fault).result.catch((e) => e);
      expect(error.code).toBe(code);
      expect(error.attempts).toBe(attempts);
      expect(files()).toEqual([]);
      expect(error.message).not.toContain('X-Amz-Signature');
    });
  }

  it('follows a short redirect chain', async () => {
    const done = await download({ kind: 'redirects', count: 2 }).result;
    expect(done.sha256).toBe(firmware.checksum);
  });

  it('fails a size that does not match the update', async () => {
    const error = await download(undefined, { expectedSize: firmware.size + 1 }).result.catch((e) => e);
    expect(error.code).toBe('FW_SIZE_MISMATCH');
    expect(files()).toEqual([]);
  });

  it('refuses before downloading when the disk is too small', async () => {
    const { result } = download(undefined, { expectedSize: 2 ** 52 });
    const error = await result.catch((e) => e);
    expect(error.code).toBe('FW_NO_SPACE');
    expect(error.attempts).toBe(1);
    expect(files()).toEqual([]);
  });

  it('reports each request with the local address of its connection, before the body', async () => {
    const seen: string[] = [];
    const connections: DownloadConnection[] = [];
    const { result, requests } = download(
      { kind: 'redirects', count: 2 },
      {
        onConnection: (info) => {
          connections.push(info);
          seen.push('connection');
        },
        onProgress: () => seen.push('progress'),
      },
    );
    await result;
    expect(requests()).toHaveLength(3);
    expect(connections).toEqual([
      { attempt: 1, localAddress: '127.0.0.1' },
      { attempt: 1, localAddress: '127.0.0.1' },
      { attempt: 1, localAddress: '127.0.0.1' },
    ]);
    expect(seen.slice(0, 4)).toEqual(['connection', 'connection', 'connection', 'progress']);
  });

  it('reports every attempt with its number', async () => {
    const connections: DownloadConnection[] = [];
    const { result } = download(
      { kind: 'status', status: 500, times: 2 },
      { onConnection: (info) => connections.push(info) },
    );
    expect((await result).attempts).toBe(3);
    expect(connections.map((c) => c.attempt)).toEqual([1, 2, 3]);
    expect(connections.every((c) => c.localAddress === '127.0.0.1')).toBe(true);
  });

  it.skipIf(!hasIpv6Loopback())(
    'reports each redirect hop with its own connection (::1, then 127.0.0.1)',
    async () => {
      const front = await startRedirectingServer('::1', () =>
        server.firmwareUrl(firmware.id, { fault: { kind: 'redirects', count: 1 } }),
      );
      try {
        const connections: DownloadConnection[] = [];
        const done = await downloadFirmware({
          url: `https://[::1]:${front.port}/firmware.fw`,
          directory,
          ca: [server.ca.certPem, front.certPem],
          expectedSha256: firmware.checksum,
          retry: fast,
          onConnection: (info) => connections.push(info),
        });
        expect(done.sha256).toBe(firmware.checksum);
        expect(front.clients).toEqual(['::1']);
        expect(connections).toEqual([
          { attempt: 1, localAddress: '::1' },
          { attempt: 1, localAddress: '127.0.0.1' },
          { attempt: 1, localAddress: '127.0.0.1' },
        ]);
      } finally {
        await front.close();
      }
    },
  );

  it('logs and ignores an `onConnection` that throws', async () => {
    const warnings: string[] = [];
    const { result } = download(undefined, {
      onConnection: () => {
        throw new Error('listener broke');
      },
      logger: { warn: (message) => warnings.push(message) },
    });
    expect((await result).sha256).toBe(firmware.checksum);
    expect(warnings).toEqual(['onConnection threw: listener broke']);
  });

  it('refuses http unless allowed', async () => {
    const error = await downloadFirmware({ url: 'http://127.0.0.1:9/f.fw', directory }).catch((e) => e);
    expect(error.code).toBe('FW_HTTP_NOT_ALLOWED');
  });

  it('waits between attempts with `waitBeforeRetry`: the Retry-After of the server', async () => {
    const waits: number[] = [];
    const { result, requests } = download(
      { kind: 'status', status: 503, retryAfterSeconds: 7, times: 1 },
      {
        retry: { ...fast, baseDelayMs: 60_000, maxDelayMs: 600_000 },
        waitBeforeRetry: async (delayMs, signal) => {
          expect(signal).toBeUndefined();
          waits.push(delayMs);
        },
      },
    );
    expect((await result).attempts).toBe(2);
    expect(waits).toEqual([7_000]);
    expect(requests().map((request) => request.status)).toEqual([503, 200]);
  });

  it('stops at once on abort and removes the partial file', async () => {
    const controller = new AbortController();
    const { result } = download({ kind: 'slow', bytesPerSecond: 20_000 }, { signal: controller.signal });
    setTimeout(() => controller.abort(), 300);
    expect((await result.catch((e) => e)).code).toBe('FW_ABORTED');
    expect(files()).toEqual([]);
  });
});
