// Our Socket + Channel against the official `phoenix` client (phoenix.js 1.8.16 on `ws`) doing the same work
// against the same server (another process), measured in the same run, rounds interleaved:
// connect + join, one push at a time (round trip), 1,000 pushes in flight, and a burst of server pushes.
// Run after a build: `pnpm --filter @nerves-hub-link/phoenix-channel bench`.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Socket as PhoenixSocket } from 'phoenix';
import WebSocket from 'ws';
import { Socket } from '../dist/index.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const JOINS = 30;
const SEQUENTIAL = 2_000;
const PIPELINED = 1_000;
const BURST = 20_000;
const PAYLOAD = { status: 'downloading', progress: 42, uuid: '0a6f1b4e-0000-4000-8000-000000000001' };

const server = spawn(
  process.execPath,
  [fileURLToPath(new URL('./support/echo-server.mjs', import.meta.url))],
  {
    stdio: ['pipe', 'pipe', 'inherit'],
  },
);
const [portLine] = await once(server.stdout, 'data');
const base = `ws://127.0.0.1:${String(portLine).trim()}/socket`;

/** The same five operations over each client; every one resolves when the work is done. */
const clients = {
  ours: {
    async open() {
      const socket = new Socket(`${base}/websocket`);
      const channel = socket.channel('bench', {});
      socket.connect();
      await channel.join();
      return {
        push: () => channel.push('echo', PAYLOAD),
        burst(count) {
          return new Promise((resolve) => {
            let seen = 0;
            const onTick = () => {
              seen += 1;
            };
            channel.on('tick', onTick);
            channel.on('burst_done', function done() {
              channel.off('tick', onTick);
              channel.off('burst_done', done);
              resolve(seen);
            });
            channel.send('burst', { count, body: 'x'.repeat(64) });
          });
        },
        close: () => socket.close(),
      };
    },
  },
  phoenix: {
    async open() {
      const socket = new PhoenixSocket(base, { transport: WebSocket, reconnectAfterMs: () => 60_000 });
      const channel = socket.channel('bench', {});
      socket.connect();
      await new Promise((resolve, reject) => {
        channel.join().receive('ok', resolve).receive('error', reject).receive('timeout', reject);
      });
      return {
        push: () =>
          new Promise((resolve, reject) => {
            channel
              .push('echo', PAYLOAD)
              .receive('ok', resolve)
              .receive('error', reject)
              .receive('timeout', reject);
          }),
        burst(count) {
          return new Promise((resolve) => {
            let seen = 0;
            const tick = channel.on('tick', () => {
              seen += 1;
            });
            const done = channel.on('burst_done', () => {
              channel.off('tick', tick);
              channel.off('burst_done', done);
              resolve(seen);
            });
            channel.push('burst', { count, body: 'x'.repeat(64) });
          });
        },
        close: () => new Promise((resolve) => socket.disconnect(resolve)),
      };
    },
  },
};

/** Operations per second of `work` (which performs `count` operations). */
async function rate(count, work) {
  const started = performance.now();
  await work();
  return count / ((performance.now() - started) / 1000);
}

const scenarios = {
  'connect + join': async (client) => {
    const times = [];
    for (let i = 0; i < JOINS; i++) {
      const started = performance.now();
      const session = await client.open();
      times.push(performance.now() - started);
      await session.close();
    }
    return 1000 / median(times);
  },
  'push round trip, one at a time': async (client) => {
    const session = await client.open();
    const result = await rate(SEQUENTIAL, async () => {
      for (let i = 0; i < SEQUENTIAL; i++) await session.push();
    });
    await session.close();
    return result;
  },
  [`${PIPELINED} pushes in flight`]: async (client) => {
    const session = await client.open();
    const result = await rate(PIPELINED * 5, async () => {
      for (let batch = 0; batch < 5; batch++) {
        await Promise.all(Array.from({ length: PIPELINED }, () => session.push()));
      }
    });
    await session.close();
    return result;
  },
  'server pushes received': async (client) => {
    const session = await client.open();
    let seen = 0;
    const result = await rate(BURST, async () => {
      seen = await session.burst(BURST);
    });
    if (seen !== BURST) throw new Error(`received ${seen} of ${BURST}`);
    await session.close();
    return result;
  },
};

function median(values) {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
}

try {
  // Warm-up: one pass of everything for both clients.
  for (const scenario of Object.values(scenarios)) {
    for (const client of Object.values(clients)) await scenario(client);
  }
  const samples = {};
  for (let round = 0; round < ROUNDS; round++) {
    // Each client goes first in every other round, so that drift and the server's own warm-up hit both alike.
    const order = round % 2 === 0 ? ['ours', 'phoenix'] : ['phoenix', 'ours'];
    for (const [name, scenario] of Object.entries(scenarios)) {
      for (const clientName of order) {
        samples[name] ??= { ours: [], phoenix: [] };
        samples[name][clientName].push(await scenario(clients[clientName]));
      }
    }
  }
  const fmt = (n) => Math.round(n).toLocaleString('en-US').padStart(10);
  console.log(
    `client: ours vs phoenix.js on ws (same server process), median of ${ROUNDS} rounds, per second`,
  );
  console.log(`  ${''.padEnd(34)} ${'ours'.padStart(10)} ${'phoenix'.padStart(10)}   ratio`);
  for (const [name, { ours, phoenix }] of Object.entries(samples)) {
    const a = median(ours);
    const b = median(phoenix);
    console.log(`  ${name.padEnd(34)} ${fmt(a)} ${fmt(b)}   ${(a / b).toFixed(2)}x`);
  }
} finally {
  server.stdin.end();
}
