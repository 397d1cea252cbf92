// What one message to systemd costs (a watchdog beat, a STATUS= line): the daemon sends each through one
// systemd-notify process (src/runtime/service-notifier.ts). Measured against a real datagram listener on
// $NOTIFY_SOCKET (python3), the wall time of one message and the CPU it takes, in the daemon and in
// systemd-notify together; then what that is per day at the shipped unit's watchdog beat (every 60 s).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServiceNotifier } from '../dist/runtime/service-notifier.js';

const MESSAGES = Number(process.env.BENCH_NOTIFY_MESSAGES ?? 300);
const BEAT_SECONDS = 60;
const TICKS = 100; // USER_HZ on Linux
const listenerScript = fileURLToPath(new URL('../test/support/notify-listener.py', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'notify-bench-'));
const path = join(dir, 'notify.sock');

/** CPU seconds of this process and of the children it has waited for (systemd-notify). */
function cpuSeconds() {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  const [utime, stime, cutime, cstime] = fields.slice(11, 15).map(Number);
  return { self: (utime + stime) / TICKS, children: (cutime + cstime) / TICKS };
}

const listener = spawn('python3', [listenerScript, path], { stdio: ['ignore', 'pipe', 'inherit'] });
await once(listener.stdout, 'data');
let received = 0;
listener.stdout.on('data', (chunk) => {
  received += String(chunk)
    .split('\n')
    .filter((line) => line.includes('"WATCHDOG"')).length;
});
try {
  const notifier = createServiceNotifier({ socket: path, onError: (message) => console.error(message) });
  const times = [];
  const cpuBefore = cpuSeconds();
  const started = performance.now();
  for (let i = 0; i < MESSAGES; i++) {
    const t0 = performance.now();
    notifier.send({ WATCHDOG: '1' });
    await notifier.flush();
    times.push(performance.now() - t0);
  }
  const wall = performance.now() - started;
  const cpuAfter = cpuSeconds();
  await new Promise((resolve) => setTimeout(resolve, 200));
  times.sort((a, b) => a - b);
  const cpuPerMessageMs =
    ((cpuAfter.self - cpuBefore.self + cpuAfter.children - cpuBefore.children) * 1000) / MESSAGES;
  const perDay = (86_400 / BEAT_SECONDS) * cpuPerMessageMs;
  console.log(`notify: ${MESSAGES} messages through systemd-notify, ${received} received`);
  console.log(
    `  wall per message: median ${times[Math.floor(MESSAGES / 2)].toFixed(1)} ms, p95 ${times[Math.floor(MESSAGES * 0.95)].toFixed(1)} ms (${(wall / MESSAGES).toFixed(1)} ms mean)`,
  );
  console.log(
    `  CPU per message: ${cpuPerMessageMs.toFixed(2)} ms (daemon ${(((cpuAfter.self - cpuBefore.self) * 1000) / MESSAGES).toFixed(2)} ms, systemd-notify ${(((cpuAfter.children - cpuBefore.children) * 1000) / MESSAGES).toFixed(2)} ms)`,
  );
  console.log(
    `  at one beat every ${BEAT_SECONDS} s: ${(perDay / 1000).toFixed(1)} s of CPU a day (${((perDay / 86_400_000) * 100).toFixed(4)} % of one core)`,
  );
} finally {
  listener.kill();
  rmSync(dir, { recursive: true, force: true });
}
