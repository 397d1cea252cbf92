// Certificates for tests: the test-server's certificate store (openssl CLI), in a temporary folder.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CertificatePair, CertificateStore } from '@nerves-hub-link/test-server';

export interface Pki {
  readonly dir: string;
  readonly store: CertificateStore;
  /** The CA that signs `leaf` certificates. */
  readonly deviceCa: { certFile: string; keyFile: string };
  /** The CA of the server certificate (`store.pair('server')`). */
  readonly serverCa: { certFile: string; keyFile: string };
  /** A device certificate for CN=`cn`, valid from `startDays` to `endDays` relative to today. */
  leaf(
    cn: string,
    options?: { startDays?: number; endDays?: number; otherCa?: boolean },
  ): Promise<CertificatePair>;
  cleanup(): void;
}

const DAY_MS = 86_400_000;

export async function createPki(): Promise<Pki> {
  const dir = mkdtempSync(join(tmpdir(), 'auth-pki-'));
  const store = await CertificateStore.create(join(dir, 'certs'));
  const files = (name: string) => ({
    certFile: store.path(`${name}.crt`),
    keyFile: store.path(`${name}.key`),
  });
  return {
    dir,
    store,
    deviceCa: files('device-ca'),
    serverCa: files('server-ca'),
    leaf: (cn, options = {}) =>
      store.issueDevice(cn, {
        notBefore: new Date(Date.now() + (options.startDays ?? -1) * DAY_MS),
        notAfter: new Date(Date.now() + (options.endDays ?? 365) * DAY_MS),
        ...(options.otherCa ? { ca: 'other' as const } : {}),
      }),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
