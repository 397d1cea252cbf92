// Download throughput, CPU time and memory of downloadFirmware against curl on the same URL, in the same run.
// The test-server serves the files from this process; each client runs in its own process, timed by bash. Two
// setups on a machine of two cores or more: `pinned` (the server on core 1, the client on core 0, as a device whose
// server is elsewhere) and `unpinned` (both free); every round runs each client once in each setup, in an order
// that rotates. Figures: medians of BENCH_RUNS rounds with their spread (min–max), and the load average.
//
// Environment: BENCH_SIZES_MIB (64,512), BENCH_RUNS (5), BENCH_SETUPS (pinned,unpinned).
import { execFile, execFileSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startTestServer } from '@nerves-hub-link/test-server';

const run = promisify(execFile);
const MiB = 1024 * 1024;
const SIZES = (process.env.BENCH_SIZES_MIB ?? '64,512').split(',').map(Number);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const SETUPS = {
  pinned: { client: 'taskset -c 0 ', server: '1' },
  unpinned: { client: '', server: `0-${availableParallelism() - 1}` },
};
const setupNames = (process.env.BENCH_SETUPS ?? 'pinned,unpinned')
  .split(',')
  .filter((name) => name !== 'pinned' || availableParallelism() >= 2);
const client = fileURLToPath(new URL('./download-client.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'download-bench-'));
const loadAverage = () => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const spread = (values, digits = 2) =>
  `${median(values).toFixed(digits)} (${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)})`;

function makeFile(path, bytes) {
  const fd = openSync(path, 'w');
  const block = Buffer.alloc(4 * MiB);
  for (let written = 0; written < bytes; written += block.length)
    writeSync(fd, randomFillSync(block), 0, Math.min(block.length, bytes - written));
  closeSync(fd);
}

/** Runs a command under bash's `time`: wall, user and system seconds, and the command's stdout. */
async function timed(command) {
  const { stdout, stderr } = await run('bash', ['-c', `TIMEFORMAT='%R %U %S'; time ( ${command} )`], {
    maxBuffer: 16 * MiB,
  });
  const [real, user, sys] = stderr.trim().split('\n').at(-1).split(' ').map(Number);
  return { real, cpu: user + sys, stdout };
}

const pinServer = (cpus) =>
  execFileSync('taskset', ['-a', '-p', '-c', cpus, String(process.pid)], { stdio: 'ignore' });

const server = await startTestServer();
const loadAtStart = loadAverage();
const loads = [];
const rows = [];
try {
  for (const mib of SIZES) {
    const file = join(dir, `firmware-${mib}.fw`);
    makeFile(file, mib * MiB);
    const { id } = await server.addFirmware(file);
    const url = server.firmwareUrl(id);
    const out = join(dir, 'out');
    const clients = {
      curl: async (setup) => {
        const result = await timed(
          `${SETUPS[setup].client}curl -sS --fail --cacert '${server.ca.certFile}' -o '${join(dir, 'curl.out')}' '${url}'`,
        );
        rmSync(join(dir, 'curl.out'), { force: true });
        return result;
      },
      ours: async (setup) => {
        const result = await timed(
          `${SETUPS[setup].client}'${process.execPath}' '${client}' '${url}' '${server.ca.certFile}' '${out}'`,
        );
        const report = JSON.parse(result.stdout.trim().split('\n').at(-1));
        rmSync(out, { recursive: true, force: true });
        return { ...result, peakAboveIdle: report.peakRss - report.idleRss };
      },
    };
    const plan = setupNames.flatMap((setup) => Object.keys(clients).map((name) => [setup, name]));
    const results = new Map(plan.map(([setup, name]) => [`${setup} ${name}`, []]));
    for (let round = 0; round < RUNS; round++) {
      for (let k = 0; k < plan.length; k++) {
        const [setup, name] = plan[(round + k) % plan.length];
        pinServer(SETUPS[setup].server);
        loads.push(loadAverage());
        results.get(`${setup} ${name}`).push(await clients[name](setup));
      }
    }
    pinServer(SETUPS.unpinned.server);
    for (const setup of setupNames) {
      const ours = results.get(`${setup} ours`);
      const curl = results.get(`${setup} curl`);
      rows.push({
        mib,
        setup,
        ours: ours.map((r) => (mib * MiB) / 1e6 / r.real),
        curl: curl.map((r) => (mib * MiB) / 1e6 / r.real),
        throughputRatio: median(curl.map((r) => r.real)) / median(ours.map((r) => r.real)),
        cpuRatio: median(ours.map((r) => r.cpu)) / median(curl.map((r) => r.cpu)),
        peakAboveIdleMiB: Math.max(...ours.map((r) => r.peakAboveIdle)) / MiB,
      });
    }
    rmSync(file, { force: true });
  }
} finally {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
}

console.log(
  `download over loopback HTTPS from the test-server, ${RUNS} interleaved rounds, median (min–max), each client in its own process`,
);
console.log(
  `load average: ${loadAtStart} at the start, ${loadAverage()} at the end, ${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)} at the start of a run`,
);
console.log(
  '  size      setup     ours MB/s           curl MB/s           throughput ours/curl   CPU ours/curl   peak RSS above idle',
);
for (const r of rows) {
  console.log(
    `  ${`${r.mib} MiB`.padEnd(9)} ${r.setup.padEnd(9)} ${spread(r.ours, 0).padEnd(19)} ${spread(r.curl, 0).padEnd(19)} ${`${r.throughputRatio.toFixed(2)}x`.padStart(20)}   ${`${r.cpuRatio.toFixed(2)}x`.padStart(13)}   ${`${r.peakAboveIdleMiB.toFixed(1)} MiB`.padStart(19)}`,
  );
}
console.log('  goals: throughput >= 0.9x curl; peak RSS <= 32 MiB above idle for every size');
