// Child process of the ceiling benchmark: one way of getting the firmware (or one part of the work), then its
// own timing as JSON. Usage: node ceiling-client.mjs <mode> <url> <ca file> <output file>
//   hash        SHA-256 of 1 GiB in 16 KiB chunks from memory (no network, no file)
//   write       1 GiB written in 16 KiB chunks with writeSync, as curl writes (no network)
//   write+fsync the same, then fsync (what the download did before it stopped syncing)
//   write-pool  1 GiB written in 256 KiB blocks of 16 KiB chunks, pwritev on the thread pool, one at a time,
//               as downloadFirmware writes (no network)
//   tls         GET over a bare TLS socket, body discarded ('data' events: a new buffer per TLS record)
//   tls-onread  the same, reading into one reused buffer (net's `onread`): no buffer per record
//   tls+hash    the bare TLS socket, body hashed
//   undici      GET through undici's dispatcher API (as the daemon does), body discarded
//   undici+hash the same, body hashed
//   download    downloadFirmware: undici, SHA-256, the file written (what the daemon runs); from the module given
//               as CEILING_FIRMWARE_MODULE (another build) when set, else from @nerves-hub-link/firmware
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { connect } from 'node:tls';
import { setFlagsFromString } from 'node:v8';

// The daemon's own V8 settings (src/runtime/v8-flags.ts), so that the undici modes run as in the daemon.
setFlagsFromString('--liftoff-only');
setFlagsFromString('--semi-space-growth-factor=1');

const [mode, url, caFile, out] = process.argv.slice(2);
const ca = caFile ? readFileSync(caFile, 'utf8') : undefined;
const GiB = 1024 * 1024 * 1024;
const CHUNK = 16 * 1024;
const t0 = performance.now();
let bytes = 0;

function tlsGet(onBody, { onread } = {}) {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    let header = true;
    let total = Number.POSITIVE_INFINITY;
    const take = (chunk) => {
      let body = chunk;
      if (header) {
        const end = body.indexOf('\r\n\r\n');
        total = Number(/content-length: *(\d+)/i.exec(body.subarray(0, end).toString())[1]);
        body = body.subarray(end + 4);
        header = false;
      }
      bytes += body.length;
      onBody(body);
      if (bytes >= total) {
        socket.destroy();
        resolve();
      }
    };
    const socket = connect(
      {
        host: target.hostname,
        port: Number(target.port),
        ca,
        ...(onread
          ? {
              onread: {
                buffer: Buffer.allocUnsafe(64 * 1024),
                callback: (n, buf) => take(buf.subarray(0, n)),
              },
            }
          : {}),
      },
      () => socket.write(`GET ${target.pathname}${target.search} HTTP/1.1\r\nhost: ${target.host}\r\n\r\n`),
    );
    if (!onread) socket.on('data', take);
    socket.on('error', reject);
  });
}

function undiciGet(onBody) {
  const firmware = import.meta.resolve('@nerves-hub-link/firmware');
  const { Agent } = createRequire(firmware)('undici');
  const target = new URL(url);
  const agent = new Agent({ connect: { ca } });
  return new Promise((resolve, reject) => {
    agent.dispatch(
      { origin: target.origin, path: `${target.pathname}${target.search}`, method: 'GET' },
      {
        onRequestStart() {},
        onResponseStart() {},
        onResponseData(_controller, chunk) {
          bytes += chunk.length;
          onBody(chunk);
        },
        onResponseEnd() {
          resolve();
        },
        onResponseError(_controller, error) {
          reject(error);
        },
      },
    );
  }).finally(() => agent.close());
}

const hash = createHash('sha256');
if (mode === 'hash') {
  const chunk = Buffer.alloc(CHUNK, 7);
  for (; bytes < GiB; bytes += CHUNK) hash.update(chunk);
} else if (mode === 'write' || mode === 'write+fsync') {
  const chunk = Buffer.alloc(CHUNK, 7);
  const fd = openSync(out, 'w', 0o600);
  for (; bytes < GiB; bytes += CHUNK) writeSync(fd, chunk, 0, CHUNK, bytes);
  if (mode === 'write+fsync') fsyncSync(fd);
  closeSync(fd);
} else if (mode === 'write-pool') {
  const file = await open(out, 'w', 0o600);
  const blockChunks = (256 * 1024) / CHUNK;
  // Two blocks of 16 KiB buffers, each filled while the other is written.
  const blocks = [0, 1].map(() => Array.from({ length: blockChunks }, () => Buffer.alloc(CHUNK, 7)));
  let writing = Promise.resolve();
  for (let i = 0; bytes < GiB; i++) {
    await writing;
    writing = file.writev(blocks[i % 2], bytes);
    bytes += blockChunks * CHUNK;
  }
  await writing;
  await file.close();
} else if (mode === 'tls') await tlsGet(() => {});
else if (mode === 'tls-onread') await tlsGet(() => {}, { onread: true });
else if (mode === 'tls+hash') await tlsGet((chunk) => hash.update(chunk));
else if (mode === 'undici') await undiciGet(() => {});
else if (mode === 'undici+hash') await undiciGet((chunk) => hash.update(chunk));
else if (mode === 'download') {
  const { downloadFirmware } = await import(
    process.env.CEILING_FIRMWARE_MODULE ?? '@nerves-hub-link/firmware'
  );
  const result = await downloadFirmware({ url, directory: out, ca });
  bytes = result.size;
} else throw new Error(`unknown mode ${mode}`);
const seconds = (performance.now() - t0) / 1000;
if (out) rmSync(out, { recursive: true, force: true });
process.stdout.write(`${JSON.stringify({ mode, bytes, seconds })}\n`);
