// A SoftHSM token holding a device key, for tests of engine-held keys (pkcs11 engine, as on a device with an HSM).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const TOKEN_LABEL = 'device';
export const USER_PIN = '1234';

/** Why the HSM tests cannot run here, or undefined when they can. */
export function softHsmUnavailable(): string | undefined {
  if (spawnSync('softhsm2-util', ['--version']).status !== 0)
    return 'softhsm2-util not found (apt-get install softhsm2)';
  const engine = [
    '/usr/lib/x86_64-linux-gnu/engines-3',
    '/usr/lib/aarch64-linux-gnu/engines-3',
    '/usr/lib/engines-3',
  ].some((dir) => existsSync(join(dir, 'pkcs11.so')));
  if (!engine) return 'the OpenSSL pkcs11 engine is missing (apt-get install libengine-pkcs11-openssl)';
  return undefined;
}

/** Where Debian and Fedora put SoftHSM's PKCS#11 module (what pkcs11-tool needs as --module). */
export function softHsmModule(): string | undefined {
  return [
    '/usr/lib/softhsm/libsofthsm2.so',
    '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so',
    '/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so',
    '/usr/lib64/pkcs11/libsofthsm2.so',
  ].find((path) => existsSync(path));
}

export interface TokenOptions {
  /** The user PIN. @default USER_PIN */
  readonly pin?: string;
  /**
   * Import the private key alone, without its public-key object (as `pkcs11-tool --write-object --type privkey`
   * does), like a token where only the key was imported. Needs pkcs11-tool (opensc).
   */
  readonly privateKeyOnly?: boolean;
}

/** Initialises a token in `dir` and imports `keyFile` (PEM) as object `label`. Returns the env SoftHSM needs. */
export function createSoftHsmToken(
  dir: string,
  keyFile: string,
  label: string,
  options: TokenOptions = {},
): NodeJS.ProcessEnv {
  const pin = options.pin ?? USER_PIN;
  const tokens = join(dir, 'tokens');
  mkdirSync(tokens, { recursive: true });
  const conf = join(dir, 'softhsm2.conf');
  writeFileSync(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  const env = { ...process.env, SOFTHSM2_CONF: conf };
  const run = (file: string, args: string[]) =>
    execFileSync(file, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  run('softhsm2-util', ['--init-token', '--free', '--label', TOKEN_LABEL, '--pin', pin, '--so-pin', '5678']);
  const pkcs8 = join(dir, `${label}.p8`);
  run('openssl', ['pkcs8', '-topk8', '-nocrypt', '-in', keyFile, '-out', pkcs8]);
  if (options.privateKeyOnly) {
    const module = softHsmModule();
    if (!module) throw new Error('the SoftHSM PKCS#11 module was not found');
    run('pkcs11-tool', [
      ...['--module', module, '--token-label', TOKEN_LABEL, '--login', '--pin', pin],
      ...['--write-object', pkcs8, '--type', 'privkey', '--id', '01', '--label', label],
    ]);
    return env;
  }
  run('softhsm2-util', [
    '--import',
    pkcs8,
    '--token',
    TOKEN_LABEL,
    '--label',
    label,
    '--id',
    '01',
    '--pin',
    pin,
  ]);
  return env;
}
