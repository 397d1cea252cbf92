import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTlsOptions } from '../src/index.js';
import { createPki, type Pki } from './support/pki.js';

let pki: Pki;
let ca: { certFile: string; keyFile: string };

beforeAll(async () => {
  pki = await createPki();
  ca = pki.deviceCa;
});
afterAll(() => pki.cleanup());

describe('createTlsOptions with a key file', () => {
  it('builds a context for a matching certificate and key, with no warnings', async () => {
    const device = await pki.leaf('dev-1');
    const tls = await createTlsOptions({ certFile: device.certFile, keyFile: device.keyFile });
    expect(tls.secureContext).toBeDefined();
    expect(tls.minVersion).toBe('TLSv1.2');
    expect(tls.maxVersion).toBe('TLSv1.2');
    expect(tls.certificate?.commonName).toBe('dev-1');
    expect(tls.certificate?.fingerprint).toMatch(/^[0-9A-F]{40}$/);
    expect(tls.warnings).toEqual([]);
  });

  it('accepts a certificate followed by its chain', async () => {
    const device = await pki.leaf('dev-chain');
    const bundle = join(pki.dir, 'chain-bundle.crt');
    writeFileSync(bundle, readFileSync(device.certFile, 'utf8') + readFileSync(ca.certFile, 'utf8'));
    const tls = await createTlsOptions({ certFile: bundle, keyFile: device.keyFile });
    expect(tls.certificate?.commonName).toBe('dev-chain');
  });

  it('names both files when the key belongs to another certificate', async () => {
    const a = await pki.leaf('dev-a');
    const b = await pki.leaf('dev-b');
    const error = await createTlsOptions({ certFile: a.certFile, keyFile: b.keyFile }).catch((e) => e);
    expect(error.code).toBe('AUTH_KEY_MISMATCH');
    expect(error.message).toContain(a.certFile);
    expect(error.message).toContain(b.keyFile);
  });

  it('says the chain is in the wrong order when the key matches a later certificate', async () => {
    const device = await pki.leaf('dev-order');
    const bundle = join(pki.dir, 'order-bundle.crt');
    writeFileSync(bundle, readFileSync(ca.certFile, 'utf8') + readFileSync(device.certFile, 'utf8'));
    const error = await createTlsOptions({ certFile: bundle, keyFile: device.keyFile }).catch((e) => e);
    expect(error.code).toBe('AUTH_KEY_MISMATCH');
    expect(error.message).toContain('must come first');
  });

  it('detects swapped certificate and key paths', async () => {
    const device = await pki.leaf('dev-swap');
    const error = await createTlsOptions({ certFile: device.keyFile, keyFile: device.certFile }).catch(
      (e) => e,
    );
    expect(error.code).toBe('AUTH_CERT_INVALID');
    expect(error.message).toContain('swap');
  });

  it('reports an unreadable file with its path', async () => {
    const missing = join(pki.dir, 'nope.crt');
    const error = await createTlsOptions({ certFile: missing, keyFile: missing }).catch((e) => e);
    expect(error.code).toBe('AUTH_FILE_UNREADABLE');
    expect(error.message).toContain(missing);
  });

  it('explains an encrypted key', async () => {
    const device = await pki.leaf('dev-enc');
    const encrypted = join(pki.dir, 'enc-encrypted.key');
    execFileSync('openssl', [
      'pkey',
      '-in',
      device.keyFile,
      '-aes256',
      '-passout',
      'pass:secret',
      '-out',
      encrypted,
    ]);
    const error = await createTlsOptions({ certFile: device.certFile, keyFile: encrypted }).catch((e) => e);
    expect(error.code).toBe('AUTH_KEY_INVALID');
    expect(error.message).toContain('encrypted');
  });

  it('warns, without failing, about an expired or not yet valid certificate', async () => {
    const expired = await pki.leaf('dev-old', { startDays: -10, endDays: -1 });
    const future = await pki.leaf('dev-new', { startDays: 2, endDays: 20 });
    const soon = await pki.leaf('dev-soon', { startDays: -1, endDays: 3 });
    const [a, b, c] = await Promise.all(
      [expired, future, soon].map((d) => createTlsOptions({ certFile: d.certFile, keyFile: d.keyFile })),
    );
    expect(a!.warnings.join()).toContain('expired');
    expect(b!.warnings.join()).toContain('clock');
    expect(c!.warnings.join()).toContain('expires in');
  });

  it('maps tlsVersion and rejects an unknown one', async () => {
    const any = await createTlsOptions({ tlsVersion: 'any' });
    expect([any.minVersion, any.maxVersion]).toEqual(['TLSv1.2', 'TLSv1.3']);
    // @ts-expect-error checked at run time too
    const error = await createTlsOptions({ tlsVersion: 'SSLv3' }).catch((e) => e);
    expect(error.code).toBe('AUTH_INVALID_ARGUMENT');
  });

  it('adds caFile to the system CAs and rejects a file without certificates', async () => {
    const tls = await createTlsOptions({ caFile: ca.certFile });
    expect(tls.ca.length).toBeGreaterThan(1);
    expect(tls.ca.at(-1)).toContain('BEGIN CERTIFICATE');
    const error = await createTlsOptions({ caFile: ca.keyFile }).catch((e) => e);
    expect(error.code).toBe('AUTH_CA_INVALID');
  });
});
