// A device for the benchmarks: its certificate from the test-server, a U-Boot-style firmware environment on slot
// a, and a config that runs bench/reading-fwup.sh as fwup and `true` as the reboot command. One writer for the
// daemon, update and soak benchmarks, so that all measure the same daemon setup.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const readingFwup = fileURLToPath(new URL('./reading-fwup.sh', import.meta.url));

/**
 * Writes `dir/identifier/` (firmware.env, config.toml) for a device of `server`. `heartbeatIntervalMs` goes in
 * the config when given. Returns the paths the benchmarks use and the
 * device certificate.
 */
export async function writeBenchDevice(server, dir, identifier, { product, heartbeatIntervalMs } = {}) {
  const deviceDir = join(dir, identifier);
  mkdirSync(deviceDir, { recursive: true });
  const certificate = await server.issueDeviceCertificate(identifier);
  const environmentFile = join(deviceDir, 'firmware.env');
  writeFileSync(
    environmentFile,
    [
      'nerves_fw_active=a',
      `nerves_fw_devpath=${join(deviceDir, 'disk.img')}`,
      'a.nerves_fw_uuid=0a6f1b4e-0000-4000-8000-000000000001',
      `a.nerves_fw_product=${product ?? 'bench'}`,
      'a.nerves_fw_version=1.0.0',
      'a.nerves_fw_platform=host',
      'a.nerves_fw_architecture=x86_64',
      'a.nerves_fw_validated=1',
      '',
    ].join('\n'),
  );
  const configFile = join(deviceDir, 'config.toml');
  writeFileSync(
    configFile,
    [
      `uri = "${server.mtlsUrl}"`,
      `data_dir = "${join(deviceDir, 'data')}"`,
      ...(heartbeatIntervalMs === undefined ? [] : [`heartbeat_interval_ms = ${heartbeatIntervalMs}`]),
      '[identity]',
      `serial = "${identifier}"`,
      '[auth]',
      'method = "mtls"',
      `cert_file = "${certificate.certFile}"`,
      `key_file = "${certificate.keyFile}"`,
      `ca_file = "${server.ca.certFile}"`,
      '[fwup]',
      `path = "${readingFwup}"`,
      // reading-fwup.sh checks no signature; a key keeps the daemon on its production path.
      `public_keys = ["${randomBytes(32).toString('base64')}"]`,
      '[metadata]',
      `file = "${environmentFile}"`,
      '[commands]',
      'reboot = ["true"]',
      '',
    ].join('\n'),
  );
  return { deviceDir, configFile, dataDir: join(deviceDir, 'data'), certificate };
}
