// The firmware host over real HTTPS: presigned URLs and every injected fault, as a client sees them.
import { get } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { smallFixtures } from '../src/fixtures/index.js';
import { type FirmwareFault, startTestServer, type TestServer } from '../src/index.js';

let server: TestServer;
let id: string;
beforeAll(async () => {
  server = await startTestServer();
  id = (await server.addFirmware(smallFixtures.unsigned)).id;
});
afterAll(() => server?.close());

interface Result {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  bytes: Buffer;
  error?: string;
}

function fetchRaw(url: string, idleMs = 1500): Promise<Result> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const req = get(url, { ca: server.ca.certPem, agent: false }, (res) => {
      let timer = setTimeout(() => req.destroy(new Error('stalled')), idleMs);
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        clearTimeout(timer);
        timer = setTimeout(() => req.destroy(new Error('stalled')), idleMs);
      });
      const done = (error?: Error) => {
        clearTimeout(timer);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          bytes: Buffer.concat(chunks),
          ...(error ? { error: error.message } : {}),
        });
      };
      res.on('end', () => done());
      res.on('error', done);
      res.on('aborted', () => done(new Error('aborted')));
    });
    req.on('error', (error) =>
      resolve({ status: 0, headers: {}, bytes: Buffer.concat(chunks), error: error.message }),
    );
  });
}

const url = (fault?: FirmwareFault, expiresInSeconds?: number) =>
  server.firmwareUrl(id, {
    ...(fault ? { fault } : {}),
    ...(expiresInSeconds !== undefined ? { expiresInSeconds } : {}),
  });

describe('firmware host', () => {
  it('serves the file with Content-Length', async () => {
    const result = await fetchRaw(url());
    expect(result.status).toBe(200);
    expect(Number(result.headers['content-length'])).toBe(262928);
    expect(result.bytes.length).toBe(262928);
  });

  it('refuses a tampered signature and an expired URL with 403', async () => {
    expect(
      (await fetchRaw(url().replace(/X-Amz-Signature=[0-9a-f]+/, `X-Amz-Signature=${'0'.repeat(64)}`)))
        .status,
    ).toBe(403);
    const expired = await fetchRaw(url(undefined, -1));
    expect(expired.status).toBe(403);
    expect(expired.bytes.toString()).toContain('Request has expired');
    expect((await fetchRaw(url({ kind: 'expired' }))).status).toBe(403);
  });

  it('answers injected statuses, with Retry-After', async () => {
    const result = await fetchRaw(url({ kind: 'status', status: 503, retryAfterSeconds: 2 }));
    expect(result.status).toBe(503);
    expect(result.headers['retry-after']).toBe('2');
    expect((await fetchRaw(url({ kind: 'status', status: 404 }))).status).toBe(404);
  });

  it('drops the connection at a byte, stalls at a byte, corrupts a byte, lies about the length', async () => {
    const dropped = await fetchRaw(url({ kind: 'drop', atByte: 1000 }));
    expect(dropped.bytes.length).toBe(1000);
    expect(dropped.error).toBeDefined();
    const stalled = await fetchRaw(url({ kind: 'stall', atByte: 5000 }), 300);
    expect(stalled.bytes.length).toBe(5000);
    expect(stalled.error).toBeDefined();
    const corrupt = await fetchRaw(url({ kind: 'corrupt', atByte: 100 }));
    const clean = await fetchRaw(url());
    expect(corrupt.bytes.length).toBe(clean.bytes.length);
    expect(corrupt.bytes[100]).toBe(clean.bytes[100]! ^ 0xff);
    const short = await fetchRaw(url({ kind: 'wrong-length', contentLength: 1000 }));
    expect(short.headers['content-length']).toBe('1000');
    expect(short.bytes.length).toBe(1000);
    const long = await fetchRaw(url({ kind: 'wrong-length', contentLength: 300_000 }));
    expect(long.headers['content-length']).toBe('300000');
    expect(long.bytes.length).toBe(262928);
    expect(long.error).toBeDefined();
  });

  it('redirects a bounded number of times, or forever', async () => {
    const first = await fetchRaw(url({ kind: 'redirects', count: 2 }));
    expect(first.status).toBe(302);
    const loop = await fetchRaw(url({ kind: 'redirect-loop' }));
    expect(loop.status).toBe(302);
    const again = await fetchRaw(new URL(String(loop.headers.location), server.url).toString());
    expect(again.status).toBe(302);
  });

  it('applies a fault to the first N requests only, and logs every request', async () => {
    const once = url({ kind: 'status', status: 500, times: 1 });
    expect((await fetchRaw(once)).status).toBe(500);
    expect((await fetchRaw(once)).status).toBe(200);
    const log = server.firmwareRequests.slice(-2);
    expect(log.map((r) => r.status)).toEqual([500, 200]);
  });
});
