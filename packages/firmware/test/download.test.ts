// downloadFirmware against the test-server's firmware host over real HTTPS: every fault, its outcome, the
// retries made, and never a partial file left behind.
import { readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type FirmwareFault,
  type FirmwareFile,
  startTestServer,
  type TestServer,
} from '@nerves-hub-link/test-server';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type DownloadFirmwareOptions, downloadFirmware } from '../src/index.js';

let server: TestServer;
let firmware: FirmwareFile;
let directory: string;

beforeAll(async () => {
  server = await startTestServer();
  firmware = await server.addFirmware(fileURLToPath(new URL('./fixtures/small.fw', import.meta.url)));
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
    ['a body that is always corrupt', { kind: 'corrupt', atByte: 99 }, 'FW_CHECKSUM_MISMATCH', 3],
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

  it('refuses http unless allowed', async () => {
    const error = await downloadFirmware({ url: 'http://127.0.0.1:9/f.fw', directory }).catch((e) => e);
    expect(error.code).toBe('FW_HTTP_NOT_ALLOWED');
  });

  it('stops at once on abort and removes the partial file', async () => {
    const controller = new AbortController();
    const { result } = download({ kind: 'slow', bytesPerSecond: 20_000 }, { signal: controller.signal });
    setTimeout(() => controller.abort(), 300);
    expect((await result.catch((e) => e)).code).toBe('FW_ABORTED');
    expect(files()).toEqual([]);
  });
});
