// A device for the benchmarks: its certificate from the test-server, a U-Boot-style firmware environment on slot
// a, and a config that runs bench/reading-fwup.sh as fwup and `true` as the reboot command. One writer for the
// daemon, update and soak benchmarks, so that all measure the same daemon setup.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deviceConfig, firmwareEnvironment } from '@nerves-hub-link/test-server';

const readingFwup = fileURLToPath(new URL('./reading-fwup.sh', import.meta.url));

/**
 * Writes `dir/identifier/` (firmware.env, config.toml) for a device of `server`, with the test-server's writer of
 * device files. `heartbeatIntervalMs` goes in the config when given. Returns the paths the benchmarks use and the
 * device certificate.
 */
export async function writeBenchDevice(server, dir, identifier, { product, heartbeatIntervalMs } = {}) {
  const deviceDir = join(dir, identifier);
  mkdirSync(deviceDir, { recursive: true });
  const certificate = await server.issueDeviceCertificate(identifier);
  const environmentFile = join(deviceDir, 'firmware.env');
  writeFileSync(
    environmentFile,
    firmwareEnvironment({
      devpath: join(deviceDir, 'disk.img'),
      uuid: '0a6f1b4e-0000-4000-8000-000000000001',
      product: product ?? 'bench',
    }),
  );
  const configFile = join(deviceDir, 'config.toml');
  writeFileSync(
    configFile,
    deviceConfig({
      uri: server.mtlsUrl,
      deviceDir,
      identifier,
      auth: { method: 'mtls', certFile: certificate.certFile, keyFile: certificate.keyFile },
      caFile: server.ca.certFile,
      fwupPath: readingFwup,
      signingKeys: false,
      // reading-fwup.sh checks no signature; a key keeps the daemon on its production path.
      publicKeys: [randomBytes(32).toString('base64')],
      metadataFile: environmentFile,
      settings: {
        ...(heartbeatIntervalMs === undefined ? {} : { heartbeat_interval_ms: heartbeatIntervalMs }),
        commands: { reboot: ['true'] },
      },
    }),
  );
  return { deviceDir, configFile, dataDir: join(deviceDir, 'data'), certificate };
}
