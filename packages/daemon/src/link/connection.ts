import {
  type PresentedCertificate,
  readSecretFile,
  ServerPinCheck,
  type TlsOptions,
} from '@nerves-hub-link/auth';
import type { SocketOptions } from '@nerves-hub-link/phoenix-channel';
import type { Config } from '../config/config.js';
import type { AuthConfig } from '../config/sections/auth.js';
import type { DaemonLogger } from '../log/logger.js';
import { type ConnectionFacts, describeConnectionError } from './connection-errors.js';
import { type ProxySettings, proxySettings } from './proxy-route.js';
import { SharedSecretSigning } from './shared-secret-signing.js';

/** How the device socket reaches NervesHub: its URL and options, and what a failed attempt means. */
export interface Connection {
  readonly url: string;
  readonly socketOptions: SocketOptions;
  /**
   * Learns from a failed attempt (the server clock from a 401's Date header). True when it learnt something
   * that makes another attempt worth it at once.
   */
  onConnectionError(error: Error): boolean;
  /** A failed attempt explained for the operator (TLS, proxy and pin failures get their likely fix). */
  describeError(error: Error): string;
  /** How the socket reaches the server: through which proxy, or why directly (for `check`). */
  readonly route: string;
  /** The certificate chain of the last server the socket reached: the pins an operator may copy. */
  presentedChain(): readonly PresentedCertificate[] | undefined;
}

/** The device socket's URL, options and error handling. `now` is the device clock (tests shift it). */
export async function buildConnection(
  config: Config,
  identifier: string,
  tls: Pick<TlsOptions, 'secureContext' | 'minVersion' | 'maxVersion'>,
  logger: DaemonLogger,
  now: () => number = Date.now,
  proxy: ProxySettings = proxySettings(config.network, {}),
): Promise<Connection> {
  const { auth } = config;
  // Always installed: it records the chain each server presents (for `check`), and enforces the pins if any.
  const pins = new ServerPinCheck({ pins: auth.serverPins ?? [], setting: 'auth.server_pins' });
  const signing =
    auth.method === 'shared_secret'
      ? new SharedSecretSigning({
          key: auth.key,
          secret: await sharedSecret(auth, logger),
          identifier,
          now,
          logger,
        })
      : undefined;
  const facts: ConnectionFacts =
    auth.method === 'mtls'
      ? { method: 'mtls', uri: config.uri, certFile: auth.certFile }
      : {
          method: 'shared_secret',
          uri: config.uri,
          secretFile: auth.secretFile,
          serverClockOffsetMs: () => signing?.clockOffsetMs ?? 0,
        };
  return {
    url: config.uri,
    socketOptions: {
      tls: {
        secureContext: tls.secureContext,
        minVersion: tls.minVersion,
        maxVersion: tls.maxVersion,
        checkServerIdentity: pins.checkServerIdentity,
      },
      proxy: proxy.routeFor,
      // Signed immediately before every attempt, on the server's clock as far as we know it.
      ...(signing ? { headers: () => signing.headers() } : {}),
    },
    onConnectionError: (error) => signing?.learnFrom(error) ?? false,
    describeError: (error) => describeConnectionError(error, facts),
    route: proxy.decide(new URL(config.uri)).description,
    presentedChain: () => pins.lastPresented?.chain,
  };
}

/** `auth.secret`, else the content of `auth.secret_file`; from now on never logged. */
async function sharedSecret(
  auth: Extract<AuthConfig, { method: 'shared_secret' }>,
  logger: DaemonLogger,
): Promise<string> {
  let secret = auth.secret;
  if (secret === undefined) {
    // Its warnings (a mode that lets others read it) are left out: loading the config already said so, with the key.
    secret = (await readSecretFile(auth.secretFile!)).secret;
  }
  logger.addSecret(secret);
  return secret;
}
