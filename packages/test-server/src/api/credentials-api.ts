/** Device credentials NervesHub knows: certificates (issued, registered), product and device keys. */
import { X509Certificate } from 'node:crypto';
import type { CertificateStore } from '../certificates.js';
import type { SharedSecretKeys } from '../socket/nh1-verifier.js';
import type { KnownCertificates } from '../socket/peer-certificate.js';
import type { DeviceCredentials } from '../test-server.js';

export interface CredentialStores {
  readonly certificates: CertificateStore;
  readonly knownCertificates: KnownCertificates;
  readonly productKeys: Map<string, string>;
  readonly deviceKeys: Map<string, { secret: string; identifier: string }>;
}

export function sharedSecretKeys(stores: CredentialStores): SharedSecretKeys {
  return { product: stores.productKeys, device: stores.deviceKeys };
}

export function deviceCredentials(stores: CredentialStores): DeviceCredentials {
  return {
    issueDeviceCertificate: (identifier, issue) => stores.certificates.issueDevice(identifier, issue),
    registerDeviceCertificate(certPem) {
      let certificate: X509Certificate;
      try {
        certificate = new X509Certificate(certPem);
      } catch (error) {
        throw new Error('registerDeviceCertificate takes a PEM certificate', { cause: error });
      }
      stores.knownCertificates.add(certificate.fingerprint256);
    },
    addProductKey: (key, secret) => void stores.productKeys.set(key, secret),
    addDeviceKey: (key, secret, identifier) => void stores.deviceKeys.set(key, { secret, identifier }),
  };
}
