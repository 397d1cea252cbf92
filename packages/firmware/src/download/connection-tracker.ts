/**
 * The undici dispatcher of one download, made so that a request can learn the local address of the TCP
 * connection it goes out on. undici hands no socket to a dispatch handler, so the connector notes the local
 * address of each origin's connection as it is made; with one connection per origin (a `Client` each), the
 * address noted for an origin is the one of the connection any request to it is written to.
 */
import type { Socket } from 'node:net';
import { Agent, buildConnector, Client } from 'undici';

export interface TrackedDispatcher {
  readonly dispatcher: Agent;
  /**
   * Local IP address of the connection open to `origin` (exactly as passed to `dispatch`), if there is one.
   * Read it while a request of that origin holds the connection (its `onRequestStart`).
   */
  localAddress(origin: string): string | undefined;
}

/** An Agent with one connection per origin whose connector records each connection's local address. */
export function trackedDispatcher(tls: buildConnector.BuildOptions): TrackedDispatcher {
  const connect = buildConnector(tls);
  const open = new Map<string, { readonly socket: Socket; readonly address: string | undefined }>();
  const remember = (origin: string, socket: Socket): void => {
    open.set(origin, { socket, address: socket.localAddress });
    socket.once('close', () => {
      if (open.get(origin)?.socket === socket) open.delete(origin);
    });
  };
  const dispatcher = new Agent({
    connections: 1,
    factory: (origin, options) =>
      new Client(origin, {
        ...options,
        connect: (connectOptions, callback) =>
          connect(connectOptions, (...result) => {
            const [error, socket] = result;
            if (!error && socket) remember(String(origin), socket);
            callback(...result);
          }),
      }),
  });
  return { dispatcher, localAddress: (origin) => open.get(origin)?.address };
}
