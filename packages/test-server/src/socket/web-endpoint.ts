/**
 * NervesHub's web endpoint as a device meets it (nerves_hub_web lib/nerves_hub_web/endpoint.ex): TLS without client
 * certificates, the health check (line 37), `/device-socket` for shared-secret devices (line 51), `/socket` for
 * browsers (line 45: UserSocket, whose connect/2 refuses anything without a user token, which Phoenix answers with
 * 403: lib/nerves_hub_web/channels/user_socket.ex lines 9-20, phoenix lib/phoenix/transports/websocket.ex lines
 * 85-86), and the router's 404 for every other path.
 */
import type { IncomingMessage } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { Duplex } from 'node:stream';
import type { SharedSecretPolicy } from './device-authentication.js';
import type { EndpointTls } from './device-endpoint.js';
import { deviceSocketOutcome } from './device-socket-path.js';
import { type RouteResult, wireEndpoint } from './endpoint-routes.js';
import { statusAnswer } from './status-paths.js';
import type { UpgradeFaults } from './upgrade-faults.js';

export interface WebEndpointOptions {
  readonly tls: EndpointTls;
  readonly sharedSecret: SharedSecretPolicy;
  readonly faults: UpgradeFaults;
  origin(): string;
  accept(req: IncomingMessage, socket: Duplex, head: Buffer, identifier: string): void;
}

export function createWebEndpoint(options: WebEndpointOptions): Server {
  const server = createServer({ ...options.tls, minVersion: 'TLSv1.2' });
  wireEndpoint(server, {
    faults: options.faults,
    origin: options.origin,
    accept: options.accept,
    route(req, isUpgrade): RouteResult {
      const { pathname } = new URL(req.url ?? '/', 'https://host');
      const status = statusAnswer(pathname);
      if (status) return status;
      if (pathname === '/socket/websocket') return { status: 403 };
      if (pathname !== '/device-socket/websocket') {
        return { status: 404, headers: { 'content-type': 'text/plain' }, body: 'Not Found' };
      }
      const outcome = deviceSocketOutcome(req, undefined, options.sharedSecret, isUpgrade);
      return outcome.kind === 'answer' ? outcome.answer : { identifier: outcome.identifier };
    },
  });
  return server;
}
