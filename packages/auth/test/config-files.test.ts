// Files named in a configuration (certificate, key, CA, shared secret) are read only when they are regular
// files of a sane size: a device or a FIFO given by mistake must fail at once with the path and the problem.
import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTlsOptions, readSecretFile, resolveIdentifier } from '../src/index.js';
import { createPki, type Pki } from './support/pki.js';

let pki: Pki;
let device: { certFile: string; keyFile: string };
const fifos: string[] = [];

beforeAll(async () => {
  pki = await createPki();
  device = await pki.leaf('dev-files');
});
afterAll(() => {
  // A reader stuck opening a FIFO (the behaviour these tests guard against) is released by a writer.
  for (const fifo of fifos) {
    try {
      closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
    } catch {
      // No reader waiting: nothing to release.
    }
  }
  pki.cleanup();
});

function fifo(name: string): string {
  const path = join(pki.dir, name);
  execFileSync('mkfifo', [path]);
  fifos.push(path);
  return path;
}

/** A PEM-looking file of `bytes` bytes: too big, yet made of what a certificate file holds. */
function bigPem(name: string, bytes: number): string {
  const path = join(pki.dir, name);
  const cert = readFileSync(device.certFile, 'utf8');
  writeFileSync(path, cert.repeat(Math.ceil(bytes / cert.length)).slice(0, bytes));
  return path;
}

/** The error of `promise`, or a failure when it does not settle in time (a read hung on a FIFO). */
async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('still waiting after 3 s: the read hangs')), 3000);
  });
  try {
    await Promise.race([promise, hung]);
  } catch (error) {
    if ((error as Error).message.startsWith('still waiting')) throw error;
    return error as { code: string; message: string };
  } finally {
    clearTimeout(timer);
  }
  throw new Error('expected a failure, got a result');
}

describe('files named in the configuration', () => {
  it('refuses a device as certFile without reading it', async () => {
    const started = process.hrtime.bigint();
    const error = await failure(createTlsOptions({ certFile: '/dev/zero', keyFile: device.keyFile }));
    expect(error.code).toBe('AUTH_FILE_UNREADABLE');
    expect(error.message).toContain('/dev/zero (certFile)');
    expect(error.message).toContain('is not a regular file (it is a character device)');
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(1000);
  });

  it('refuses a FIFO as keyFile at once instead of waiting for a writer', async () => {
    const path = fifo('key.fifo');
    const error = await failure(createTlsOptions({ certFile: device.certFile, keyFile: path }));
    expect(error.code).toBe('AUTH_FILE_UNREADABLE');
    expect(error.message).toContain(`${path} (keyFile)`);
    expect(error.message).toContain('is not a regular file (it is a FIFO)');
  });

  it('refuses a directory as caFile', async () => {
    const error = await failure(createTlsOptions({ caFile: pki.dir }));
    expect(error.code).toBe('AUTH_FILE_UNREADABLE');
    expect(error.message).toContain('is not a regular file (it is a directory)');
  });

  it('refuses a certificate file larger than 64 KiB and a CA file larger than 1 MiB', async () => {
    const certFile = bigPem('big.crt', 64 * 1024 + 1);
    const certError = await failure(createTlsOptions({ certFile, keyFile: device.keyFile }));
    expect(certError.code).toBe('AUTH_FILE_UNREADABLE');
    expect(certError.message).toContain(`${certFile} (certFile)`);
    expect(certError.message).toContain('is larger than 64 KiB');

    const caFile = bigPem('big-ca.crt', 1024 * 1024 + 1);
    const caError = await failure(createTlsOptions({ caFile }));
    expect(caError.message).toContain(`${caFile} (caFile)`);
    expect(caError.message).toContain('is larger than 1024 KiB');
  });

  it('accepts files right at the limits and a symbolic link to a regular file', async () => {
    const link = join(pki.dir, 'device-link.crt');
    symlinkSync(device.certFile, link);
    const tls = await createTlsOptions({ certFile: link, keyFile: device.keyFile });
    expect(tls.certificate?.commonName).toBe('dev-files');
    const caFile = join(pki.dir, 'ca-at-limit.crt');
    const ca = readFileSync(pki.deviceCa.certFile, 'utf8');
    writeFileSync(caFile, ca.padEnd(1024 * 1024, '\n'));
    expect((await createTlsOptions({ caFile })).ca.at(-1)).toContain('BEGIN CERTIFICATE');
  });

  it('refuses a FIFO, a device or a huge file as the shared secret file', async () => {
    const path = fifo('secret.fifo');
    const fromFifo = await failure(readSecretFile(path));
    expect(fromFifo.code).toBe('AUTH_SECRET_UNREADABLE');
    expect(fromFifo.message).toContain(path);
    expect(fromFifo.message).toContain('is not a regular file (it is a FIFO)');

    expect((await failure(readSecretFile('/dev/zero'))).message).toContain('is not a regular file');

    const big = join(pki.dir, 'big-secret');
    writeFileSync(big, 'x'.repeat(4 * 1024 + 1), { mode: 0o600 });
    expect((await failure(readSecretFile(big))).message).toContain('is larger than 4 KiB');
  });

  it('refuses a FIFO as the certificate the identifier is read from', async () => {
    const path = fifo('identity.fifo');
    const error = await failure(resolveIdentifier({ certFile: path }));
    expect(error.code).toBe('AUTH_FILE_UNREADABLE');
    expect(error.message).toContain('is not a regular file (it is a FIFO)');
  });
});
