/**
 * The TLS context for firmware hosts when extra trust anchors are configured: the bundled root certificates plus
 * those, built once and shared by every download of the process. Handing `ca` to each connection instead makes
 * Node build a context per connection, parsing some 140 root certificates every time: about 1 MiB of OpenSSL
 * allocations per download, freed only when a full GC finds the context, by which time malloc keeps the pages
 * (a daemon's RSS grew 1.2 MiB per update over 100 updates; packages/daemon/bench/soak.bench.mjs).
 */
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';

let last: { readonly anchors: string; readonly context: SecureContext } | undefined;

/** A context trusting the root certificates and `extraCa` (PEM); the same object while `extraCa` is the same. */
export function trustContext(extraCa: readonly (string | Buffer)[]): SecureContext {
  const pems = extraCa.map(String);
  const anchors = pems.join('\n');
  if (last?.anchors !== anchors) {
    last = { anchors, context: createSecureContext({ ca: [...rootCertificates, ...pems] }) };
  }
  return last.context;
}
