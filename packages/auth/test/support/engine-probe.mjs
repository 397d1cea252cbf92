// Loads an engine key in a fresh process (an engine caches its login per process) and prints the outcome as JSON.
// Usage: node engine-probe.mjs <certFile> <engine> <keyId>
import { createTlsOptions } from '../../dist/index.js';

const [certFile, keyEngine, keyId] = process.argv.slice(2);
try {
  const tls = await createTlsOptions({ certFile, keyEngine, keyId });
  process.stdout.write(`${JSON.stringify({ ok: true, cn: tls.certificate?.commonName })}\n`);
} catch (error) {
  process.stdout.write(`${JSON.stringify({ ok: false, code: error.code, message: error.message })}\n`);
}
