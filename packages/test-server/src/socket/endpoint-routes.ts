/**
 * The wiring both endpoints share: plain requests and upgrades go through one route; the upgrade test switches
 * come first; an upgrade the route accepts becomes the device's WebSocket.
 */
import type { IncomingMessage } from 'node:http';
import type { Server } from 'node:https';
import type { Duplex } from 'node:stream';
import { answerRequest, answerUpgrade, type HttpAnswer } from './http-answer.js';
import type { UpgradeFaults } from './upgrade-faults.js';

/** An answer, or the identifier of an authenticated device socket upgrade. */
export type RouteResult = HttpAnswer | { readonly identifier: string };

export interface EndpointWiring {
  readonly faults: UpgradeFaults;
  /** `https://127.0.0.1:<port>`, for redirects to a path of this listener. */
  origin(): string;
  route(req: IncomingMessage, isUpgrade: boolean): RouteResult;
  /** Hands an authenticated upgrade over to the device's WebSocket. */
  accept(req: IncomingMessage, socket: Duplex, head: Buffer, identifier: string): void;
}

export function wireEndpoint(server: Server, wiring: EndpointWiring): void {
  server.on('tlsClientError', () => {});
  server.on('request', (req, res) => {
    const result = wiring.route(req, false);
    answerRequest(res, 'status' in result ? result : { status: 400 });
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const fault = wiring.faults.answer(req, wiring.origin());
    if (fault) return answerUpgrade(socket, fault);
    const result = wiring.route(req, true);
    if ('status' in result) return answerUpgrade(socket, result);
    wiring.accept(req, socket, head, result.identifier);
  });
}
