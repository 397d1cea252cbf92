// A whole firmware update through the bundled daemon, as deployed, against the same work done with standard tools
// on the same HTTPS URL, in the same run. One daemon run: process start, join, the server's offer, download with the
// size and SHA-256 checks and fsync, `fwup -V`, `fwup -a`, statuses, deleting the file, the reboot command, exit. The fwup is
// bench/reading-fwup.sh, which reads the whole file for each of the two runs and does nothing else. The baselines:
//   curl -o F URL && openssl dgst -sha256 F && cat F >/dev/null
//   curl -o F URL && sha256sum F && cat F >/dev/null
// Each configuration runs BENCH_RUNS times (median shown), per firmware size, with every process free to use
// both cores and then pinned to core 0 with the test-server (this process) pinned to core 1.
//
// Wall and CPU (user + system of the process and everything it waited for) come from GNU time, as does the
// daemon's peak RSS. Before every run: `sync`, and a pause until the machine is quiet (see settle()).
//
// Environment: BENCH_SIZES_MIB (64,1024), BENCH_RUNS (3), BENCH_PINNED (1; 0 skips the one-core runs),
// BENCH_NODE_FLAGS and BENCH_DEPLOYED_ENV (the daemon runs with the node options and Environment= of
// systemd/nerves-hub-link.service unless these say otherwise; see deployed.mjs),
// BENCH_BUNDLE (another build of the daemon), BENCH_SETTLE_MS (3000), BENCH_IDLE_CPU (0.1: before every run,
// wait until less than this share of the CPUs is busy), BENCH_QUIET_LOAD (wait until the 1-minute load average
// is below this before starting, e.g. 0.7), BENCH_JSON (also print the rows as JSON).
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import { closeSync, createReadStream, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { startTestServer } from '@nerves-hub-link/test-server';
import { writeBenchDevice } from './bench-device.mjs';
import { deployed } from './deployed.mjs';
import { settle } from './quiet-machine.mjs';
import { requireTools } from './tools.mjs';

requireTools(['/usr/bin/time', 'taskset', 'curl', 'openssl', 'sha256sum']);

const MiB = 1024 * 1024;
const SIZES = (process.env.BENCH_SIZES_MIB ?? '64,1024').split(',').map(Number);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const PINNED = process.env.BENCH_PINNED !== '0' && availableParallelism() >= 2;
const SETTLE_MS = Number(process.env.BENCH_SETTLE_MS ?? 3000);
const IDLE_CPU = Number(process.env.BENCH_IDLE_CPU ?? 0.1);
/** A run taking longer than this has hung. */
const RUN_TIMEOUT_MS = 120_000;
const QUIET_LOAD = process.env.BENCH_QUIET_LOAD ? Number(process.env.BENCH_QUIET_LOAD) : undefined;
const bundle =
  process.env.BENCH_BUNDLE ?? fileURLToPath(new URL('../dist/nerves-hub-link.mjs', import.meta.url));
const asDeployed = deployed();
const dir = mkdtempSync(join(tmpdir(), 'update-bench-'));
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const loadAverage = () => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);

/** A file of random bytes (the firmware host serves any file; reading-fwup.sh does not look inside). */
function makeFirmware(path, bytes) {
  const fd = openSync(path, 'w');
  const block = Buffer.alloc(4 * MiB);
  for (let written = 0; written < bytes; written += block.length)
    writeSync(fd, randomFillSync(block), 0, Math.min(block.length, bytes - written));
  closeSync(fd);
}

/** The test-server's id of a firmware file: the start of its SHA-256. */
async function firmwareId(path) {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * MiB })) hash.update(chunk);
  return hash.digest('hex').slice(0, 16);
}

/** Runs argv under GNU time; resolves with wall and CPU seconds, peak RSS in bytes and the exit code. */
function timed(argv, { pinned = false, env = process.env, stdout = 'ignore', stderrFile } = {}) {
  const report = join(dir, 'time.out');
  const command = [
    '/usr/bin/time',
    '-f',
    '%e %U %S %M',
    '-o',
    report,
    ...(pinned ? ['taskset', '-c', '0'] : []),
    ...argv,
  ];
  const stderr = stderrFile ? openSync(stderrFile, 'w') : 'ignore';
  return new Promise((resolve, reject) => {
    // detached: a run that hangs (no offer, say) is stopped with everything it started.
    const child = spawn(command[0], command.slice(1), {
      env,
      stdio: ['ignore', stdout, stderr],
      detached: true,
    });
    const timer = setTimeout(() => process.kill(-child.pid, 'SIGKILL'), RUN_TIMEOUT_MS);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (typeof stderr === 'number') closeSync(stderr);
      const line = readFileSync(report, 'utf8').trim().split('\n').at(-1);
      const [wall, user, system, maxRssKiB] = line.split(' ').map(Number);
      resolve({ code, wall, cpu: user + system, rss: maxRssKiB * 1024 });
    });
  });
}

/** Pins this process (the test-server, every thread) to `cpus`. */
function pinServer(cpus) {
  execFileSync('taskset', ['-a', '-p', '-c', cpus, String(process.pid)], { stdio: 'ignore' });
}

/**
 * One baseline run: curl, the hash command and cat, each timed on its own (the parts) and the chain as a whole.
 * Returns the chain's wall and CPU, and the parts.
 */
async function baseline(url, caFile, hashCommand, pinned) {
  const out = join(dir, 'curl.out');
  const parts = join(dir, 'parts.out');
  rmSync(parts, { force: true });
  const T = `/usr/bin/time -a -o '${parts}' -f '%e %U %S %M'`;
  const script = [
    'set -e',
    `${T} curl -sS --fail --cacert '${caFile}' -o '${out}' '${url}'`,
    `${T} ${hashCommand} '${out}' >/dev/null`,
    `${T} cat '${out}' >/dev/null`,
  ].join('\n');
  const whole = await timed(['bash', '-c', script], { pinned });
  // Not part of the chain (the goal's baseline), but the daemon's wall includes deleting its file: shown apart.
  const remove = await timed(['rm', '-f', out], { pinned });
  if (whole.code !== 0) throw new Error(`baseline (${hashCommand}) failed with ${whole.code}`);
  const [download, hash, read] = readFileSync(parts, 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const [wall, user, system] = line.split(' ').map(Number);
      return { wall, cpu: user + system };
    });
  return { ...whole, download, hash, read, remove };
}

async function waitForQuiet() {
  if (QUIET_LOAD === undefined) return;
  const deadline = Date.now() + 30 * 60_000;
  while (loadAverage() >= QUIET_LOAD && Date.now() < deadline) await sleep(10_000);
}

let waitedForQuiet = 0;
const rows = [];
try {
  await waitForQuiet();
  const loadAtStart = loadAverage();
  for (const mib of SIZES) {
    const firmwarePath = join(dir, `firmware-${mib}.bin`);
    makeFirmware(firmwarePath, mib * MiB);
    const id = await firmwareId(firmwarePath);
    // Every join of the device gets the offer at once, as from a deployment.
    const server = await startTestServer({ autoUpdate: id });
    try {
      const firmware = await server.addFirmware(firmwarePath);
      const identifier = `bench-${mib}`;
      const { deviceDir, configFile } = await writeBenchDevice(server, dir, identifier);
      const url = server.firmwareUrl(firmware.id);
      const completed = () =>
        server
          .device(identifier)
          .events.filter((e) => e.event === 'status_update' && e.payload.status === 'completed').length;

      const daemonRun = async (pinned) => {
        const before = completed();
        const log = join(deviceDir, 'daemon.log');
        const result = await timed(
          [
            process.execPath,
            ...asDeployed.nodeFlags,
            bundle,
            'run',
            '--config',
            configFile,
            '--log-format',
            'json',
          ],
          { pinned, stderrFile: log, env: asDeployed.env },
        );
        if (result.code !== 0 || completed() !== before + 1) {
          throw new Error(
            `daemon run failed (exit ${result.code}):\n${readFileSync(log, 'utf8').split('\n').slice(-15).join('\n')}`,
          );
        }
        return result;
      };

      for (const pinned of PINNED ? [false, true] : [false]) {
        if (pinned) pinServer('1');
        const runs = { daemon: [], openssl: [], sha256sum: [] };
        try {
          for (let i = 0; i < RUNS; i++) {
            // The order rotates, so that no configuration always follows the same one.
            const order = [
              ['daemon', () => daemonRun(pinned)],
              ['openssl', () => baseline(url, server.ca.certFile, 'openssl dgst -sha256', pinned)],
              ['sha256sum', () => baseline(url, server.ca.certFile, 'sha256sum', pinned)],
            ];
            for (let k = 0; k < order.length; k++) {
              const [name, run] = order[(i + k) % order.length];
              if (await settle({ settleMs: SETTLE_MS, idleCpu: IDLE_CPU })) waitedForQuiet += 1;
              runs[name].push(await run());
            }
          }
        } finally {
          if (pinned) pinServer(`0-${availableParallelism() - 1}`);
        }
        const med = (list, pick) => median(list.map(pick));
        rows.push({
          mib,
          cores: pinned ? 'one' : 'two',
          daemonWall: med(runs.daemon, (r) => r.wall),
          daemonCpu: med(runs.daemon, (r) => r.cpu),
          daemonRss: med(runs.daemon, (r) => r.rss),
          daemonRssMax: Math.max(...runs.daemon.map((r) => r.rss)),
          opensslWall: med(runs.openssl, (r) => r.wall),
          sha256sumWall: med(runs.sha256sum, (r) => r.wall),
          curlWall: med([...runs.openssl, ...runs.sha256sum], (r) => r.download.wall),
          curlCpu: med([...runs.openssl, ...runs.sha256sum], (r) => r.download.cpu),
          opensslHashWall: med(runs.openssl, (r) => r.hash.wall),
          sha256sumHashWall: med(runs.sha256sum, (r) => r.hash.wall),
          readWall: med([...runs.openssl, ...runs.sha256sum], (r) => r.read.wall),
          removeWall: med([...runs.openssl, ...runs.sha256sum], (r) => r.remove.wall),
          // The goal's CPU baseline: curl and openssl dgst (cat not counted).
          curlOpensslCpu: med(runs.openssl, (r) => r.download.cpu + r.hash.cpu),
        });
      }
    } finally {
      await server.close();
      rmSync(firmwarePath, { force: true });
    }
  }

  const f = (value, digits = 2) => value.toFixed(digits);
  console.log(
    `whole update through the bundle as deployed (node ${asDeployed.description}), loopback HTTPS from the test-server, median of ${RUNS}; load average at start ${loadAtStart}; ${waitedForQuiet} runs waited for other work to end`,
  );
  console.log(
    '  size      cores  daemon s  curl+openssl+cat s  ratio  curl+sha256sum+cat s  ratio  CPU daemon/(curl+openssl)  peak RSS',
  );
  for (const r of rows) {
    console.log(
      [
        `  ${`${r.mib} MiB`.padEnd(9)}`,
        r.cores.padEnd(5),
        f(r.daemonWall).padStart(8),
        f(r.opensslWall).padStart(18),
        `${f(r.daemonWall / r.opensslWall)}x`.padStart(6),
        f(r.sha256sumWall).padStart(20),
        `${f(r.daemonWall / r.sha256sumWall)}x`.padStart(6),
        `${f(r.daemonCpu / r.curlOpensslCpu)}x (${f(r.daemonCpu)} / ${f(r.curlOpensslCpu)} s)`.padStart(25),
        `${f(r.daemonRss / MiB, 1)} MiB`.padStart(9),
      ].join('  '),
    );
  }
  console.log(
    '  parts of the baselines (median s): curl download, openssl dgst, sha256sum, cat; rm of the file (outside the chain)',
  );
  for (const r of rows) {
    console.log(
      `  ${`${r.mib} MiB`.padEnd(9)} ${r.cores.padEnd(5)} curl ${f(r.curlWall)} (CPU ${f(r.curlCpu)}), openssl ${f(r.opensslHashWall)}, sha256sum ${f(r.sha256sumHashWall)}, cat ${f(r.readWall)}; rm ${f(r.removeWall)}`,
    );
  }
  console.log(
    '  goals: <= 1.0x curl+openssl+cat, <= 0.7x curl+sha256sum+cat, CPU <= 1.3x, peak RSS <= 96 MiB and within 8 MiB from 64 MiB to 1 GiB; one core <= 1.3x',
  );
  if (process.env.BENCH_JSON) console.log(JSON.stringify(rows));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
