import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTlsOptions, readSecretFile } from '@nerves-hub-link/auth';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import { asConfigProblem } from './setup-errors.js';

const dir = mkdtempSync(join(tmpdir(), 'nhl-setup-errors-'));
const mtls = parseConfig(
  `uri = "wss://h/socket/websocket"\n[auth]\nmethod = "mtls"\ncert_file = "missing.pem"\nkey_file = "key.pem"\n`,
  join(dir, 'device.toml'),
).config;

describe('asConfigProblem', () => {
  it('names the config key instead of the auth option, and exits 78', async () => {
    const error = await createTlsOptions({ certFile: join(dir, 'missing.pem'), keyFile: 'k' }).catch(
      (e) => e,
    );
    expect(error.message).toContain('(certFile)');
    const problem = asConfigProblem(error, mtls)!;
    expect(problem.exitCode).toBe(78);
    expect(problem.message).toBe(
      `cannot read the device certificate ${dir}/missing.pem (auth.cert_file): no such file (check the path) ` +
        `(config file ${dir}/device.toml)`,
    );
  });

  it('names the config key of a value the auth package refused, from the option the error names', async () => {
    const error = await createTlsOptions({ tlsVersion: 'TLSv1.0' as never }).catch((e) => e);
    expect(error.option).toBe('tlsVersion');
    expect(asConfigProblem(error, mtls)?.message).toMatch(
      /^tls_version: expected "TLSv1.2", "TLSv1.3" or "any", got .* \(config file /,
    );
  });

  it('adds auth.secret_file to a secret file problem', async () => {
    const secretFile = join(dir, 'secret');
    writeFileSync(secretFile, '');
    chmodSync(secretFile, 0o600);
    const config = parseConfig(
      `uri = "wss://h/device-socket/websocket"\n[identity]\nserial = "d"\n[auth]\nmethod = "shared_secret"\nkey = "nhp_k"\nsecret_file = "secret"\n`,
      join(dir, 'shared.toml'),
    ).config;
    const error = await readSecretFile(secretFile).catch((e) => e);
    expect(asConfigProblem(error, config)?.message).toMatch(
      new RegExp(`^the shared secret file ${secretFile} \\(auth.secret_file\\) is empty`),
    );
  });

  it('names both files of a key that does not match its certificate', () => {
    const error = Object.assign(
      new Error(
        `the private key ${dir}/key.pem does not belong to the certificate ${dir}/missing.pem (CN=d)`,
      ),
      { code: 'AUTH_KEY_MISMATCH' },
    );
    expect(asConfigProblem(error, mtls)?.message).toBe(
      `the private key ${dir}/key.pem (auth.key_file) does not belong to the certificate ${dir}/missing.pem ` +
        `(auth.cert_file) (CN=d) (config file ${dir}/device.toml)`,
    );
    const inCommand = Object.assign(new Error(`add it: \`openssl x509 -in ${dir}/missing.pem -pubkey\``), {
      code: 'AUTH_TOKEN_PUBLIC_KEY_MISSING',
    });
    expect(asConfigProblem(inCommand, mtls)?.message).toContain(`-in ${dir}/missing.pem -pubkey`);
  });

  it('leaves what a restart may cure to exit 1', () => {
    for (const code of [
      'AUTH_IDENTIFIER_TIMEOUT',
      'AUTH_ENGINE_INIT_FAILED',
      'FW_METADATA_UNAVAILABLE',
      undefined,
    ]) {
      expect(asConfigProblem(Object.assign(new Error('x'), { code }), mtls)).toBeUndefined();
    }
  });
});
