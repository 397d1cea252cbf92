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

/** Initialises a token in `dir` and imports `keyFile` (PEM) as object `label`. Returns the env SoftHSM needs. */
export function createSoftHsmToken(dir: string, keyFile: string, label: string): NodeJS.ProcessEnv {
  const tokens = join(dir, 'tokens');
  mkdirSync(tokens, { recursive: true });
  const conf = join(dir, 'softhsm2.conf');
  writeFileSync(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  const env = { ...process.env, SOFTHSM2_CONF: conf };
  const run = (file: string, args: string[]) =>
    execFileSync(file, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  run('softhsm2-util', [
    '--init-token',
    '--free',
    '--label',
    TOKEN_LABEL,
    '--pin',
    USER_PIN,
    '--so-pin',
    '5678',
  ]);
  const pkcs8 = join(dir, `${label}.p8`);
  run('openssl', ['pkcs8', '-topk8', '-nocrypt', '-in', keyFile, '-out', pkcs8]);
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
    USER_PIN,
  ]);
  return env;
}
