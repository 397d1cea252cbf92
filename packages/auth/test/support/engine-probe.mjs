// Loads an engine key in a fresh process (an engine caches its login per process), optionally joins the
// test-server's mTLS socket with it, and prints the outcome as JSON.
// Usage: node engine-probe.mjs <certFile> <engine> <keyId> [<wss url> <ca file>]
import { Socket } from '@nerves-hub-link/phoenix-channel';
import { createTlsOptions } from '../../dist/index.js';

const [certFile, keyEngine, keyId, url, caFile] = process.argv.slice(2);
try {
  const tls = await createTlsOptions({ certFile, keyEngine, keyId, ...(caFile ? { caFile } : {}) });
  if (url) {
    const socket = new Socket(url, {
      tls: { secureContext: tls.secureContext },
      reconnectAfterMs: () => 60_000,
    });
    socket.on('error', (error) => {
      process.stdout.write(`${JSON.stringify({ ok: false, code: error.code, message: error.message })}\n`);
      process.exit(0);
    });
    const channel = socket.channel('device', { device_api_version: '2.0.0' });
    socket.connect();
    await channel.join({ signal: AbortSignal.timeout(10_000) });
    await socket.close();
  }
  process.stdout.write(`${JSON.stringify({ ok: true, cn: tls.certificate?.commonName })}\n`);
} catch (error) {
  process.stdout.write(`${JSON.stringify({ ok: false, code: error.code, message: error.message })}\n`);
}
