// Where the time of a firmware download goes, part by part, in Node and with the standard tools, on the same
// 1 GiB HTTPS URL in the same run: reading the TLS socket alone (with a buffer per TLS record, and into one reused
// buffer), through undici, hashing alone, writing the file alone (as curl writes, with an fsync, and in blocks on
// the thread pool as downloadFirmware writes), downloadFirmware itself, and beside them the platform's own tools:
// curl, openssl, sha256sum, a read of the file as fwup does one (cat), and deleting it. Each in its own process
// (bench/ceiling-client.mjs; curl, openssl, cat, rm), timed by GNU time, in both setups of stats.mjs (pinned: the
// server on core 1, the part on core 0; unpinned), every round running every part once in each setup; the figures
// are medians of BENCH_RUNS (3) rounds with their spread (min–max). The test-server serves from this process.
// Before every run: `sync`, and a pause until the machine is quiet.
//
// Environment: BENCH_RUNS (3), BENCH_SETUPS (pinned,unpinned), BENCH_SETTLE_MS (3000), BENCH_FIRMWARE_BEFORE (the
// dist/index.js of another build of the firmware package: its downloadFirmware runs beside this one's).
import { spawn } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { closeSync, copyFileSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestServer } from '@nerves-hub-link/test-server';
import { settle } from './quiet-machine.mjs';
import { chosenSetups, loadAverage, onMeasuredCores, pinSelf, SETUPS, spread } from './stats.mjs';
import { requireTools } from './tools.mjs';

requireTools(['/usr/bin/time', 'taskset', 'curl', 'openssl', 'sha256sum']);

const MiB = 1024 * 1024;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SETUP_NAMES = chosenSetups();
const SETTLE_MS = Number(process.env.BENCH_SETTLE_MS ?? 3000);
const before = process.env.BENCH_FIRMWARE_BEFORE;
const client = fileURLToPath(new URL('./ceiling-client.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'ceiling-bench-'));

function timed(argv, setup, env = process.env) {
  const report = join(dir, 'time.out');
  return new Promise((resolve, reject) => {
    const child = spawn(
      '/usr/bin/time',
      ['-f', '%e %U %S', '-o', report, ...onMeasuredCores(setup), ...argv],
      { stdio: ['ignore', 'ignore', 'inherit'], env },
    );
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
const results = new Map();
const loadAtStart = loadAverage();
const loads = [];
let cases;
try {
  const { id } = await server.addFirmware(firmware);
  const url = server.firmwareUrl(id);
  const ca = server.ca.certFile;
  const out = join(dir, 'out');
  const node = (mode) => [process.execPath, client, mode, url, ca, out];
  const curl = (to) => ['curl', '-sS', '--fail', '--cacert', ca, '-o', to, url];
  cases = [
    ['Node: SHA-256 alone (16 KiB chunks from memory)', node('hash')],
    ['Node: file write alone, 16 KiB writeSync (as curl)', node('write')],
    ['Node: the same, then fsync', node('write+fsync')],
    ['Node: file write alone, 256 KiB pwritev on the pool', node('write-pool')],
    ['Node: TLS socket, a buffer per record, discard', node('tls')],
    ['Node: TLS socket, one reused buffer (onread), discard', node('tls-onread')],
    ['Node: TLS socket + SHA-256', node('tls+hash')],
    ['Node: undici dispatcher, discard', node('undici')],
    ['Node: undici dispatcher + SHA-256', node('undici+hash')],
    ['Node: downloadFirmware (undici, SHA-256, write)', node('download')],
    ...(before
      ? [
          [
            'Node: downloadFirmware of BENCH_FIRMWARE_BEFORE',
            node('download'),
            { ...process.env, CEILING_FIRMWARE_MODULE: before },
          ],
        ]
      : []),
    ['curl -o /dev/null', curl('/dev/null')],
    ['curl -o file', curl(out)],
    ['openssl dgst -sha256 (file in page cache)', ['openssl', 'dgst', '-sha256', firmware]],
    ['sha256sum (file in page cache)', ['sha256sum', firmware]],
    ['cat file > /dev/null (a read by fwup)', ['bash', '-c', `cat '${firmware}' >/dev/null`]],
    // The file copied first (not timed): deleting 1 GiB just written, its pages dirty in the page cache.
    ['rm of the 1 GiB file just written', ['rm', out], () => copyFileSync(firmware, out)],
  ];
  const plan = SETUP_NAMES.flatMap((setup) => cases.map((entry) => [setup, ...entry]));
  for (let round = 0; round < RUNS; round++) {
    for (let k = 0; k < plan.length; k++) {
      const [setup, label, argv, third] = plan[(round + k) % plan.length];
      const prepare = typeof third === 'function' ? third : undefined;
      const env = typeof third === 'object' ? third : process.env;
      pinSelf(SETUPS[setup].serverCores);
      await settle({ settleMs: SETTLE_MS });
      // After the settle's sync: the file is deleted with its pages still dirty, as the daemon deletes its own.
      prepare?.();
      loads.push(loadAverage());
      const key = `${setup}\t${label}`;
      if (!results.has(key)) results.set(key, []);
      results.get(key).push(await timed(argv, setup, env));
      rmSync(out, { recursive: true, force: true });
    }
  }
} finally {
  pinSelf(SETUPS.unpinned.serverCores);
  await server.close();
  rmSync(dir, { recursive: true, force: true });
}
console.log(
  `1 GiB over loopback HTTPS from the test-server, each part in its own process; ${RUNS} interleaved rounds, median (min–max)`,
);
console.log(
  `load average: ${loadAtStart} at the start, ${loadAverage()} at the end, ${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)} at the start of a run`,
);
for (const setup of SETUP_NAMES) {
  console.log(
    `  ${setup}${setup === 'pinned' ? ' (server on core 1, the part on core 0)' : ' (both cores for everything)'}`,
  );
  console.log(`    ${'what'.padEnd(56)} ${'wall s'.padEnd(18)} ${'CPU s'.padEnd(18)} MB/s`);
  for (const [label] of cases) {
    const runs = results.get(`${setup}\t${label}`);
    const walls = runs.map((r) => r.wall);
    const rate = (1024 * MiB) / 1e6 / [...walls].sort((a, b) => a - b)[Math.floor(walls.length / 2)];
    console.log(
      `    ${label.padEnd(56)} ${spread(walls).padEnd(18)} ${spread(runs.map((r) => r.cpu)).padEnd(18)} ${rate.toFixed(0).padStart(5)}`,
    );
  }
}
