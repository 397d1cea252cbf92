// Child process of the capacity benchmark: opens N device connections (shared secret), joins `device` on each,
// sends Phoenix heartbeats every HEARTBEAT_MS, and prints how many are joined.
// Usage: node devices.mjs <first index> <count> <url> <ca pem json>
import { createHmac, pbkdf2Sync } from 'node:crypto';
import WebSocket from 'ws';

const [firstText, countText, url, caJson] = process.argv.slice(2);
const ca = JSON.parse(caJson);
const first = Number(firstText);
const count = Number(countText);
const HEARTBEAT_MS = Number(process.env.HEARTBEAT_MS ?? 30_000);
let joined = 0;

// NH1 headers written out here so this load generator depends on nothing but ws.
function headers(identifier) {
  const alg = 'NH1-HMAC-sha256-1000-32';
  const key = 'nhp_capacity';
  const time = Math.floor(Date.now() / 1000) - 1;
  const salt = `NH1:device-socket:shared-secret:connect\n\nx-nh-alg=${alg}\nx-nh-key=${key}\nx-nh-time=${time}\n`;
  const derived = pbkdf2Sync('capacity-secret', salt, 1000, 32, 'sha256');
  const id = Buffer.from(identifier);
  const ms = Buffer.alloc(6);
  ms.writeUIntLE(time * 1000, 0, 6);
  const etf = Buffer.concat([
    Buffer.from([131, 104, 3, 109]),
    Buffer.from([0, 0, 0, id.length]),
    id,
    Buffer.from([110, 6, 0]),
    ms,
    Buffer.from([98, 0, 1, 81, 128]),
  ]);
  const input = `SFMyNTY.${etf.toString('base64url')}`;
  const mac = createHmac('sha256', derived).update(input).digest('base64url');
  return { 'x-nh-alg': alg, 'x-nh-key': key, 'x-nh-time': String(time), 'x-nh-signature': `${input}.${mac}` };
}

function open(index) {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${url}?vsn=2.0.0`, {
      ca,
      headers: headers(`capacity-${index}`),
      perMessageDeflate: false,
    });
    let ref = 1;
    ws.on('open', () =>
      ws.send(JSON.stringify(['1', '1', 'device', 'phx_join', { device_api_version: '2.0.0' }])),
    );
    ws.on('message', (data) => {
      const [joinRef, replyRef] = JSON.parse(String(data));
      if (joinRef === '1' && replyRef === '1') {
        joined += 1;
        const timer = setInterval(
          () => ws.send(JSON.stringify([null, String(++ref), 'phoenix', 'heartbeat', {}])),
          HEARTBEAT_MS,
        );
        timer.unref();
        resolve(ws);
      }
    });
    ws.on('error', () => resolve(undefined));
  });
}

for (let i = 0; i < count; i += 100) {
  const batch = [];
  for (let j = i; j < Math.min(count, i + 100); j++) batch.push(open(first + j));
  await Promise.all(batch);
}
process.stdout.write(`${JSON.stringify({ joined })}\n`);
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
