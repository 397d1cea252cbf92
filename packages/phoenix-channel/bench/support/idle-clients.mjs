// Child process for the memory benchmark: opens N idle connections of one kind and reports memory per connection.
// Usage: node --expose-gc idle-clients.mjs <ws|socket|socket-deflate> <count> <port>
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { Socket } from '../../dist/index.js';

const [mode, countText, port] = process.argv.slice(2);
const count = Number(countText);
const url = `ws://127.0.0.1:${port}/socket/websocket`;
const held = [];

/** A bare ws client doing the same exchange (join, reply), as the baseline. */
function openBare() {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url}?vsn=2.0.0`, { perMessageDeflate: false });
    ws.on('error', reject);
    ws.on('open', () => ws.send(JSON.stringify(['1', '1', 'device', 'phx_join', {}])));
    ws.once('message', () => resolve(ws));
  });
}

async function openSocket() {
  const socket = new Socket(url, { perMessageDeflate: mode === 'socket-deflate' });
  socket.on('error', () => {});
  const channel = socket.channel('device', {});
  socket.connect();
  await channel.join();
  return socket;
}

const open = mode === 'ws' ? openBare : openSocket;

async function settle() {
  await sleep(500);
  for (let i = 0; i < 4; i++) {
    globalThis.gc();
    await sleep(50);
  }
  const m = process.memoryUsage();
  return {
    rss: m.rss,
    heapTotal: m.heapTotal,
    heapUsed: m.heapUsed,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
  };
}

const m0 = await settle();
held.push(await open());
const m1 = await settle();
for (let i = 1; i < count; i += 50) {
  const batch = [];
  for (let j = i; j < Math.min(count, i + 50); j++) batch.push(open());
  held.push(...(await Promise.all(batch)));
}
const m2 = await settle();
const diff = (a, b) => Object.fromEntries(Object.keys(a).map((k) => [k, b[k] - a[k]]));
const perExtra = Object.fromEntries(Object.entries(diff(m1, m2)).map(([k, v]) => [k, v / (count - 1)]));
process.stdout.write(`${JSON.stringify({ mode, count: held.length, first: diff(m0, m1), perExtra })}\n`);
await Promise.all(held.map((c) => (c instanceof WebSocket ? c.terminate() : c.close())));
process.exit(0);
