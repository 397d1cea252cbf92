// downloadFirmware against a host that does what no well-behaved server does: bodies that never end or run past
// what was announced, encoded bodies, bytes dripped to keep a download alive, and a disk that fills up or cannot
// be written. Every attempt must end, with its own code, leaving nothing on disk, and the next download must work.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statfsSync, statSync, symlinkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { CertificateStore } from '@nerves-hub-link/test-server';
import { smallFixtures } from '@nerves-hub-link/test-server/fixtures';
import {
  canMountSmallFilesystem,
  mountSmallFilesystem,
  type RawHttpsHost,
  type RawReply,
  startRawHttpsHost,
} from '@nerves-hub-link/test-server/testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type DownloadFirmwareOptions, downloadFirmware } from '../src/index.js';

const MiB = 1024 * 1024;
const firmware = readFileSync(smallFixtures.unsigned);
const firmwareSha256 = createHash('sha256').update(firmware).digest('hex').toUpperCase();
const filler = Buffer.alloc(64 * 1024, 0x5a);
const slowLink = firmware.subarray(0, 3000);

const header = (lines: string[]) =>
  `HTTP/1.1 200 OK\r\nConnection: close\r\n${lines.map((line) => `${line}\r\n`).join('')}\r\n`;

const responses: Record<string, (reply: RawReply) => Promise<void>> = {
  '/endless-chunked': async (reply) => {
    await reply.write(header(['Content-Type: application/octet-stream', 'Transfer-Encoding: chunked']));
    await reply.endless(filler, 'chunked');
  },
  '/endless-with-length': async (reply) => {
    await reply.write(
      header(['Content-Type: application/octet-stream', `Content-Length: ${3 * 1024 * MiB}`]),
    );
    await reply.endless(filler, 'raw');
  },
  '/longer-than-length': async (reply) => {
    await reply.write(header([`Content-Length: ${firmware.length}`]));
    await reply.write(firmware);
    await reply.write(Buffer.alloc(MiB, 0x5a));
  },
  '/gzip': async (reply) => {
    const body = gzipSync(firmware);
    await reply.write(header(['Content-Encoding: gzip', `Content-Length: ${body.length}`]));
    await reply.write(body);
  },
  '/file': async (reply) => {
    await reply.write(header([`Content-Length: ${firmware.length}`]));
    await reply.write(firmware);
  },
  // 200 B/s: every read resets the idle timeout, and the 1 MiB announced would take 87 minutes.
  '/drip': async (reply) => {
    await reply.write(header([`Content-Length: ${MiB}`]));
    while (await reply.write(filler.subarray(0, 20))) await sleep(100);
  },
  // 2.5 KB/s, a slow link: slow, never dripping.
  '/slow-link': async (reply) => {
    await reply.write(header([`Content-Length: ${slowLink.length}`]));
    for (let at = 0; at < slowLink.length; at += 250) {
      await reply.write(slowLink.subarray(at, at + 250));
      await sleep(100);
    }
  },
};

let certDir: string;
let ca: string;
let host: RawHttpsHost;
let directory: string;

beforeAll(async () => {
  certDir = await mkdtemp(join(tmpdir(), 'hostile-host-certs-'));
  const store = await CertificateStore.create(certDir);
  const server = await store.pair('server');
  ca = (await store.pair('server-ca')).certPem;
  host = await startRawHttpsHost({ cert: server.certPem, key: server.keyPem }, async (request, reply) => {
    const respond = responses[request.path];
    if (respond) await respond(reply);
    else await reply.write('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
});
afterAll(async () => {
  await host?.close();
  await rm(certDir, { recursive: true, force: true });
});
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'hostile-download-'));
});
afterEach(() => rm(directory, { recursive: true, force: true }));

const fast = { maxAttempts: 5, baseDelayMs: 10, maxDelayMs: 50, idleTimeoutMs: 2_000 };

/** A download from the hostile host; `mostBytes` is the largest byte count the download reported reading. */
function download(path: string, extra: Partial<DownloadFirmwareOptions> = {}) {
  const since = host.requests.length;
  let mostBytes = 0;
  const result = downloadFirmware({
    url: `${host.origin}${path}`,
    directory,
    ca,
    retry: fast,
    onProgress: ({ bytes }) => {
      mostBytes = Math.max(mostBytes, bytes);
    },
    ...extra,
  });
  return {
    error: () =>
      result.then(
        () => expect.fail('the download succeeded'),
        (error) => error,
      ),
    result,
    requests: () => host.requests.slice(since),
    bytesSent: () => host.bytesWritten.slice(since),
    mostBytes: () => mostBytes,
  };
}

describe('a body larger than announced', () => {
  it('reads no more than the update size from a body that never ends, and tries it once more only', async () => {
    const run = download('/endless-chunked', { expectedSize: MiB });
    const error = await run.error();
    expect(error.code).toBe('FW_SIZE_MISMATCH');
    expect(error.message).toMatch(/^size mismatch: .*sent more than the 1048576 bytes the update announced/);
    expect(error.attempts).toBe(2);
    expect(run.requests()).toHaveLength(2);
    expect(run.mostBytes()).toBeLessThanOrEqual(MiB);
    // What the host managed to push before the connection was dropped: socket buffers, not the endless body.
    for (const sent of run.bytesSent()) expect(sent).toBeLessThan(32 * MiB);
    expect(readdirSync(directory)).toEqual([]);
  });

  it('refuses a Content-Length other than the update size without reading on', async () => {
    const run = download('/endless-with-length', { expectedSize: MiB });
    const error = await run.error();
    expect(error.code).toBe('FW_SIZE_MISMATCH');
    expect(error.message).toContain(`announced ${3 * 1024 * MiB} bytes (Content-Length), the update ${MiB}`);
    expect(run.mostBytes()).toBeLessThanOrEqual(MiB);
    for (const sent of run.bytesSent()) expect(sent).toBeLessThan(32 * MiB);
    expect(readdirSync(directory)).toEqual([]);
  });

  it('without a size from the update, reads no more than Content-Length', async () => {
    const run = download('/longer-than-length', { expectedSha256: firmwareSha256 });
    const done = await run.result;
    expect(done.size).toBe(firmware.length);
    expect(statSync(done.path).size).toBe(firmware.length);
  });
});

describe('a disk that cannot take the body', () => {
  it('a write error (the .part file is /dev/full) ends the attempt at once; nothing is retried or left', async () => {
    symlinkSync('/dev/full', join(directory, 'firmware.fw.part'));
    const run = download('/endless-chunked', { fileName: 'firmware.fw' });
    const error = await run.error();
    expect(error.code).toBe('FW_NO_SPACE');
    expect(error.message).toMatch(/^not enough free space: the disk filled up/);
    expect(run.requests()).toHaveLength(1);
    expect(readdirSync(directory)).toEqual([]);
  });

  it.skipIf(!canMountSmallFilesystem())(
    'a body that never ends, with no size announced, on a 4 MiB file system: ends before the disk is full, with 1 MiB still free; the disk is empty again, the next download works',
    async () => {
      const small = join(directory, 'small');
      const unmount = mountSmallFilesystem(small, 4 * MiB);
      try {
        const free = () => {
          const { bavail, bsize } = statfsSync(small);
          return bavail * bsize;
        };
        const room = free() - MiB;
        // Sampled between socket reads: the body is written a read at a time, each in its own turn of the loop.
        let leastFree = free();
        const sampler = setInterval(() => {
          leastFree = Math.min(leastFree, free());
        }, 1);
        const run = download('/endless-chunked', { directory: small });
        const error = await run.error();
        clearInterval(sampler);
        expect(leastFree).toBeGreaterThanOrEqual(MiB);
        expect(error.code).toBe('FW_NO_SPACE');
        expect(error.message).toMatch(
          new RegExp(
            `^not enough free space: .* announced no size and sent more than the ${room} bytes free in ${small} \\(less 1048576 kept free\\)$`,
          ),
        );
        expect(run.requests()).toHaveLength(1);
        expect(readdirSync(small)).toEqual([]);

        const next = await download('/file', {
          directory: small,
          expectedSize: firmware.length,
          expectedSha256: firmwareSha256,
        }).result;
        expect(next.sha256).toBe(firmwareSha256);
        expect(readdirSync(small)).toEqual([next.path.split('/').at(-1)]);
      } finally {
        unmount();
      }
    },
  );
});

describe('a body bounded by maxSize', () => {
  it('ends a body that announced no size at its first byte past maxSize, and does not try it again', async () => {
    const run = download('/endless-chunked', { maxSize: MiB });
    const error = await run.error();
    expect(error.code).toBe('FW_TOO_LARGE');
    expect(error.message).toMatch(
      /^too large: .* sent more than the 1048576 bytes allowed \(maxSize\), and announced no size$/,
    );
    expect(error.attempts).toBe(1);
    expect(run.mostBytes()).toBeLessThanOrEqual(MiB);
    for (const sent of run.bytesSent()) expect(sent).toBeLessThan(32 * MiB);
    expect(readdirSync(directory)).toEqual([]);
  });

  it('refuses a Content-Length above maxSize before reading the body', async () => {
    const run = download('/endless-with-length', { maxSize: MiB });
    const error = await run.error();
    expect(error.code).toBe('FW_TOO_LARGE');
    expect(error.message).toMatch(
      new RegExp(
        `^too large: .* announced ${3 * 1024 * MiB} bytes \\(Content-Length\\), more than the ${MiB} allowed \\(maxSize\\)$`,
      ),
    );
    expect(run.mostBytes()).toBe(0);
    expect(readdirSync(directory)).toEqual([]);
  });

  it('refuses an update size above maxSize before any request', async () => {
    const run = download('/file', { expectedSize: firmware.length, maxSize: firmware.length - 1 });
    const error = await run.error();
    expect(error.code).toBe('FW_TOO_LARGE');
    expect(error.message).toBe(
      `too large: the update announced ${firmware.length} bytes, more than the ${firmware.length - 1} allowed (maxSize)`,
    );
    expect(run.requests()).toHaveLength(0);
  });

  it('refuses a size that is not a whole number of bytes before any request', async () => {
    for (const [option, value] of [
      ['expectedSize', Number.NaN],
      ['expectedSize', -1],
      ['expectedSize', 1.5],
      ['maxSize', -5],
    ] as const) {
      const run = download('/endless-chunked', { [option]: value });
      const error = await run.error();
      expect(error.code).toBe('FW_SIZE_INVALID');
      expect(error.message).toBe(`invalid size: ${option} must be a whole number of bytes, got ${value}`);
      expect(run.requests()).toHaveLength(0);
    }
  });
});

describe('a host that drips bytes', () => {
  const floor = { minBytesPerSecond: 1024, minRateWindowMs: 300 };

  it('ends the attempt when the body averages less than the floor over a window, and tries again', async () => {
    const run = download('/drip', { ...floor, retry: { ...fast, maxAttempts: 2 } });
    const error = await run.error();
    expect(error.code).toBe('FW_TOO_SLOW');
    expect(error.message).toMatch(
      /^too slow: https:\/\/127\.0\.0\.1:\d+\/drip: \d+ bytes in the last 0\.\d s \(\d+ B\/s\), below the minimum of 1024 B\/s, after \d+ bytes \(2 attempts\)$/,
    );
    const rate = Number(/\((\d+) B\/s\)/.exec(error.message)![1]);
    expect(rate).toBeLessThan(1024);
    expect(error.attempts).toBe(2);
    expect(run.requests()).toHaveLength(2);
    expect(readdirSync(directory)).toEqual([]);
  });

  it('lets a slow link above the floor finish', async () => {
    const done = await download('/slow-link', {
      ...floor,
      expectedSha256: createHash('sha256').update(slowLink).digest('hex'),
    }).result;
    expect(done).toMatchObject({ size: slowLink.length, attempts: 1 });
  });

  it('refuses a floor the bandwidth cap would fail, or a negative one, before any request', async () => {
    for (const [extra, text] of [
      [
        { minBytesPerSecond: 4096, maxBytesPerSecond: 4096 },
        'minBytesPerSecond (4096) must be below maxBytesPerSecond (4096)',
      ],
      [{ minBytesPerSecond: -1 }, 'minBytesPerSecond must be 0 or more, got -1'],
      [{ minRateWindowMs: 0 }, 'minRateWindowMs must be a positive number of milliseconds, got 0'],
    ] as const) {
      const run = download('/file', extra);
      const error = await run.error();
      expect(error.code).toBe('FW_RATE_INVALID');
      expect(error.message).toBe(`invalid rate: ${text}`);
      expect(run.requests()).toHaveLength(0);
    }
  });
});

describe('bodies and offers that can never be right', () => {
  it('asks for an unencoded body and refuses an encoded one with its own code, at once', async () => {
    const run = download('/gzip', { expectedSha256: firmwareSha256 });
    const error = await run.error();
    expect(error.code).toBe('FW_CONTENT_ENCODING');
    expect(error.message).toMatch(/^encoded body refused: .*Content-Encoding "gzip"/);
    expect(error.attempts).toBe(1);
    expect(run.requests()).toHaveLength(1);
    expect(run.requests()[0]!.headers['accept-encoding']).toBe('identity');
    expect(readdirSync(directory)).toEqual([]);
  });

  it('a malformed checksum fails before any request', async () => {
    const run = download('/file', { expectedSha256: firmwareSha256.slice(1) });
    const error = await run.error();
    expect(error.code).toBe('FW_CHECKSUM_INVALID');
    expect(error.message).toMatch(/^malformed checksum: .*\(63 characters\)/);
    expect(run.requests()).toHaveLength(0);
  });

  it('an invalid URL fails at once instead of being retried as a network error', async () => {
    const error = await downloadFirmware({
      url: 'not a url',
      directory,
      retry: { ...fast, baseDelayMs: 60_000, maxDelayMs: 60_000 },
    }).catch((e) => e);
    expect(error.code).toBe('FW_URL_INVALID');
    expect(error.message).toBe('invalid URL: the firmware URL "not a url" cannot be parsed');
  });

  it('a full body with the wrong SHA-256 is downloaded twice, not as often as the attempts allow', async () => {
    const run = download('/file', { expectedSha256: 'A'.repeat(64) });
    const error = await run.error();
    expect(error.code).toBe('FW_CHECKSUM_MISMATCH');
    expect(error.message).toMatch(/^checksum mismatch: .* \(2 attempts\)$/);
    expect(error.attempts).toBe(2);
    expect(run.requests()).toHaveLength(2);
    expect(readdirSync(directory)).toEqual([]);
  });
});
