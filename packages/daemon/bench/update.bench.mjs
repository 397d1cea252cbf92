// A whole firmware update through the bundled daemon, as deployed, against the same work done with standard tools
// on the same HTTPS URL, in the same run. One daemon run: process start, join, the server's offer, download with the
// size and SHA-256 checks, `fwup -V`, `fwup -a`, statuses, deleting the file, the reboot command, exit. The fwup is
// bench/reading-fwup.sh, which reads the whole file for each of the two runs and does nothing else. The baselines:
//   curl -o F URL && openssl dgst -sha256 F && cat F >/dev/null
//   curl -o F URL && sha256sum F && cat F >/dev/null
//
// Two setups (stats.mjs): `pinned`, as a device runs, the firmware host and test-server (this process) on core 1
// and the daemon, or in its turn the chain, on core 0; and `unpinned`, everything free to use both cores. Every
// round runs each configuration once in each setup, in an order that rotates, so that a busy moment of the machine
// weighs on all of them; the figures are medians of BENCH_RUNS rounds with their spread (min–max), and the ratio of
// each round's own runs. Wall and CPU (user + system of the process and everything it waited for) come from GNU
// time, as does the daemon's peak RSS; where the daemon's time goes comes from the times of its own log lines.
// Before every run: `sync`, and a pause until the machine is quiet (quiet-machine.mjs).
//
// Environment: BENCH_SIZES_MIB (64,1024), BENCH_RUNS (5), BENCH_SETUPS (pinned,unpinned), BENCH_SHA256SUM (1; 0
// leaves out the sha256sum chain), BENCH_BUNDLES (name=path,…: other builds of the daemon, each run in every round
// beside this one, e.g. before=/tmp/before.mjs), BENCH_NODE_FLAGS and BENCH_DEPLOYED_ENV (the daemon runs with the
// node options and Environment= of systemd/nerves-hub-link.service unless these say otherwise; see deployed.mjs),
// BENCH_SETTLE_MS (3000), BENCH_IDLE_CPU (0.1: before every run, wait until less than this share of the CPUs is
// busy), BENCH_QUIET_LOAD (wait until the 1-minute load average is below this before starting, e.g. 0.7),
// BENCH_JSON (also print every run as JSON).
import { spawn } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import { closeSync, createReadStream, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { startTestServer } from '@nerves-hub-link/test-server';
import { writeBenchDevice } from './bench-device.mjs';
import { deployed } from './deployed.mjs';
import { settle } from './quiet-machine.mjs';
import { chosenSetups, loadAverage, median, onMeasuredCores, pinSelf, SETUPS, spread } from './stats.mjs';
import { requireTools } from './tools.mjs';

requireTools(['/usr/bin/time', 'taskset', 'curl', 'openssl', 'sha256sum']);

const MiB = 1024 * 1024;
const SIZES = (process.env.BENCH_SIZES_MIB ?? '64,1024').split(',').map(Number);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const SETUP_NAMES = chosenSetups();
const WITH_SHA256SUM = process.env.BENCH_SHA256SUM !== '0';
const SETTLE_MS = Number(process.env.BENCH_SETTLE_MS ?? 3000);
const IDLE_CPU = Number(process.env.BENCH_IDLE_CPU ?? 0.1);
/** A run taking longer than this has hung. */
const RUN_TIMEOUT_MS = 120_000;
const QUIET_LOAD = process.env.BENCH_QUIET_LOAD ? Number(process.env.BENCH_QUIET_LOAD) : undefined;
const bundles = [
  ['daemon', fileURLToPath(new URL('../dist/nerves-hub-link.mjs', import.meta.url))],
  ...(process.env.BENCH_BUNDLES ?? '')
    .split(',')
    .filter(Boolean)
    .map((entry) => {
      const equals = entry.indexOf('=');
      if (equals <= 0) throw new Error(`BENCH_BUNDLES: expected name=path, got ${entry}`);
      return [entry.slice(0, equals), entry.slice(equals + 1)];
    }),
];
const asDeployed = deployed();
const dir = mkdtempSync(join(tmpdir(), 'update-bench-'));
const OPENSSL = 'curl+openssl+cat';
const SHA256SUM = 'curl+sha256sum+cat';

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

/**
 * Runs argv under GNU time, on the measured cores of `setup`; resolves with wall and CPU seconds, peak RSS in
 * bytes, the exit code and when it started (epoch ms).
 */
function timed(argv, setup, { env = process.env, stderrFile } = {}) {
  const report = join(dir, 'time.out');
  const command = ['/usr/bin/time', '-f', '%e %U %S %M', '-o', report, ...onMeasuredCores(setup), ...argv];
  const stderr = stderrFile ? openSync(stderrFile, 'w') : 'ignore';
  return new Promise((resolve, reject) => {
    const startedAt = Date.now();
    // detached: a run that hangs (no offer, say) is stopped with everything it started.
    const child = spawn(command[0], command.slice(1), {
      env,
      stdio: ['ignore', 'ignore', stderr],
      detached: true,
    });
    const timer = setTimeout(() => process.kill(-child.pid, 'SIGKILL'), RUN_TIMEOUT_MS);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (typeof stderr === 'number') closeSync(stderr);
      const line = readFileSync(report, 'utf8').trim().split('\n').at(-1);
      const [wall, user, system, maxRssKiB] = line.split(' ').map(Number);
      resolve({ code, wall, cpu: user + system, rss: maxRssKiB * 1024, startedAt });
    });
  });
}

/**
 * One baseline run: curl, the hash command and cat, each timed on its own (the parts) and the chain as a whole,
 * then the file's deletion (not part of the chain, but the daemon's run includes deleting its file).
 */
async function baseline(url, caFile, hashCommand, setup) {
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
  const whole = await timed(['bash', '-c', script], setup);
  const remove = await timed(['rm', '-f', out], setup);
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

/**
 * Where a daemon run's time went, from the times of its log lines (JSON, millisecond resolution): start to the
 * start of the download (process start, join, offer), the download, `fwup -V`, `fwup -a` with the file's deletion,
 * and the rest (statuses, reboot command, exit).
 */
function daemonPhases(logFile, run) {
  const at = {};
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    if (!line.startsWith('{')) continue;
    const { time, msg } = JSON.parse(line);
    const phase = / (downloading|verifying|applying|completed)$/.exec(msg)?.[1];
    if (phase && at[phase] === undefined) at[phase] = Date.parse(time);
  }
  const end = run.startedAt + run.wall * 1000;
  const seconds = (from, to) => (to - from) / 1000;
  return {
    start: seconds(run.startedAt, at.downloading),
    download: seconds(at.downloading, at.verifying),
    verify: seconds(at.verifying, at.applying),
    apply: seconds(at.applying, at.completed),
    end: seconds(at.completed, end),
  };
}

async function waitForQuiet() {
  if (QUIET_LOAD === undefined) return;
  const deadline = Date.now() + 30 * 60_000;
  while (loadAverage() >= QUIET_LOAD && Date.now() < deadline) await sleep(10_000);
}

/** Every timed run: { mib, setup, name, round, load (1-minute average at its start), ...timed() }. */
const runs = [];
let waitedForQuiet = 0;
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
      const { deviceDir, configFile, dataDir } = await writeBenchDevice(server, dir, identifier);
      const url = server.firmwareUrl(firmware.id);
      const completed = () =>
        server
          .device(identifier)
          .events.filter((e) => e.event === 'status_update' && e.payload.status === 'completed').length;

      const daemonRun = async (bundle, setup) => {
        const before = completed();
        // Every run is a device that has not rebooted since its last update: it would wait for that reboot first.
        rmSync(join(dataDir, 'written-firmware.json'), { force: true });
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
          setup,
          { stderrFile: log, env: asDeployed.env },
        );
        if (result.code !== 0 || completed() !== before + 1) {
          throw new Error(
            `daemon run failed (exit ${result.code}):\n${readFileSync(log, 'utf8').split('\n').slice(-15).join('\n')}`,
          );
        }
        return { ...result, phases: daemonPhases(log, result) };
      };

      const configurations = [
        ...bundles.map(([name, bundle]) => [name, (setup) => daemonRun(bundle, setup)]),
        [OPENSSL, (setup) => baseline(url, server.ca.certFile, 'openssl dgst -sha256', setup)],
        ...(WITH_SHA256SUM
          ? [[SHA256SUM, (setup) => baseline(url, server.ca.certFile, 'sha256sum', setup)]]
          : []),
      ];
      const plan = SETUP_NAMES.flatMap((setup) => configurations.map(([name, run]) => [setup, name, run]));
      for (let round = 0; round < RUNS; round++) {
        for (let k = 0; k < plan.length; k++) {
          const [setup, name, run] = plan[(round + k) % plan.length];
          pinSelf(SETUPS[setup].serverCores);
          if (await settle({ settleMs: SETTLE_MS, idleCpu: IDLE_CPU })) waitedForQuiet += 1;
          const load = loadAverage();
          runs.push({ mib, setup, name, round, load, ...(await run(setup)) });
        }
      }
    } finally {
      pinSelf(SETUPS.unpinned.serverCores);
      await server.close();
      rmSync(firmwarePath, { force: true });
    }
  }
  const loadAtEnd = loadAverage();
  report(loadAtStart, loadAtEnd);
  if (process.env.BENCH_JSON) console.log(JSON.stringify(runs));
} finally {
  rmSync(dir, { recursive: true, force: true });
}

function report(loadAtStart, loadAtEnd) {
  const f = (value, digits = 2) => value.toFixed(digits);
  const loads = runs.map((r) => r.load);
  console.log(
    `whole update through the bundle as deployed (node ${asDeployed.description}), loopback HTTPS from the test-server; ${RUNS} interleaved rounds, median (min–max)`,
  );
  console.log(
    `load average: ${loadAtStart} at the start, ${loadAtEnd} at the end, ${f(Math.min(...loads))}–${f(Math.max(...loads))} at the start of a run; ${waitedForQuiet} runs waited for other work to end`,
  );
  const of = (mib, setup, name) => runs.filter((r) => r.mib === mib && r.setup === setup && r.name === name);
  /** Each round's ratio of `pick(a)` to `pick(b)`, and the ratio of the medians. */
  const ratio = (as, bs, pick) => {
    const perRound = as.map((a) => pick(a) / pick(bs.find((b) => b.round === a.round)));
    return `${f(median(as.map(pick)) / median(bs.map(pick)))}x (rounds ${f(Math.min(...perRound))}–${f(Math.max(...perRound))}x)`;
  };
  const curlOpensslCpu = (r) => r.download.cpu + r.hash.cpu;
  for (const mib of SIZES) {
    for (const setup of SETUP_NAMES) {
      console.log(`  ${mib} MiB, ${setup}`);
      console.log(
        '    what                  wall s              CPU s               peak RSS MiB        load average',
      );
      const names = [...bundles.map(([name]) => name), OPENSSL, ...(WITH_SHA256SUM ? [SHA256SUM] : [])];
      for (const name of names) {
        const list = of(mib, setup, name);
        console.log(
          [
            `    ${name.padEnd(20)}`,
            spread(list.map((r) => r.wall)).padEnd(18),
            spread(list.map((r) => r.cpu)).padEnd(18),
            spread(
              list.map((r) => r.rss / MiB),
              1,
            ).padEnd(18),
            spread(list.map((r) => r.load)),
          ].join('  '),
        );
      }
      const chain = of(mib, setup, OPENSSL);
      const sums = of(mib, setup, SHA256SUM);
      for (const [name] of bundles) {
        const daemon = of(mib, setup, name);
        console.log(
          `    ${name}: wall ${ratio(daemon, chain, (r) => r.wall)} ${OPENSSL}${WITH_SHA256SUM ? `, ${ratio(daemon, sums, (r) => r.wall)} ${SHA256SUM}` : ''}; CPU ${ratio(
            daemon,
            chain.map((r) => ({ ...r, cpu: curlOpensslCpu(r) })),
            (r) => r.cpu,
          )} curl+openssl`,
        );
        const phase = (key) => spread(daemon.map((r) => r.phases[key]));
        console.log(
          `      its parts (s): start, join and offer ${phase('start')}; download ${phase('download')}; fwup -V ${phase('verify')}; fwup -a and delete ${phase('apply')}; statuses, reboot command, exit ${phase('end')}`,
        );
      }
      const parts = [...chain, ...sums];
      console.log(
        `    the chains' parts (s): curl download ${spread(parts.map((r) => r.download.wall))} (CPU ${spread(parts.map((r) => r.download.cpu))}); openssl dgst ${spread(chain.map((r) => r.hash.wall))}${WITH_SHA256SUM ? `; sha256sum ${spread(sums.map((r) => r.hash.wall))}` : ''}; cat ${spread(parts.map((r) => r.read.wall))}; rm (outside the chain) ${spread(parts.map((r) => r.remove.wall))}`,
      );
    }
  }
  console.log(
    `  goals: pinned, <= 1.0x ${OPENSSL} and CPU <= 1.3x curl+openssl; unpinned <= 1.3x ${OPENSSL}; <= 0.7x ${SHA256SUM}; peak RSS <= 96 MiB and within 8 MiB from 64 MiB to 1 GiB`,
  );
  const largest = Math.max(...SIZES);
  for (const [name] of bundles) {
    const verdicts = SETUP_NAMES.map((setup) => {
      const daemon = of(largest, setup, name);
      const chain = of(largest, setup, OPENSSL);
      const wall = median(daemon.map((r) => r.wall)) / median(chain.map((r) => r.wall));
      const cpu = median(daemon.map((r) => r.cpu)) / median(chain.map(curlOpensslCpu));
      return setup === 'pinned'
        ? `pinned wall ${f(wall)}x ${wall <= 1 ? 'met' : 'not met'}, CPU ${f(cpu)}x ${cpu <= 1.3 ? 'met' : 'not met'}`
        : `unpinned wall ${f(wall)}x ${wall <= 1.3 ? 'met' : 'not met'}`;
    });
    const peaks = runs.filter((r) => r.name === name).map((r) => r.rss / MiB);
    const peakBySize = SIZES.map((mib) =>
      Math.max(...runs.filter((r) => r.name === name && r.mib === mib).map((r) => r.rss / MiB)),
    );
    const flat = Math.max(...peakBySize) - Math.min(...peakBySize);
    console.log(
      `  ${name} at ${largest} MiB: ${verdicts.join('; ')}; peak RSS ${f(Math.max(...peaks), 1)} MiB ${Math.max(...peaks) <= 96 ? 'met' : 'not met'}, spread over sizes ${f(flat, 1)} MiB ${flat <= 8 ? 'met' : 'not met'}`,
    );
  }
}
