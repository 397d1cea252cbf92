// How many devices one test-server process holds joined, with heartbeats, on this machine; and its RSS.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const DEVICES = Number(process.env.BENCH_DEVICES ?? 10_000);
const PROCESSES = Number(process.env.BENCH_CLIENT_PROCESSES ?? 4);
const here = (file) => fileURLToPath(new URL(file, import.meta.url));

function lines(child) {
  const queue = [];
  const waiters = [];
  let buffer = '';
  child.stdout.setEncoding('utf8').on('data', (text) => {
    buffer += text;
    for (let at = buffer.indexOf('\n'); at >= 0; at = buffer.indexOf('\n')) {
      const line = buffer.slice(0, at);
      buffer = buffer.slice(at + 1);
      const waiter = waiters.shift();
      if (waiter) waiter(line);
      else queue.push(line);
    }
  });
  return () =>
    queue.length > 0 ? Promise.resolve(queue.shift()) : new Promise((resolve) => waiters.push(resolve));
}

const server = spawn(process.execPath, [here('./serve.mjs')], { stdio: ['pipe', 'pipe', 'inherit'] });
const serverLine = lines(server);
const { url, ca } = JSON.parse(await serverLine());
server.stdin.write('stats\n');
const idle = JSON.parse(await serverLine());

const started = performance.now();
const perProcess = Math.ceil(DEVICES / PROCESSES);
const clients = [];
for (let p = 0; p < PROCESSES; p++) {
  const count = Math.min(perProcess, DEVICES - p * perProcess);
  const child = spawn(
    process.execPath,
    [here('./devices.mjs'), String(p * perProcess), String(count), url, JSON.stringify(ca)],
    { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, HEARTBEAT_MS: '30000' } },
  );
  clients.push({ child, next: lines(child) });
}
const reports = await Promise.all(clients.map(({ next }) => next().then(JSON.parse)));
const seconds = (performance.now() - started) / 1000;
await new Promise((resolve) => setTimeout(resolve, 35_000)); // one heartbeat round for every device
server.stdin.write('stats\n');
const loaded = JSON.parse(await serverLine());

for (const { child } of clients) child.stdin.end();
await Promise.all(clients.map(({ child }) => once(child, 'exit')));
server.stdin.end();
await once(server, 'exit');

const MiB = 1024 * 1024;
console.log(`test-server capacity: ${DEVICES} shared-secret devices from ${PROCESSES} client processes`);
console.log(`  joined (client side)       ${reports.reduce((sum, r) => sum + r.joined, 0)}`);
console.log(`  joined after a heartbeat   ${loaded.joined} (server side, 35 s later)`);
console.log(
  `  time to join all           ${seconds.toFixed(1)} s (${(DEVICES / seconds).toFixed(0)} joins/s)`,
);
console.log(
  `  server RSS                 ${(idle.rss / MiB).toFixed(0)} MiB idle, ${(loaded.rss / MiB).toFixed(0)} MiB with all devices (${((loaded.rss - idle.rss) / DEVICES / 1024).toFixed(1)} KiB per device)`,
);
console.log('  goal: 10,000 devices joined with heartbeats');
