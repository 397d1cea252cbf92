/**
 * The undici dispatchers of one download, made so that a request can learn the local address of the TCP
 * connection it goes out on. undici hands no socket to a dispatch handler, so the connector notes the local
 * address of each origin's connection as it is made; with one connection per origin (a `Client` each), the
 * address noted for an origin is the one of the connection any request to it is written to.
 *
 * A request through a proxy goes out on a `ProxyAgent` (one per proxy): a CONNECT tunnel, then TLS to the
 * firmware host through it. Its connection is noted the same way, and its local address is then the one of the
 * connection toward the proxy, which is what tells the network interface the download leaves on.
 *
 * The socket noted is also the one a request's body reads from, which the download holds for back-pressure
 * (read-hold.ts).
 */
import type { Socket } from 'node:net';
import { Agent, buildConnector, Client, type Dispatcher, ProxyAgent } from 'undici';
import { type ProxyOption, proxyFor, type ResolvedProxy } from './proxy.js';

export interface TrackedDispatcher {
  /** How a request to `url` goes out: the proxy the download's option picks for it (asked once), or none. */
  route(url: URL): Route;
  close(): Promise<void>;
}

export interface Route {
  readonly dispatcher: Dispatcher;
  readonly proxy: ResolvedProxy | undefined;
  /**
   * Local IP address of the connection open to the origin of the URL, if there is one. Read it while a request
   * of that origin holds the connection (its `onRequestStart`).
   */
  localAddress(): string | undefined;
  /** The socket of that connection, read the same way. */
  socket(): Socket | undefined;
}

interface Tracked {
  readonly dispatcher: Dispatcher;
  readonly open: Map<string, { readonly socket: Socket; readonly address: string | undefined }>;
}

type Connect = NonNullable<Client.Options['connect']>;

/**
 * Dispatchers with one connection per origin whose connectors record each connection's local address: one
 * direct Agent, and one ProxyAgent per proxy that `proxy` names. `tls` applies to every firmware host,
 * through a proxy or not.
 */
export function trackedDispatcher(
  tls: buildConnector.BuildOptions,
  proxy: ProxyOption | undefined = undefined,
): TrackedDispatcher {
  const dispatchers = new Map<string, Tracked>();
  const track = (
    key: string,
    make: (record: (origin: string | URL, connect: Connect) => Connect) => Dispatcher,
  ): Tracked => {
    const existing = dispatchers.get(key);
    if (existing) return existing;
    const open: Tracked['open'] = new Map();
    const record =
      (origin: string | URL, connect: Connect): Connect =>
      (connectOptions, callback) =>
        (connect as Extract<Connect, (...args: never[]) => unknown>)(connectOptions, (...result) => {
          const [error, socket] = result;
          if (!error && socket) {
            open.set(String(origin), { socket, address: socket.localAddress });
            socket.once('close', () => {
              if (open.get(String(origin))?.socket === socket) open.delete(String(origin));
            });
          }
          callback(...result);
        });
    const tracked = { dispatcher: make(record), open };
    dispatchers.set(key, tracked);
    return tracked;
  };
  const direct = () =>
    track('direct', (record) => {
      const connect = buildConnector(tls);
      return new Agent({
        connections: 1,
        factory: (origin, options) => new Client(origin, { ...options, connect: record(origin, connect) }),
      });
    });
  const proxied = (route: ResolvedProxy) =>
    track(route.shown, (record) => {
      return new ProxyAgent({
        uri: route.shown,
        ...(route.authorization ? { token: route.authorization } : {}),
        requestTls: tls,
        connections: 1,
        // `options.connect` opens the tunnel and the TLS session through it; its socket is the one to note.
        factory: (origin, options) =>
          new Client(origin, {
            ...options,
            ...(tunnel(options) ? { connect: record(origin, tunnel(options)!) } : {}),
          }),
      });
    });
  return {
    route(url) {
      const route = proxyFor(proxy, url);
      const tracked = route ? proxied(route) : direct();
      return {
        dispatcher: tracked.dispatcher,
        proxy: route,
        localAddress: () => tracked.open.get(url.origin)?.address,
        socket: () => tracked.open.get(url.origin)?.socket,
      };
    },
    async close() {
      await Promise.all(
        [...dispatchers.values()].map((tracked) => tracked.dispatcher.close().catch(() => {})),
      );
    },
  };
}

/** The connector ProxyAgent hands its client factory: the tunnel, then TLS through it. */
function tunnel(options: object): Connect | undefined {
  return (options as { connect?: Connect }).connect;
}
