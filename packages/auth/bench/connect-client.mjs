// Child process of the connection benchmark: connects and joins `device` N times with one way of
// authenticating, and prints each setup time (process start excluded: credentials are loaded once, as the daemon does).
// Usage: node connect-client.mjs <mode> <count> <json settings>
import { Socket } from '@nerves-hub-link/phoenix-channel';
import { createTlsOptions, ServerClock, signSharedSecretHeaders } from '../dist/index.js';

const [mode, countText, settingsJson] = process.argv.slice(2);
const settings = JSON.parse(settingsJson);
const count = Number(countText);
const tlsInput =
  mode === 'shared-secret'
    ? { caFile: settings.caFile }
    : mode === 'mtls-hsm'
      ? { certFile: settings.certFile, keyEngine: 'pkcs11', keyId: settings.keyId, caFile: settings.caFile }
      : { certFile: settings.certFile, keyFile: settings.keyFile, caFile: settings.caFile };
const tls = await createTlsOptions(tlsInput);
const clock = new ServerClock();
const times = [];
for (let i = 0; i < count; i++) {
  const started = performance.now();
  const socket = new Socket(settings.url, {
    tls: { secureContext: tls.secureContext },
    ...(mode === 'shared-secret'
      ? {
          headers: () => ({
            ...signSharedSecretHeaders({
              key: settings.key,
              secret: settings.secret,
              identifier: 'bench-ss',
              nowMs: clock.nowMs(),
            }),
          }),
        }
      : {}),
  });
  const channel = socket.channel('device', { device_api_version: '2.0.0' });
  socket.connect();
  await channel.join({ signal: AbortSignal.timeout(10_000) });
  times.push(performance.now() - started);
  await socket.close();
}
process.stdout.write(`${JSON.stringify(times)}\n`);
