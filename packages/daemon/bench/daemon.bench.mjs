// The daemon as shipped (the bundle, and the single executable when it is built): size, process start to a joined
// channel beside `node -e 0`, and an idle minute's RSS and CPU beside a bare node process holding one WebSocket,
// all measured in this run. Starts of every command alternate, so that a busy moment of the machine weighs on all.
// BENCH_BASELINE_BUNDLE=path adds another bundle (an earlier build) to the same starts, for a before/after.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestServer } from '@nerves-hub-link/test-server';
import { writeBenchDevice } from './bench-device.mjs';
import { deployed } from './deployed.mjs';

const STARTS = Number(process.env.BENCH_STARTS ?? 10);
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 60);
const bundle = fileURLToPath(new URL('../dist/nerves-hub-link.mjs', import.meta.url));
const executable = fileURLToPath(
  new URL(`../dist/sea/nerves-hub-link-linux-${process.arch}`, import.meta.url),
);
const baseline = process.env.BENCH_BASELINE_BUNDLE;
const bareClient = fileURLToPath(new URL('./bare-client.mjs', import.meta.url));
/** The environment the unit gives the daemon (the bare client and `node -e 0` get the same). */
const asDeployed = deployed();
const dir = mkdtempSync(join(tmpdir(), 'daemon-bench-'));
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const TICKS = 100; // USER_HZ on Linux

function procStats(pid) {
  const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return { rss, cpuSeconds: (Number(fields[11]) + Number(fields[12])) / TICKS };
}

const server = await startTestServer();
try {
  const { configFile, certificate: device } = await writeBenchDevice(server, dir, 'bench-device');

  // Process start to joined: each command once per round, rounds alternating.
  const starters = [
    { name: 'bundle', command: process.execPath, args: [bundle] },
    ...(existsSync(executable) ? [{ name: 'executable', command: executable, args: [] }] : []),
    ...(baseline ? [{ name: 'baseline', command: process.execPath, args: [baseline] }] : []),
  ].map((starter) => ({ ...starter, times: [] }));
  const nodeStart = [];
  for (let i = 0; i < STARTS; i++) {
    for (const starter of starters) {
      const before = server.device('bench-device').joins.length;
      const t0 = performance.now();
      const child = spawn(
        starter.command,
        [...starter.args, 'run', '--config', configFile, '--log-level', 'warn'],
        { stdio: 'ignore', env: asDeployed.env },
      );
      await server.waitForJoin('bench-device', { count: before + 1, timeoutMs: 10_000 });
      starter.times.push(performance.now() - t0);
      child.kill('SIGTERM');
      await new Promise((resolve) => child.on('exit', resolve));
    }
    const t0 = performance.now();
    await new Promise((resolve) =>
      spawn(process.execPath, ['-e', '0'], { env: asDeployed.env }).on('exit', resolve),
    );
    nodeStart.push(performance.now() - t0);
  }

  // An idle minute, side by side.
  const daemon = spawn(process.execPath, [bundle, 'run', '--config', configFile, '--log-level', 'warn'], {
    stdio: 'ignore',
    env: asDeployed.env,
  });
  const bare = spawn(
    process.execPath,
    [bareClient, server.mtlsUrl, device.certFile, device.keyFile, server.ca.certFile],
    { stdio: 'ignore', env: asDeployed.env },
  );
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  const at = [procStats(daemon.pid), procStats(bare.pid)];
  await new Promise((resolve) => setTimeout(resolve, IDLE_SECONDS * 1000));
  const after = [procStats(daemon.pid), procStats(bare.pid)];
  daemon.kill('SIGTERM');
  bare.kill('SIGTERM');

  const MiB = 1024 * 1024;
  const size = statSync(bundle).size;
  console.log('daemon benchmark (bundled dist/nerves-hub-link.mjs, mTLS over loopback)');
  console.log(`  bundle size                 ${(size / 1024).toFixed(0)} KiB (goal <= 550 KiB)`);
  if (existsSync(executable)) {
    console.log(`  single executable size      ${(statSync(executable).size / MiB).toFixed(1)} MiB`);
  }
  for (const starter of starters) {
    console.log(
      `  start to joined, ${starter.name.padEnd(10)} ${median(starter.times).toFixed(0)} ms median of ${STARTS}`,
    );
  }
  console.log(`  node -e 0                   ${median(nodeStart).toFixed(0)} ms median of ${STARTS}`);
  if (baseline) console.log(`  (baseline: ${baseline}, ${(statSync(baseline).size / 1024).toFixed(0)} KiB)`);
  console.log(
    `  idle ${IDLE_SECONDS} s, daemon         RSS ${(after[0].rss / MiB).toFixed(1)} MiB, CPU ${((after[0].cpuSeconds - at[0].cpuSeconds) * 1000).toFixed(0)} ms`,
  );
  console.log(
    `  idle ${IDLE_SECONDS} s, bare ws client RSS ${(after[1].rss / MiB).toFixed(1)} MiB, CPU ${((after[1].cpuSeconds - at[1].cpuSeconds) * 1000).toFixed(0)} ms`,
  );
  console.log(
    `  RSS ratio daemon / bare     ${(after[0].rss / after[1].rss).toFixed(2)}x (goal <= 1.2x); start goal <= 250 ms`,
  );
} finally {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
}
