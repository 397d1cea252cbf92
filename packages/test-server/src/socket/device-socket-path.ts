/**
 * What happens on a device socket path (`/socket/websocket` and `/device-socket/websocket` on the device endpoint,
 * `/device-socket/websocket` on the web endpoint), in Phoenix's order (phoenix lib/phoenix/transports/
 * websocket.ex lines 37-95): the serializer is chosen from `vsn` (NervesHub's DeviceSocket offers JSON 2.0.0; a
 * missing `vsn` means 1.0.0, which it has no serializer for: 403 with an empty body, before authentication), then
 * DeviceSocket.connect/3 authenticates, then the upgrade happens; a request that is no WebSocket upgrade fails there
 * with 400.
 */
import type { IncomingMessage } from 'node:http';
import { type Authentication, authenticateDevice, type SharedSecretPolicy } from './device-authentication.js';
import type { HttpAnswer } from './http-answer.js';

export type DeviceSocketOutcome =
  | { readonly kind: 'upgrade'; readonly identifier: string }
  | { readonly kind: 'answer'; readonly answer: HttpAnswer };

export function deviceSocketOutcome(
  req: IncomingMessage,
  certificateIdentifier: string | undefined,
  sharedSecret: SharedSecretPolicy,
  isUpgrade: boolean,
): DeviceSocketOutcome {
  const url = new URL(req.url ?? '/', 'https://host');
  if (req.method !== 'GET') return { kind: 'answer', answer: { status: 400 } };
  if (url.searchParams.get('vsn') !== '2.0.0') return { kind: 'answer', answer: { status: 403 } };
  const auth: Authentication = authenticateDevice(req, certificateIdentifier, sharedSecret);
  if (!auth.ok) return { kind: 'answer', answer: auth.answer };
  if (!isUpgrade)
    return { kind: 'answer', answer: { status: 400, body: "'connection' header must contain 'upgrade'" } };
  return { kind: 'upgrade', identifier: auth.identifier };
}
