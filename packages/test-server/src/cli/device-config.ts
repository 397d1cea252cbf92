/** The nerves-hub-link config the CLI prints: it works against this server as it is. */

export interface DeviceConfigInput {
  readonly uri: string;
  readonly dir: string;
  readonly identifier: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile: string;
  readonly fwupPath: string;
  readonly devicePath: string;
  /** The server sends signing keys on join; without any, the device must accept unsigned firmware. */
  readonly signingKeys: boolean;
}

export function deviceConfig(input: DeviceConfigInput): string {
  const fwup = [
    '[fwup]',
    `path = ${quote(input.fwupPath)}`,
    `devpath = ${quote(input.devicePath)}`,
    ...(input.signingKeys
      ? ['# Signing keys come from the server when the device joins (--public-key).']
      : [
          '# For unsigned local firmware only: no --public-key was given, so the server has no signing key to send,',
          '# and without a key the daemon refuses every update. Never set this on a real device.',
          'allow_unsigned = true',
        ]),
  ];
  return [
    `uri = ${quote(input.uri)}`,
    `data_dir = ${quote(`${input.dir}/device-data`)}`,
    '',
    '[identity]',
    `serial = ${quote(input.identifier)}`,
    '',
    '[auth]',
    'method = "mtls"',
    `cert_file = ${quote(input.certFile)}`,
    `key_file = ${quote(input.keyFile)}`,
    `ca_file = ${quote(input.caFile)}`,
    '',
    ...fwup,
    '',
    '[metadata.values]',
    'nerves_fw_uuid = "00000000-0000-4000-8000-000000000000"',
    'nerves_fw_product = "demo"',
    'nerves_fw_version = "1.0.0"',
    'nerves_fw_platform = "host"',
    'nerves_fw_architecture = "x86_64"',
    '',
    '[commands]',
    'reboot = ["echo", "would reboot now"]',
    '',
  ].join('\n');
}

/** A TOML basic string. */
function quote(value: string): string {
  return JSON.stringify(value);
}
