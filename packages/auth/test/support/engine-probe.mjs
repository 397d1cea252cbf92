// Loads an engine key in a fresh process (an engine caches its login per process), optionally joins the
// test-server's mTLS socket with it, and prints the outcome as JSON on stdout. A failure is also printed to
// stderr in full (every property, the cause, OpenSSL's error stack), as a careless caller might log it, and
// the outcome lists descriptors still open on a PIN file: tests look for the PIN in everything printed.
// Usage: node engine-probe.mjs <certFile> <engine> <keyId> [<wss url> <ca file>]
import { readdirSync, readlinkSync } from 'node:fs';
import { inspect } from 'node:util';
import { Socket } from '@nerves-hub-link/phoenix-channel';
import { createTlsOptions } from '../../dist/index.js';

const [certFile, keyEngine, keyId, url, caFile] = process.argv.slice(2);

function pinDescriptors() {
  const open = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (target.includes('nerves-hub-link-pin-')) open.push(target);
    } catch {
      // The descriptor readdir itself used is gone by now.
    }
  }
  return open;
}

function report(outcome) {
  process.stdout.write(`${JSON.stringify({ ...outcome, pinDescriptors: pinDescriptors() })}\n`);
}

try {
  const tls = await createTlsOptions({ certFile, keyEngine, keyId, ...(caFile ? { caFile } : {}) });
  if (url) {
    const socket = new Socket(url, {
      tls: { secureContext: tls.secureContext },
      reconnectAfterMs: () => 60_000,
    });
    socket.on('error', (error) => {
      report({ ok: false, code: error.code, message: error.message });
      process.exit(0);
    });
    const channel = socket.channel('device', { device_api_version: '2.0.0' });
    socket.connect();
    await channel.join({ signal: AbortSignal.timeout(10_000) });
    await socket.close();
  }
  report({ ok: true, cn: tls.certificate?.commonName });
} catch (error) {
  process.stderr.write(`${inspect(error, { showHidden: true, depth: null })}\n`);
  report({ ok: false, code: error.code, message: error.message });
}
