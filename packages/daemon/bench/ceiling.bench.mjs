// Where the time of a firmware download goes, part by part, in Node and with the standard tools, on the same
// 1 GiB HTTPS URL in the same run: reading the TLS socket alone (with a buffer per TLS record, and into one reused
// buffer), through undici, hashing alone, writing the file alone, and together as downloadFirmware does. Each in
// its own process (bench/ceiling-client.mjs; curl, openssl, cat), timed by GNU time, median of BENCH_RUNS (3).
// The test-server serves from this process. Before every run: `sync`, and a pause until the machine is quiet.
import { spawn } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestServer } from '@nerves-hub-link/test-server';
import { settle } from './quiet-machine.mjs';
import { requireTools } from './tools.mjs';

requireTools(['/usr/bin/time', 'curl', 'openssl', 'sha256sum']);

const MiB = 1024 * 1024;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SETTLE_MS = Number(process.env.BENCH_SETTLE_MS ?? 3000);
const client = fileURLToPath(new URL('./ceiling-client.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'ceiling-bench-'));
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

function timed(argv) {
  const report = join(dir, 'time.out');
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-f', '%e %U %S', '-o', report, ...argv], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`${argv.join(' ')} exited with ${code}`));
      const [wall, user, system] = readFileSync(report, 'utf8')
        .trim()
        .split('\n')
        .at(-1)
        .split(' ')
        .map(Number);
      resolve({ wall, cpu: user + system });
    });
  });
}

const firmware = join(dir, 'firmware.bin');
const fd = openSync(firmware, 'w');
const block = Buffer.alloc(4 * MiB);
for (let written = 0; written < 1024 * MiB; written += block.length) writeSync(fd, randomFillSync(block));
closeSync(fd);
const server = await startTestServer();
const rows = [];
try {
  const { id } = await server.addFirmware(firmware);
  const url = server.firmwareUrl(id);
  const ca = server.ca.certFile;
  const out = join(dir, 'out');
  const node = (mode) => [process.execPath, client, mode, url, ca, out];
  const cases = [
    ['Node: SHA-256 alone (16 KiB chunks from memory)', node('hash')],
    ['Node: file write alone (16 KiB writeSync, fsync)', node('write')],
    ['Node: TLS socket, a buffer per record, discard', node('tls')],
    ['Node: TLS socket, one reused buffer (onread), discard', node('tls-onread')],
    ['Node: TLS socket + SHA-256', node('tls+hash')],
    ['Node: undici dispatcher, discard', node('undici')],
    ['Node: undici dispatcher + SHA-256', node('undici+hash')],
    ['Node: downloadFirmware (undici, SHA-256, write, fsync)', node('download')],
    ['curl -o /dev/null', ['curl', '-sS', '--fail', '--cacert', ca, '-o', '/dev/null', url]],
    ['curl -o file', ['curl', '-sS', '--fail', '--cacert', ca, '-o', out, url]],
    ['openssl dgst -sha256 (file in page cache)', ['openssl', 'dgst', '-sha256', firmware]],
    ['sha256sum (file in page cache)', ['sha256sum', firmware]],
    ['cat file > /dev/null', ['bash', '-c', `cat '${firmware}' >/dev/null`]],
  ];
  const results = new Map(cases.map(([label]) => [label, []]));
  for (let i = 0; i < RUNS; i++) {
    for (const [label, argv] of cases) {
      await settle({ settleMs: SETTLE_MS });
      results.get(label).push(await timed(argv));
      rmSync(out, { recursive: true, force: true });
    }
  }
  for (const [label] of cases) {
    const runs = results.get(label);
    rows.push({ label, wall: median(runs.map((r) => r.wall)), cpu: median(runs.map((r) => r.cpu)) });
  }
} finally {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
}
console.log(`1 GiB over loopback HTTPS from the test-server, median of ${RUNS} (each in its own process)`);
console.log('  what                                                      wall s   CPU s    MB/s');
for (const r of rows) {
  console.log(
    `  ${r.label.padEnd(56)} ${r.wall.toFixed(2).padStart(6)}  ${r.cpu.toFixed(2).padStart(6)}  ${((1024 * MiB) / 1e6 / r.wall).toFixed(0).padStart(6)}`,
  );
}
