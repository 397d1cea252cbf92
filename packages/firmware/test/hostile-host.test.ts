// downloadFirmware against a host that does what no well-behaved server does: bodies that never end or run past
// what was announced, encoded bodies, and a disk that fills up or cannot be written. Every attempt must end, with
// its own code, leaving nothing on disk, and the next download must work.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { CertificateStore } from '@nerves-hub-link/test-server';
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
const firmware = readFileSync(fileURLToPath(new URL('./fixtures/small.fw', import.meta.url)));
const firmwareSha256 = createHash('sha256').update(firmware).digest('hex').toUpperCase();
const filler = Buffer.alloc(64 * 1024, 0x5a);

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
    'a body that never ends, with no size announced, on a 4 MiB file system: ends when the disk is full, the disk is empty again, the next download works',
    async () => {
      const small = join(directory, 'small');
      const unmount = mountSmallFilesystem(small, 4 * MiB);
      try {
        const run = download('/endless-chunked', { directory: small });
        const error = await run.error();
        expect(error.code).toBe('FW_NO_SPACE');
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
