import { createTlsOptions, type TlsOptions } from '@nerves-hub-link/auth';
import type { Config } from '../config/config.js';

/**
 * The device's TLS credentials, loaded once: one secure context for the device socket, with the device key for
 * mTLS (a PEM file or a key inside an HSM), and the trust anchors both the socket and the downloads check servers
 * with. Certificate dates and the key match are checked here, so a broken setup fails at start.
 */
export function loadDeviceTls(config: Config): Promise<TlsOptions> {
  const { auth, tlsVersion } = config;
  const caFile = auth.caFile ? { caFile: auth.caFile } : {};
  if (auth.method !== 'mtls') return createTlsOptions({ ...caFile, tlsVersion });
  const key = auth.keyEngine ? { keyEngine: auth.keyEngine, keyId: auth.keyId! } : { keyFile: auth.keyFile! };
  return createTlsOptions({ certFile: auth.certFile, ...key, ...caFile, tlsVersion });
}
