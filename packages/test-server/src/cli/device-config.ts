/** The nerves-hub-link configs the CLI writes: each works against this server as it is. */

export interface DeviceConfigInput {
  readonly uri: string;
  /** This device's own folder: its data dir and the disk image fwup writes go there. */
  readonly deviceDir: string;
  readonly identifier: string;
  readonly auth: MtlsAuth | SharedSecretAuth;
  readonly caFile: string;
  readonly fwupPath: string;
  /** The server sends signing keys on join; without any, the device must accept unsigned firmware. */
  readonly signingKeys: boolean;
}

export interface MtlsAuth {
  readonly method: 'mtls';
  readonly certFile: string;
  readonly keyFile: string;
}

export interface SharedSecretAuth {
  readonly method: 'shared_secret';
  /** A product key (`nhp_…`): the server trusts the identifier in the signature. */
  readonly key: string;
  readonly secretFile: string;
}

export function deviceConfig(input: DeviceConfigInput): string {
  const fwup = [
    '[fwup]',
    `path = ${quote(input.fwupPath)}`,
    `devpath = ${quote(`${input.deviceDir}/disk.img`)}`,
    ...(input.signingKeys
      ? ['# Signing keys come from the server when the device joins (--public-key).']
      : [
          '# For unsigned local firmware only: no --public-key was given, so the server has no signing key to send,',
          '# and without a key the daemon refuses every update. Never set this on a real device.',
          'allow_unsigned = true',
        ]),
  ];
  const { auth } = input;
  const authLines =
    auth.method === 'mtls'
      ? ['method = "mtls"', `cert_file = ${quote(auth.certFile)}`, `key_file = ${quote(auth.keyFile)}`]
      : ['method = "shared_secret"', `key = ${quote(auth.key)}`, `secret_file = ${quote(auth.secretFile)}`];
  return [
    `uri = ${quote(input.uri)}`,
    `data_dir = ${quote(`${input.deviceDir}/data`)}`,
    '',
    '[identity]',
    `serial = ${quote(input.identifier)}`,
    '',
    '[auth]',
    ...authLines,
    `ca_file = ${quote(input.caFile)}`,
    '',
    ...fwup,
    '',
    '# The firmware this device runs. Nothing really reboots here, so every run reports 1.0.0 again.',
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
    '# Slow enough that the download takes a few seconds (the example firmware is 257 KiB), so that the live',
    '# progress line shows on a terminal. Remove it to download at full speed.',
    '[download]',
    'max_rate = "64 KiB/s"',
    '',
  ].join('\n');
}

/** A TOML basic string. */
function quote(value: string): string {
  return JSON.stringify(value);
}
