// An HTTP CONNECT proxy on 127.0.0.1 for the tests: it tunnels to the target like any forward proxy, records
// each CONNECT it gets, and on request demands Basic credentials, answers with another status, or never answers.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';

export interface ConnectRecord {
  readonly target: string;
  readonly headers: IncomingMessage['headers'];
  /** The decoded `user:password` of `Proxy-Authorization: Basic`, if one was sent. */
  readonly credentials: string | undefined;
  /** Client side of the connection to the proxy. */
  readonly clientPort: number | undefined;
}

export interface ConnectProxyOptions {
  /** Demand these credentials (`user:password`): 407 without, 407 with wrong ones. */
  readonly credentials?: string;
  /** Answer every CONNECT with this status instead of tunnelling. */
  readonly answer?: { readonly status: number; readonly message: string };
  /** Accept connections and never answer. */
  readonly silent?: boolean;
}

export class ConnectProxy {
  readonly requests: ConnectRecord[] = [];
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();

  constructor(options: ConnectProxyOptions) {
    this.#server = createServer((_request, response) => {
      response.writeHead(405).end();
    });
    this.#server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
    this.#server.on('connect', (request: IncomingMessage, client: Socket, head: Buffer) => {
      const header = request.headers['proxy-authorization'];
      const credentials = header?.startsWith('Basic ')
        ? Buffer.from(header.slice(6), 'base64').toString('utf8')
        : undefined;
      this.requests.push({
        target: request.url ?? '',
        headers: request.headers,
        credentials,
        clientPort: client.remotePort,
      });
      client.on('error', () => {});
      if (options.silent) return;
      if (options.credentials !== undefined && credentials !== options.credentials) {
        client.end(
          'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n',
        );
        return;
      }
      if (options.answer) {
        client.end(
          `HTTP/1.1 ${options.answer.status} ${options.answer.message}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
        );
        return;
      }
      const [host, port] = splitAuthority(request.url ?? '');
      const upstream = connect({ host, port }, () => {
        client.write('HTTP/1.1 200 Connection established\r\n\r\n');
        if (head.length > 0) upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      this.#sockets.add(upstream);
      upstream.on('close', () => this.#sockets.delete(upstream));
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
    });
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** `http://user:password@127.0.0.1:port` with both parts percent-encoded. */
  urlWith(user: string, password: string): string {
    const url = new URL(this.url);
    url.username = encodeURIComponent(user);
    url.password = encodeURIComponent(password);
    return url.href.replace(/\/$/, '');
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

function splitAuthority(authority: string): [string, number] {
  const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(authority);
  if (!match) return [authority, 443];
  return [match[1]!, Number(match[2])];
}

export function startConnectProxy(options: ConnectProxyOptions = {}): Promise<ConnectProxy> {
  return new ConnectProxy(options).start();
}
