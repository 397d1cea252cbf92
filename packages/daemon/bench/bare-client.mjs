// Baseline for the daemon benchmark: a bare node process holding one joined Phoenix WebSocket (ws only),
// sending the same 30 s heartbeat.
// Usage: node bare-client.mjs <url> <cert file> <key file> <ca file>
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

// The same ws the daemon bundles, found through phoenix-channel (ws is not a dependency of this package).
const WebSocket = createRequire(import.meta.resolve('@nerves-hub-link/phoenix-channel'))('ws');

const [url, certFile, keyFile, caFile] = process.argv.slice(2);
const ws = new WebSocket(`${url}?vsn=2.0.0`, {
  cert: readFileSync(certFile),
  key: readFileSync(keyFile),
  ca: readFileSync(caFile),
  perMessageDeflate: false,
});
let ref = 1;
ws.on('open', () =>
  ws.send(JSON.stringify(['1', '1', 'device', 'phx_join', { device_api_version: '2.0.0' }])),
);
ws.on('message', () => {});
setInterval(() => ws.send(JSON.stringify([null, String(++ref), 'phoenix', 'heartbeat', {}])), 30_000);
