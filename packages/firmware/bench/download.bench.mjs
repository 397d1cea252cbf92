// Download throughput, CPU time and memory of downloadFirmware against curl on the same URL, in the same run.
// The test-server serves the files from this process; each client runs in its own process, timed by bash.
import { execFile } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startTestServer } from '@nerves-hub-link/test-server';

const run = promisify(execFile);
const MiB = 1024 * 1024;
const SIZES = (process.env.BENCH_SIZES_MIB ?? '64,512').split(',').map(Number);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const client = fileURLToPath(new URL('./download-client.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'download-bench-'));

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

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const server = await startTestServer();
const rows = [];
try {
  for (const mib of SIZES) {
    const file = join(dir, `firmware-${mib}.fw`);
    makeFile(file, mib * MiB);
    const { id } = await server.addFirmware(file);
    const ours = [];
    const tuned = [];
    const curl = [];
    const memory = [];
    const tunedMemory = [];
    for (let i = 0; i < RUNS; i++) {
      const out = join(dir, 'out');
      rmSync(out, { recursive: true, force: true });
      const url = server.firmwareUrl(id);
      const a = await timed(
        `curl -sS --fail --cacert '${server.ca.certFile}' -o '${join(dir, 'curl.out')}' '${url}'`,
      );
      curl.push(a);
      rmSync(join(dir, 'curl.out'), { force: true });
      for (const [flags, times, peaks] of [
        ['', ours, memory],
        // How the shipped systemd unit runs the daemon: a small young generation frees chunk buffers sooner.
        ['--max-semi-space-size=1', tuned, tunedMemory],
      ]) {
        const b = await timed(
          `'${process.execPath}' ${flags} '${client}' '${url}' '${server.ca.certFile}' '${out}'`,
        );
        times.push(b);
        const report = JSON.parse(b.stdout.trim().split('\n').at(-1));
        peaks.push(report.peakRss - report.idleRss);
        rmSync(out, { recursive: true, force: true });
      }
    }
    const curlReal = median(curl.map((r) => r.real));
    const curlCpu = median(curl.map((r) => r.cpu));
    for (const [label, times, peaks] of [
      ['default', ours, memory],
      ['semi-space 1', tuned, tunedMemory],
    ]) {
      const real = median(times.map((r) => r.real));
      rows.push({
        mib,
        label,
        oursMBs: (mib * MiB) / 1e6 / real,
        curlMBs: (mib * MiB) / 1e6 / curlReal,
        throughputRatio: curlReal / real,
        cpuRatio: median(times.map((r) => r.cpu)) / curlCpu,
        peakAboveIdleMiB: Math.max(...peaks) / MiB,
      });
    }
    rmSync(file, { force: true });
  }
} finally {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
}

console.log(
  `download over loopback HTTPS from the test-server, median of ${RUNS} runs (each client in its own process)`,
);
console.log(
  '  size      node flags     ours MB/s   curl MB/s   throughput ours/curl   CPU ours/curl   peak RSS above idle',
);
for (const r of rows) {
  console.log(
    `  ${`${r.mib} MiB`.padEnd(9)} ${r.label.padEnd(14)} ${r.oursMBs.toFixed(0).padStart(9)}   ${r.curlMBs.toFixed(0).padStart(9)}   ${`${r.throughputRatio.toFixed(2)}x`.padStart(20)}   ${`${r.cpuRatio.toFixed(2)}x`.padStart(13)}   ${`${r.peakAboveIdleMiB.toFixed(1)} MiB`.padStart(19)}`,
  );
}
console.log('  goals: throughput >= 0.9x curl; peak RSS <= 32 MiB above idle for every size');
