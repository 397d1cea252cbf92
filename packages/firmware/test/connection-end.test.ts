// downloadFirmware against hosts whose connection ends while the download holds the body back (waiting for its
// file to open, or for the bandwidth cap): closed at every byte of a body, reset under a cap, a keep-alive
// connection closed by an idle server while the capped download still drains it. A connection that ends early is
// a network error to retry; a body whose announced bytes have all arrived is complete, whatever the connection
// does next; nothing ever takes the process down.
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createServer as createTlsServer } from 'node:tls';
import { CertificateStore } from '@nerves-hub-link/test-server';
import { type RawHttpsHost, startRawHttpsHost } from '@nerves-hub-link/test-server/testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type DownloadFirmwareOptions, downloadFirmware } from '../src/index.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex').toUpperCase();

/** Small enough to arrive in one read with its headers: the case where the body is held for its file. */
const small = randomBytes(128);
const large = randomBytes(2 * MiB);
const bodies: Record<string, Buffer> = { small, large };

let certDir: string;
let tls: { cert: string; key: string };
let ca: string;
let host: RawHttpsHost;
let directory: string;

beforeAll(async () => {
  certDir = await mkdtemp(join(tmpdir(), 'connection-end-certs-'));
  const store = await CertificateStore.create(certDir);
  const server = await store.pair('server');
  tls = { cert: server.certPem, key: server.keyPem };
  ca = (await store.pair('server-ca')).certPem;
  // `/<close|keep-alive>/<body>/<bytes>`: that body's Content-Length, its first <bytes> bytes, then the
  // connection closes, whether the response said it would (`Connection: close`) or not.
  host = await startRawHttpsHost(tls, async (request, reply) => {
    const [, connection = '', name = '', sent = ''] = request.path.split('/');
    const body = bodies[name]!;
    const close = connection === 'close' ? 'Connection: close\r\n' : '';
    await reply.write(`HTTP/1.1 200 OK\r\n${close}Content-Length: ${body.length}\r\n\r\n`);
    await reply.write(body.subarray(0, Number(sent)));
  });
});
afterAll(async () => {
  await host?.close();
  await rm(certDir, { recursive: true, force: true });
});
/** What would have ended the process: undici's AssertionError is thrown from a socket's event handler. */
const uncaught: unknown[] = [];
const onUncaught = (error: unknown) => uncaught.push(error);
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'connection-end-'));
  uncaught.length = 0;
  process.on('uncaughtException', onUncaught);
});
afterEach(async () => {
  process.off('uncaughtException', onUncaught);
  await rm(directory, { recursive: true, force: true });
  expect(uncaught).toEqual([]);
});

const once1 = { maxAttempts: 1, idleTimeoutMs: 5_000 };

function download(url: string, body: Buffer, extra: Partial<DownloadFirmwareOptions> = {}) {
  return downloadFirmware({ url, directory, ca, expectedSha256: sha256(body), retry: once1, ...extra });
}

/** The download's outcome in a word and a number: 'done' with the size, or the error code with its message. */
async function outcome(result: Promise<{ size: number }>): Promise<string> {
  try {
    return `done ${(await result).size}`;
  } catch (error) {
    const { code, message } = error as { code: string; message: string };
    return `${code} ${message}`;
  }
}

describe('a connection closed at every byte of the body', () => {
  for (const [label, connection, cap] of [
    ['', 'close', undefined],
    [' under a bandwidth cap', 'close', 1 * MiB],
    [' of a keep-alive response', 'keep-alive', undefined],
  ] as const) {
    it(`is a network error before the last byte and a whole file at it${label}`, async () => {
      const outcomes: string[] = [];
      const expected: string[] = [];
      for (let sent = 0; sent <= small.length; sent++) {
        const url = `${host.origin}/${connection}/small/${sent}`;
        const result = download(url, small, cap ? { maxBytesPerSecond: cap } : {});
        // undici names the early end by how it noticed it (a length mismatch, the other side closing).
        outcomes.push(`${sent}: ${await outcome(result)}`.replace(url, 'URL').replace(/UND_ERR_\w+/, 'UND'));
        expected.push(
          sent < small.length
            ? `${sent}: FW_NETWORK network error: URL: UND after ${sent} bytes`
            : `${sent}: done ${small.length}`,
        );
        expect(readdirSync(directory).filter((name) => name.endsWith('.part'))).toEqual([]);
      }
      expect(outcomes).toEqual(expected);
    });
  }

  for (const cap of [1 * MiB, 4 * MiB]) {
    it(`downloads a body the host closes right after, reading at ${cap / MiB} MiB/s`, async () => {
      const body = large.subarray(0, cap / 2);
      bodies[`half-${cap}`] = body;
      const done = await download(`${host.origin}/close/half-${cap}/${body.length}`, body, {
        maxBytesPerSecond: cap,
      });
      expect(done).toMatchObject({ size: body.length, sha256: sha256(body), attempts: 1 });
    });
  }
});

describe('a body held back by the bandwidth cap', () => {
  it('holds the sender back: TCP, not memory, takes what the cap does not read yet', async () => {
    const endless = await startRawHttpsHost(tls, async (_request, reply) => {
      await reply.write(`HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: ${1024 * MiB}\r\n\r\n`);
      await reply.endless(large.subarray(0, 64 * KiB), 'raw');
    });
    try {
      const controller = new AbortController();
      let read = 0;
      const result = download(`${endless.origin}/f.fw`, large, {
        maxBytesPerSecond: 64 * KiB,
        signal: controller.signal,
        onProgress: ({ bytes }) => {
          read = bytes;
          if (bytes > 32 * KiB) controller.abort();
        },
      });
      expect((await result.catch((e) => e)).code).toBe('FW_ABORTED');
      expect(read).toBeLessThan(256 * KiB);
      // Socket buffers on both ends of a loopback connection: a few MiB at most. A reader that did not hold
      // the socket would have taken hundreds.
      expect(endless.bytesWritten[0]).toBeLessThan(32 * MiB);
    } finally {
      await endless.close();
    }
  });

  it('does not count the time it holds the body as the host being idle', async () => {
    const body = large.subarray(0, 1500);
    const twoParts = await startRawHttpsHost(tls, async (_request, reply) => {
      await reply.write(`HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: ${body.length}\r\n\r\n`);
      await reply.write(body.subarray(0, 1100));
      await sleep(50);
      await reply.write(body.subarray(1100));
    });
    try {
      // 1,100 bytes at 1 KiB/s hold reading for about a second, three idle timeouts.
      const done = await download(`${twoParts.origin}/f.fw`, body, {
        maxBytesPerSecond: 1024,
        minBytesPerSecond: 0,
        retry: { ...once1, idleTimeoutMs: 300 },
      });
      expect(done).toMatchObject({ size: body.length, attempts: 1 });
    } finally {
      await twoParts.close();
    }
  });
});

describe('a connection reset under the bandwidth cap', () => {
  it('is a network error to retry (or a whole file if every byte was read first), never a crash', async () => {
    const body = large.subarray(0, 256 * KiB);
    const raw: Socket[] = [];
    const server = createTlsServer(tls, (socket) => {
      const tcp = raw.shift()!;
      socket.on('error', () => {});
      socket.once('data', () => {
        socket.write(`HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: ${body.length}\r\n\r\n`);
        socket.write(body, () => tcp.resetAndDestroy());
      });
    });
    server.on('connection', (tcp: Socket) => raw.push(tcp));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const { port } = server.address() as AddressInfo;
      for (let run = 0; run < 3; run++) {
        const result = await outcome(
          download(`https://127.0.0.1:${port}/f.fw`, body, {
            maxBytesPerSecond: 1 * MiB,
            retry: { ...once1, maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 10 },
          }),
        );
        expect(result).toMatch(
          new RegExp(
            `^(done ${body.length}|FW_NETWORK network error: .* after \\d+ bytes \\(2 attempts\\))$`,
          ),
        );
        expect(readdirSync(directory).filter((name) => name.endsWith('.part'))).toEqual([]);
      }
    } finally {
      server.close();
    }
  });
});

describe('a body whose announced bytes have all arrived', () => {
  it('is complete when the idle server closes its keep-alive connection while a capped download drains it', async () => {
    const body = large.subarray(0, 320 * KiB);
    const requests: string[] = [];
    const server = createHttpsServer(tls, (request, response) => {
      requests.push(request.headers['x-retry-number'] as string);
      response.writeHead(200, { 'content-length': body.length }).end(body);
    });
    // Node's default is 5 s (Apache's too); the capped download below takes 1.25 s, and the server has written
    // the whole body into the socket buffers long before.
    server.keepAliveTimeout = 50;
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const { port } = server.address() as AddressInfo;
      const done = await download(`https://127.0.0.1:${port}/f.fw`, body, {
        expectedSize: body.length,
        maxBytesPerSecond: 256 * KiB,
        retry: { ...once1, maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 10 },
      });
      expect(done).toMatchObject({ size: body.length, sha256: sha256(body), attempts: 1 });
      expect(requests).toEqual(['0']);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('is complete when the connection closes before the chunked body is terminated', async () => {
    const body = small;
    const chunked = await startRawHttpsHost(tls, async (_request, reply) => {
      await reply.write('HTTP/1.1 200 OK\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n');
      for (let at = 0; at < body.length; at += 100) {
        const chunk = body.subarray(at, at + 100);
        await reply.write(`${chunk.length.toString(16)}\r\n`);
        await reply.write(chunk);
        await reply.write('\r\n');
      }
      // No last chunk (`0\r\n\r\n`): the connection just ends.
    });
    try {
      const done = await download(`${chunked.origin}/f.fw`, body, { expectedSize: body.length });
      expect(done).toMatchObject({ size: body.length, sha256: sha256(body) });
      // Without a size from the update, the end of the body is unknown: the same close is a network error.
      const error = await download(`${chunked.origin}/f.fw`, body).catch((e) => e);
      expect(error.code).toBe('FW_NETWORK');
    } finally {
      await chunked.close();
    }
  });
});
