// Does the bundled daemon give back what it takes? One daemon process lives through 1,000 reconnect and rejoin
// cycles (server restarts, kicks, heartbeat silence, crashed and closed channels), another through 100 update
// cycles (offer, download, checks, `fwup -V`, `fwup -a`). Both print RSS, file descriptors, libuv handles and
// files left in the data dir at the start and at the end.
//
// A successful apply ends with a reboot (the daemon exits), so the update cycles make bench/reading-fwup.sh fail
// the apply after reading the file: the daemon reports `failed` and is idle again, which is the path that keeps a
// process alive across updates. Each cycle offers another small firmware (the daemon would reschedule a
// firmware that failed three times in ten minutes).
//
// bench/soak-probe.mjs runs inside the daemon: in the reconnect phase, timers of 1 s or more run SOAK_TIME_SCALE
// (20) times sooner (the update phase runs in real time); SIGUSR2 reports memory after a full GC and the active
// handles. Environment: SOAK_CYCLES (1000), SOAK_UPDATES (100), SOAK_FIRMWARE_KIB (256), SOAK_TIME_SCALE (20),
// SOAK_IDLE_MS (20000), SOAK_LOG_LEVEL (error); BENCH_NODE_FLAGS and BENCH_DEPLOYED_ENV as in deployed.mjs (the
// daemon runs as the systemd unit starts it).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { startTestServer } from '@nerves-hub-link/test-server';
import { writeBenchDevice } from './bench-device.mjs';
import { deployed } from './deployed.mjs';

const CYCLES = Number(process.env.SOAK_CYCLES ?? 1000);
const UPDATES = Number(process.env.SOAK_UPDATES ?? 100);
const FIRMWARE_KIB = Number(process.env.SOAK_FIRMWARE_KIB ?? 256);
const TIME_SCALE = Number(process.env.SOAK_TIME_SCALE ?? 20);
const IDLE_MS = Number(process.env.SOAK_IDLE_MS ?? 20_000);
const HEARTBEAT_MS = 1000;
const bundle =
  process.env.BENCH_BUNDLE ?? fileURLToPath(new URL('../dist/nerves-hub-link.mjs', import.meta.url));
const probe = fileURLToPath(new URL('./soak-probe.mjs', import.meta.url));
const MiB = 1024 * 1024;
const asDeployed = deployed();
const dir = mkdtempSync(join(tmpdir(), 'soak-bench-'));
/** Daemons started and not yet exited. */
const running = new Set();

/**
 * VmRSS, its private (RssAnon) and file-backed (RssFile: the node binary's pages, shared and reclaimable) parts,
 * and VmHWM (peak) of a process, in bytes, and its open file descriptors.
 */
function procState(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (key) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)[1]) * 1024;
  return {
    rss: kib('VmRSS'),
    anon: kib('RssAnon'),
    file: kib('RssFile'),
    peak: kib('VmHWM'),
    fds: readdirSync(`/proc/${pid}/fd`).length,
  };
}

/** Every file under `root`, relative to it. */
function filesUnder(root) {
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(root, join(entry.parentPath ?? entry.path, entry.name)))
    .sort();
}

async function writeDevice(server, identifier) {
  const device = await writeBenchDevice(server, dir, identifier, {
    product: 'soak',
    heartbeatIntervalMs: HEARTBEAT_MS,
  });
  return { ...device, probeFile: join(device.deviceDir, 'probe.jsonl') };
}

function startDaemon(device, { env = {}, timeScale = 1 } = {}) {
  const logFile = join(dir, `${relative(dir, device.dataDir).split('/')[0]}.log`);
  const log = openSync(logFile, 'w');
  const child = spawn(
    process.execPath,
    [
      ...asDeployed.nodeFlags,
      '--import',
      probe,
      bundle,
      'run',
      '--config',
      device.configFile,
      '--log-level',
      process.env.SOAK_LOG_LEVEL ?? 'error',
    ],
    {
      env: {
        ...asDeployed.env,
        SOAK_TIME_SCALE: String(timeScale),
        SOAK_PROBE_FILE: device.probeFile,
        ...env,
      },
      stdio: ['ignore', 'ignore', log],
    },
  );
  const exited = new Promise((resolve) => child.on('exit', resolve));
  running.add(child);
  child.on('exit', () => running.delete(child));
  return { child, exited, logFile };
}

/** Asks the probe for memory after a full GC and the active handles; waits for its line. */
async function probeReport(daemon, device) {
  const before = existsSync(device.probeFile) ? readFileSync(device.probeFile, 'utf8').split('\n').length : 0;
  daemon.child.kill('SIGUSR2');
  for (let i = 0; i < 200; i++) {
    await sleep(10);
    const lines = existsSync(device.probeFile) ? readFileSync(device.probeFile, 'utf8').split('\n') : [];
    if (lines.length > before) return JSON.parse(lines.at(-2));
  }
  throw new Error('the probe did not answer');
}

/**
 * A snapshot of the idle daemon, from outside (/proc) and inside (the probe), after SOAK_IDLE_MS of idling as
 * between two updates: V8's memory reducer shrinks the heap some 10 s after allocation stops.
 */
async function snapshot(daemon, device) {
  await sleep(IDLE_MS);
  const proc = procState(daemon.child.pid);
  const inside = await probeReport(daemon, device);
  return { ...proc, inside, files: filesUnder(device.dataDir) };
}

const joins = (server, id) => server.device(id).joins.length;
/** Long enough connected that the daemon's reconnect backoff starts over (its stable-connection timer). */
const stable = (timeScale = TIME_SCALE) => sleep(HEARTBEAT_MS / timeScale + 20);

const server = await startTestServer();
const results = {};
/** The end of the daemon's log, to show why a phase failed. */
const logTail = (daemon) => readFileSync(daemon.logFile, 'utf8').trim().split('\n').slice(-10).join('\n');
try {
  // --- 1,000 reconnect and rejoin cycles -----------------------------------------------------------------
  {
    const id = 'soak-reconnect';
    const device = await writeDevice(server, id);
    const daemon = startDaemon(device, { timeScale: TIME_SCALE });
    await server.waitForJoin(id, { timeoutMs: 20_000 });
    await stable();
    const start = await snapshot(daemon, device);
    const kinds = { restart: 0, kick: 0, silence: 0, crash: 0, close: 0 };
    const trend = [];
    const t0 = performance.now();
    for (let i = 0; i < CYCLES; i++) {
      const before = joins(server, id);
      const kind = Object.keys(kinds)[i % 5];
      kinds[kind] += 1;
      if (kind === 'restart') await server.restart();
      else if (kind === 'kick') server.kick(id, 1011);
      else if (kind === 'silence') server.setHeartbeatReplies(false);
      else if (kind === 'crash') server.crashChannel(id);
      else server.closeChannel(id);
      await server.waitForJoin(id, { count: before + 1, timeoutMs: 30_000 }).catch((error) => {
        throw new Error(
          `cycle ${i + 1} (${kind}): ${error.message}; the daemon's log ends with:\n${logTail(daemon)}`,
        );
      });
      if (kind === 'silence') server.setHeartbeatReplies(true);
      await stable();
      if ((i + 1) % (CYCLES / 5) === 0) trend.push(procState(daemon.child.pid).rss);
    }
    const seconds = (performance.now() - t0) / 1000;
    const end = await snapshot(daemon, device);
    daemon.child.kill('SIGTERM');
    await daemon.exited;
    results.reconnect = { start, end, seconds, kinds, joins: joins(server, id), trend };
  }

  // --- 100 update cycles -----------------------------------------------------------------------------
  {
    const id = 'soak-update';
    const device = await writeDevice(server, id);
    const firmware = [];
    for (let i = 0; i < UPDATES; i++) {
      const path = join(dir, `firmware-${i}.bin`);
      writeFileSync(path, randomBytes(FIRMWARE_KIB * 1024));
      firmware.push(await server.addFirmware(path));
    }
    // Real time here: nothing waits on a timer, and a 50 ms heartbeat timeout would drop the socket under load.
    const daemon = startDaemon(device, { env: { READING_FWUP_APPLY_STATUS: '1' } });
    await server.waitForJoin(id, { timeoutMs: 20_000 });
    await stable(1);
    const start = await snapshot(daemon, device);
    const failed = () =>
      server.device(id).events.filter((e) => e.event === 'status_update' && e.payload.status === 'failed')
        .length;
    let afterFirst;
    const trend = [];
    const t0 = performance.now();
    for (let i = 0; i < UPDATES; i++) {
      const before = failed();
      if (!server.sendUpdate(id, firmware[i].id)) throw new Error(`offer ${i + 1} was not sent`);
      await server
        .waitForEvent(id, () => failed() > before, { timeoutMs: 30_000 })
        .catch((error) => {
          throw new Error(
            `update cycle ${i + 1}: ${error.message}; the daemon's log ends with:\n${logTail(daemon)}`,
          );
        });
      // The daemon reports `failed`, then removes the file; wait for that before the next offer.
      for (let k = 0; k < 100 && filesUnder(join(device.dataDir, 'downloads')).length > 0; k++)
        await sleep(10);
      if (i === 0) afterFirst = procState(daemon.child.pid);
      if ((i + 1) % (UPDATES / 5) === 0) trend.push(procState(daemon.child.pid).rss);
    }
    const seconds = (performance.now() - t0) / 1000;
    const end = await snapshot(daemon, device);
    const reasons = new Set(
      server
        .device(id)
        .events.filter((e) => e.event === 'status_update' && e.payload.status === 'failed')
        .map((e) => String(e.payload.reason ?? '').replace(/[0-9a-f-]{36}/g, 'UUID')),
    );
    daemon.child.kill('SIGTERM');
    await daemon.exited;
    results.update = { start, afterFirst, end, seconds, reasons: [...reasons], trend };
  }
} finally {
  // A phase that failed leaves its daemon running: stop it.
  for (const child of running) child.kill('SIGTERM');
  await server.close();
  rmSync(dir, { recursive: true, force: true });
}

const m = (bytes) => `${(bytes / MiB).toFixed(1)} MiB`;
const handles = (resources) =>
  Object.entries(resources)
    .sort()
    .map(([name, count]) => `${name} ${count}`)
    .join(', ');
const { reconnect, update } = results;
/** V8's heap spaces whose committed size moved by 256 KiB or more between two probe reports. */
const spacesMoved = (from, to) =>
  Object.entries(to.inside.spaces ?? {})
    .map(([name, space]) => [name, from.inside.spaces?.[name] ?? { size: 0, used: 0 }, space])
    .filter(([, a, b]) => Math.abs(b.size - a.size) >= 256 * 1024)
    .map(
      ([name, a, b]) =>
        `${name} ${(a.size / MiB).toFixed(1)} -> ${(b.size / MiB).toFixed(1)} (live ${(a.used / MiB).toFixed(1)} -> ${(b.used / MiB).toFixed(1)})`,
    )
    .join(', ') || 'none';
console.log(
  `soak of the bundled daemon as deployed (node ${asDeployed.description}; reconnect phase: timers of 1 s and more ${TIME_SCALE}x sooner; idle ${IDLE_MS / 1000} s before each snapshot)`,
);
console.log(
  `  ${CYCLES} reconnect/rejoin cycles in ${reconnect.seconds.toFixed(0)} s (${Object.entries(reconnect.kinds)
    .map(([kind, count]) => `${count} ${kind}`)
    .join(', ')}; ${reconnect.joins} joins)`,
);
for (const [label, s] of [
  ['start', reconnect.start],
  ['end', reconnect.end],
]) {
  console.log(
    `    ${label.padEnd(5)} idle RSS ${m(s.rss)} (private ${m(s.anon)}, file-backed ${m(s.file)}; after a full GC: heap ${m(s.inside.heapUsed)} of ${m(s.inside.heapTotal)} committed, external ${m(s.inside.external)}), fds ${s.fds}, handles: ${handles(s.inside.resources)}`,
  );
}
const trend = (rss) => rss.map((bytes) => (bytes / MiB).toFixed(1)).join(', ');
console.log(`    RSS every ${CYCLES / 5} cycles: ${trend(reconnect.trend)} MiB`);
console.log(`    V8 heap spaces that moved (committed MiB): ${spacesMoved(reconnect.start, reconnect.end)}`);
console.log(
  `    idle RSS end - start: ${m(reconnect.end.rss - reconnect.start.rss)} (private ${m(reconnect.end.anon - reconnect.start.anon)}; goal <= 4 MiB); fds ${reconnect.end.fds - reconnect.start.fds >= 0 ? '+' : ''}${reconnect.end.fds - reconnect.start.fds} (goal 0)`,
);
console.log(
  `  ${UPDATES} update cycles of ${FIRMWARE_KIB} KiB in ${update.seconds.toFixed(0)} s (apply failed on purpose: ${update.reasons.length === 1 ? update.reasons[0] : update.reasons.join(' | ')})`,
);
console.log(
  `    start      idle RSS ${m(update.start.rss)} (after a full GC: heap ${m(update.start.inside.heapUsed)} of ${m(update.start.inside.heapTotal)} committed), fds ${update.start.fds}, handles: ${handles(update.start.inside.resources)}`,
);
console.log(`    cycle 1    peak RSS ${m(update.afterFirst.peak)}, fds ${update.afterFirst.fds}`);
console.log(
  `    cycle ${UPDATES}  peak RSS ${m(update.end.peak)}, idle RSS ${m(update.end.rss)} (after a full GC: heap ${m(update.end.inside.heapUsed)} of ${m(update.end.inside.heapTotal)} committed, external ${m(update.end.inside.external)}), fds ${update.end.fds}, handles: ${handles(update.end.inside.resources)}`,
);
console.log(`    RSS every ${UPDATES / 5} cycles: ${trend(update.trend)} MiB`);
console.log(`    V8 heap spaces that moved (committed MiB): ${spacesMoved(update.start, update.end)}`);
console.log(
  `    RSS after ${UPDATES} (idle) - peak of cycle 1: ${m(update.end.rss - update.afterFirst.peak)} (goal <= 4 MiB); peak after ${UPDATES} - peak after 1: ${m(update.end.peak - update.afterFirst.peak)}; fds ${update.end.fds - update.start.fds >= 0 ? '+' : ''}${update.end.fds - update.start.fds}`,
);
console.log(
  `    files left in data_dir: ${update.end.files.filter((f) => !['nerves-hub-link.lock', 'status.json', 'state.json'].includes(f)).join(', ') || 'none'} (all: ${update.end.files.join(', ')})`,
);
