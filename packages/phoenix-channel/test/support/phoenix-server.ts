// A small Phoenix V2 endpoint for the integration tests: it answers joins, leaves and heartbeats, records what
// it receives, and can misbehave on request. It parses frames with JSON.parse, not with the codec under test.
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket as NetSocket } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';

export type Frame = [string | null, string | null, string, string, unknown];

export interface Upgrade {
  readonly url: URL;
  readonly headers: IncomingMessage['headers'];
  readonly rawHeaderNames: string[];
}

export interface Connection {
  readonly ws: WebSocket;
  readonly upgrade: Upgrade;
  readonly frames: Frame[];
  /** topic → join_ref of the live join. */
  readonly joins: Map<string, string>;
  send(frame: Frame): void;
  sendRaw(data: string | Buffer, binary?: boolean): void;
}

export interface JoinDecision {
  readonly status?: string;
  readonly response?: unknown;
  /** Do not reply at all. */
  readonly noReply?: boolean;
}

export interface TlsMaterial {
  readonly cert: string;
  readonly key: string;
  /** Require a client certificate signed by this CA. */
  readonly clientCa?: string;
}

export interface PhoenixServerOptions {
  readonly tls?: TlsMaterial;
  readonly port?: number;
}

export class PhoenixServer {
  readonly connections: Connection[] = [];
  readonly upgrades: Upgrade[] = [];
  heartbeatReplies = true;
  /** Answer the upgrade with this HTTP status and headers instead of 101. */
  refuse: { status: number; headers?: Record<string, string> } | null = null;
  /** Upgrade path → redirect answered instead of 101 (the upgrade is still recorded). */
  readonly redirects = new Map<string, { status: number; location: string }>();
  /** Upgrade paths that are recorded and never answered. */
  readonly silentPaths = new Set<string>();
  /** Decides each join; the default accepts with `{}`. */
  onJoin: (topic: string, payload: unknown, connection: Connection) => JoinDecision = () => ({});
  /** Answers an ordinary push; `undefined` means no reply (like NervesHub). */
  onPush: (frame: Frame, connection: Connection) => { status: string; response: unknown } | undefined = () =>
    undefined;
  #server: Server | null = null;
  #wss: WebSocketServer;
  #sockets = new Set<NetSocket>();
  #port: number;
  readonly #options: PhoenixServerOptions;
  #listeners = new Set<() => void>();

  constructor(options: PhoenixServerOptions = {}) {
    this.#options = options;
    this.#port = options.port ?? 0;
    this.#wss = new WebSocketServer({ noServer: true });
  }

  get port(): number {
    return this.#port;
  }

  get url(): string {
    return `${this.#options.tls ? 'wss' : 'ws'}://127.0.0.1:${this.#port}/socket/websocket`;
  }

  /** The connection that is open right now (the last one). */
  get current(): Connection | undefined {
    const last = this.connections.at(-1);
    return last && last.ws.readyState === last.ws.OPEN ? last : undefined;
  }

  /** Every frame received on every connection, in order. */
  get frames(): Frame[] {
    return this.connections.flatMap((c) => c.frames);
  }

  async start(): Promise<this> {
    const tls = this.#options.tls;
    const server = tls
      ? createHttpsServer({
          cert: tls.cert,
          key: tls.key,
          ...(tls.clientCa ? { ca: tls.clientCa, requestCert: true, rejectUnauthorized: true } : {}),
        })
      : createHttpServer();
    server.on('connection', (socket: NetSocket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
    server.on('secureConnection', (socket: NetSocket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
    server.on('tlsClientError', () => {});
    server.on('upgrade', (request: IncomingMessage, socket: NetSocket, head: Buffer) =>
      this.#onUpgrade(request, socket, head),
    );
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.#port = (server.address() as AddressInfo).port;
    this.#server = server;
    return this;
  }

  /** Stops listening and drops every connection at the TCP level. */
  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    for (const client of this.#wss.clients) client.terminate();
    for (const socket of this.#sockets) socket.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Stop, then listen again on the same port. */
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Waits until `predicate` returns something other than undefined/false. */
  async waitFor<T>(predicate: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = predicate();
      if (value !== undefined && value !== false) return value;
      if (Date.now() > deadline) throw new Error('waitFor timed out');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, 20);
        this.#listeners.add(done);
        function done() {
          clearTimeout(timer);
          resolve();
        }
      });
    }
  }

  /** Waits for a received frame matching `predicate`, optionally among frames after index `from`. */
  waitForFrame(predicate: (frame: Frame, connection: Connection) => boolean, timeoutMs?: number) {
    return this.waitFor(() => {
      for (const connection of this.connections) {
        const frame = connection.frames.find((f) => predicate(f, connection));
        if (frame) return { frame, connection };
      }
      return undefined;
    }, timeoutMs);
  }

  /** Sends a server push on the current connection. */
  push(topic: string, event: string, payload: unknown, joinRef: string | null = null): void {
    const connection = this.current;
    if (!connection) throw new Error('no open connection');
    connection.send([joinRef, null, topic, event, payload]);
  }

  #notify(): void {
    for (const listener of [...this.#listeners]) {
      this.#listeners.delete(listener);
      listener();
    }
  }

  #onUpgrade(request: IncomingMessage, socket: NetSocket, head: Buffer): void {
    const upgrade: Upgrade = {
      url: new URL(request.url ?? '/', 'http://127.0.0.1'),
      headers: request.headers,
      rawHeaderNames: request.rawHeaders.filter((_, i) => i % 2 === 0),
    };
    this.upgrades.push(upgrade);
    this.#notify();
    if (this.silentPaths.has(upgrade.url.pathname)) return;
    const redirect = this.redirects.get(upgrade.url.pathname);
    const answer = redirect
      ? { status: redirect.status, headers: { location: redirect.location } }
      : this.refuse;
    if (answer) {
      const { status, headers = {} } = answer;
      const lines = [`HTTP/1.1 ${status} Refused`, `date: ${new Date().toUTCString()}`];
      for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
      lines.push('content-length: 0', 'connection: close', '', '');
      socket.end(lines.join('\r\n'));
      return;
    }
    this.#wss.handleUpgrade(request, socket, head, (ws) => this.#onConnection(ws, upgrade));
  }

  #onConnection(ws: WebSocket, upgrade: Upgrade): void {
    const connection: Connection = {
      ws,
      upgrade,
      frames: [],
      joins: new Map(),
      send: (frame) => {
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(frame));
      },
      sendRaw: (data, binary = false) => {
        if (ws.readyState === ws.OPEN) ws.send(data, { binary });
      },
    };
    this.connections.push(connection);
    ws.on('error', () => {});
    ws.on('close', () => this.#notify());
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as Frame;
      connection.frames.push(frame);
      this.#handle(frame, connection);
      this.#notify();
    });
    this.#notify();
  }

  #handle(frame: Frame, connection: Connection): void {
    const [joinRef, ref, topic, event, payload] = frame;
    const reply = (status: string, response: unknown) =>
      connection.send([joinRef, ref, topic, 'phx_reply', { status, response }]);
    if (topic === 'phoenix' && event === 'heartbeat') {
      if (this.heartbeatReplies) reply('ok', {});
      return;
    }
    if (event === 'phx_join') {
      const decision = this.onJoin(topic, payload, connection);
      if (decision.noReply) return;
      const status = decision.status ?? 'ok';
      if (status === 'ok') connection.joins.set(topic, joinRef ?? '');
      reply(status, decision.response ?? {});
      return;
    }
    if (event === 'phx_leave') {
      reply('ok', {});
      if (connection.joins.get(topic) === joinRef) {
        connection.joins.delete(topic);
        connection.send([joinRef, joinRef, topic, 'phx_close', {}]);
      }
      return;
    }
    const answer = this.onPush(frame, connection);
    if (answer) reply(answer.status, answer.response);
  }
}

export async function startPhoenixServer(options: PhoenixServerOptions = {}): Promise<PhoenixServer> {
  return new PhoenixServer(options).start();
}
