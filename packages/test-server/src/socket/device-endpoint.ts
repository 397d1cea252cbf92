/**
 * NervesHub's device endpoint (nerves_hub_web lib/nerves_hub_web/device_endpoint.ex): one TLS listener that asks
 * for a client certificate without requiring one, with the same device socket on both `/socket` and
 * `/device-socket` (lines 15-41; either accepts a certificate or NH1 headers), the health check (line 43), and a 301 to DEVICE_ENDPOINT_REDIRECT for every
 * other path (lib/nerves_hub_web/plugs/device_endpoint_redirect.ex lines 8-17, default from config/runtime.exs
 * line 52), upgrades included.
 */
import type { IncomingMessage } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { SharedSecretPolicy } from './device-authentication.js';
import { deviceSocketOutcome } from './device-socket-path.js';
import { type RouteResult, wireEndpoint } from './endpoint-routes.js';
import { decidePeer, type KnownCertificates } from './peer-certificate.js';
import { statusAnswer } from './status-paths.js';
import type { UpgradeFaults } from './upgrade-faults.js';

export const DEVICE_SOCKET_PATHS = ['/socket/websocket', '/device-socket/websocket'] as const;

export interface EndpointTls {
  readonly cert: string;
  readonly key: string;
}

export interface DeviceEndpointOptions {
  readonly tls: EndpointTls;
  /** The CA whose device certificates pass path validation. */
  readonly deviceCaPem: string;
  readonly knownCertificates: KnownCertificates;
  readonly sharedSecret: SharedSecretPolicy;
  readonly faults: UpgradeFaults;
  /** DEVICE_ENDPOINT_REDIRECT. */
  readonly redirectTo: string;
  /** `https://127.0.0.1:<port>`, for redirects to a path of this listener. */
  origin(): string;
  /** Hands an authenticated upgrade over to the device's WebSocket. */
  accept(req: IncomingMessage, socket: Duplex, head: Buffer, identifier: string): void;
}

export function createDeviceEndpoint(options: DeviceEndpointOptions): Server {
  const peers = new WeakMap<object, string | undefined>();
  const server = createServer({
    ...options.tls,
    minVersion: 'TLSv1.2',
    ca: options.deviceCaPem,
    requestCert: true,
    rejectUnauthorized: false,
  });
  // Refused during the handshake: a TLS 1.2 device sees the connection end before it is established.
  server.on('secureConnection', (socket: TLSSocket) => {
    const decision = decidePeer(socket, options.knownCertificates);
    if (decision.kind === 'refused') socket.destroy();
    else peers.set(socket, decision.kind === 'accepted' ? decision.identifier : undefined);
  });
  wireEndpoint(server, {
    faults: options.faults,
    origin: options.origin,
    accept: options.accept,
    route(req, isUpgrade): RouteResult {
      const { pathname } = new URL(req.url ?? '/', 'https://host');
      const status = statusAnswer(pathname);
      if (status) return status;
      if (!(DEVICE_SOCKET_PATHS as readonly string[]).includes(pathname)) {
        return { status: 301, headers: { location: options.redirectTo } };
      }
      const outcome = deviceSocketOutcome(req, peers.get(req.socket), options.sharedSecret, isUpgrade);
      return outcome.kind === 'answer' ? outcome.answer : { identifier: outcome.identifier };
    },
  });
  return server;
}
