// Every error about one input of the API says which in `option`, so a program can name its own config key for it.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AuthError,
  type AuthOption,
  createTlsOptions,
  readSecretFile,
  resolveIdentifier,
  ServerPinCheck,
  signSharedSecretHeaders,
} from '../src/index.js';
import { createPki, type Pki } from './support/pki.js';

let pki: Pki;
beforeAll(async () => {
  pki = await createPki();
});
afterAll(() => pki.cleanup());

async function failure(run: () => unknown): Promise<AuthError> {
  try {
    await run();
  } catch (error) {
    return error as AuthError;
  }
  throw new Error('expected a failure, got a result');
}

describe('`option` of an AuthError', () => {
  it('names the createTlsOptions input at fault', async () => {
    const device = await pki.leaf('dev-options');
    const other = await pki.leaf('dev-other');
    const missing = join(pki.dir, 'missing.pem');
    const cases: [AuthOption, () => unknown][] = [
      ['certFile', () => createTlsOptions({ certFile: missing, keyFile: device.keyFile })],
      ['certFile', () => createTlsOptions({ certFile: device.keyFile, keyFile: device.keyFile })],
      ['keyFile', () => createTlsOptions({ certFile: device.certFile, keyFile: missing })],
      ['keyFile', () => createTlsOptions({ certFile: device.certFile, keyFile: other.keyFile })],
      ['keyFile', () => createTlsOptions({ certFile: device.certFile })],
      ['caFile', () => createTlsOptions({ caFile: device.keyFile })],
      [
        'keyEngine',
        () => createTlsOptions({ certFile: device.certFile, keyEngine: 'no-such-engine', keyId: 'k' }),
      ],
      ['keyId', () => createTlsOptions({ certFile: device.certFile, keyEngine: 'pkcs11' })],
    ];
    for (const [option, run] of cases) expect((await failure(run)).option).toBe(option);
  });

  it('echoes a bad setting by the one rule', async () => {
    const error = await failure(() => createTlsOptions({ tlsVersion: 'TLSv1.4' as 'any' }));
    expect(error).toMatchObject({ code: 'AUTH_INVALID_ARGUMENT', option: 'tlsVersion' });
    expect(error.message).toBe('tlsVersion: expected "TLSv1.2", "TLSv1.3" or "any", got "TLSv1.4"');
  });

  it('names the shared secret file, the identifier source and the pins', async () => {
    const empty = join(pki.dir, 'empty-secret');
    writeFileSync(empty, '');
    expect((await failure(() => readSecretFile(empty))).option).toBe('path');
    expect((await failure(() => readSecretFile(join(pki.dir, 'none')))).option).toBe('path');
    expect((await failure(() => resolveIdentifier({ command: ['false'] }))).option).toBe('command');
    expect((await failure(() => resolveIdentifier({ command: ['true'] }))).option).toBe('command');
    expect((await failure(() => resolveIdentifier({ value: ' ' }))).option).toBe('value');
    expect((await failure(() => resolveIdentifier({ command: ['true'], timeoutMs: 0 }))).option).toBe(
      'timeoutMs',
    );
    expect((await failure(() => new ServerPinCheck({ pins: ['sha256/x'] }))).option).toBe('pins');
    expect(
      (await failure(() => signSharedSecretHeaders({ key: 'k', secret: '', identifier: 'd' }))).option,
    ).toBe('secret');
  });
});
