/**
 * A fake NervesHub on 127.0.0.1: the device socket over mTLS and over shared secret, the `device` channel, and a
 * firmware host. Tests drive it through this API; contributors through the `nerves-hub-test-server` CLI.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { type IncomingMessage, STATUS_CODES } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { WebSocketServer } from 'ws';
import { type CertificatePair, CertificateStore, type IssueOptions } from './certificates.js';
import { DeviceChannel } from './device-channel.js';
import { type DeviceEventRecord, type DeviceRecord, DeviceRegistry } from './device-registry.js';
import { FirmwareHost } from './firmware-host/host.js';
import type { FirmwareFile, FirmwareRequestRecord, FirmwareUrlOptions } from './firmware-host/types.js';
import { verifySharedSecret } from './nh1-verifier.js';

export interface TestServerOptions {
  /** Where certificates (and nothing else) are written. @default a temporary folder removed on close */
  readonly dir?: string;
  /** @default 0 (ephemeral) */
  readonly mtlsPort?: number;
  /** @default 0 (ephemeral) */
  readonly port?: number;
  /** Shared-secret token age limit. @default 90 */
  readonly maxAgeSeconds?: number;
  /** Accept tokens dated in the future (plug_crypto 2.1.1). @default false */
  readonly allowFutureTokens?: boolean;
  /** Append every connection, join and device event as a JSON line to this file. */
  readonly eventsFile?: string;
  /** Push an update of this firmware id right after every join. */
  readonly autoUpdate?: string;
}

export interface TestServer {
  /** `wss://127.0.0.1:<port>/socket/websocket`: devices authenticate with a client certificate. */
  readonly mtlsUrl: string;
  /** `wss://127.0.0.1:<port>/device-socket/websocket`: devices authenticate with NH1 headers. */
  readonly sharedSecretUrl: string;
  /** `https://127.0.0.1:<port>`: the shared-secret socket and the firmware host. */
  readonly url: string;
  /** The CA that signed the server certificate: devices trust it (`ca_file`). */
  readonly ca: { readonly certFile: string; readonly certPem: string };
  /** The CA the server trusts for device certificates. */
  readonly deviceCa: { readonly certFile: string; readonly certPem: string };
  readonly firmwareHost: FirmwareHost;
  readonly firmwareRequests: readonly FirmwareRequestRecord[];
  issueDeviceCertificate(identifier: string, options?: IssueOptions): Promise<CertificatePair>;
  addProductKey(key: string, secret: string): void;
  addDeviceKey(key: string, secret: string, identifier: string): void;
  device(identifier: string): DeviceRecord;
  devices(): DeviceRecord[];
  waitForJoin(
    identifier: string,
    options?: { timeoutMs?: number; count?: number },
  ): Promise<Record<string, any>>;
  waitForEvent(
    identifier: string,
    predicate: (record: DeviceEventRecord) => boolean,
    options?: { timeoutMs?: number },
  ): Promise<DeviceEventRecord>;
  onDeviceEvent(identifier: string, listener: (event: string, payload: any) => void): () => void;
  push(identifier: string, event: string, payload: unknown): boolean;
  kick(identifier: string, code?: number): boolean;
  crashChannel(identifier: string): void;
  closeChannel(identifier: string): void;
  setHeartbeatReplies(enabled: boolean): void;
  refuseUpgrades(status: number | null): void;
  addFirmware(filePath: string): Promise<FirmwareFile>;
  firmwareUrl(id: string, options?: FirmwareUrlOptions): string;
  sendUpdate(identifier: string, firmwareId: string, options?: FirmwareUrlOptions): boolean;
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'nerves-hub-test-server-')));
  const certs = await CertificateStore.create(join(dir, 'certs'));
  const serverPair = await certs.pair('server');
  const serverCa = await certs.pair('server-ca');
  const deviceCa = await certs.pair('device-ca');
  const registry = new DeviceRegistry(options.eventsFile);
  const host = new FirmwareHost();
  const productKeys = new Map<string, string>();
  const deviceKeys = new Map<string, { secret: string; identifier: string }>();
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 1024 * 1024 });
  let heartbeatReplies = true;
  let refuseStatus: number | null = null;

  const tls = { cert: serverPair.certPem, key: serverPair.keyPem, minVersion: 'TLSv1.2' as const };
  const mtls = createServer({ ...tls, ca: deviceCa.certPem, requestCert: true, rejectUnauthorized: true });
  const plain = createServer(tls);
  for (const server of [mtls, plain]) server.on('tlsClientError', () => {});
  plain.on('request', (req, res) => {
    if (!host.handle(req, res)) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found\n');
    }
  });
  mtls.on('request', (_req, res) => {
    res.writeHead(301, { location: 'https://docs.nerves-hub.org/' });
    res.end();
  });

  const accept = (req: IncomingMessage, socket: Socket, head: Buffer, identifier: string) => {
    wss.handleUpgrade(req, socket, head, (ws) => {
      registry.channel(identifier)?.disconnect(1001);
      const channel: DeviceChannel = new DeviceChannel(ws, {
        heartbeatReplies: () => heartbeatReplies,
        onJoin: (params) => {
          registry.joined(identifier, params);
          if (options.autoUpdate) setImmediate(() => api.sendUpdate(identifier, options.autoUpdate!));
        },
        onEvent: (event, payload, crashed) => registry.event(identifier, event, payload, crashed),
        onFrameError: () => {},
      });
      registry.connected(identifier, channel);
      ws.on('close', () => registry.disconnected(identifier, channel));
      ws.on('error', () => {});
    });
  };

  mtls.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    if (!checkUpgrade(req, socket, '/socket/websocket', refuseStatus)) return;
    const cn = (req.socket as TLSSocket).getPeerCertificate()?.subject?.CN;
    const identifier = Array.isArray(cn) ? cn[0] : cn;
    if (!identifier) return refuse(socket, 401);
    accept(req, socket, head, identifier);
  });
  plain.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    if (!checkUpgrade(req, socket, '/device-socket/websocket', refuseStatus)) return;
    const headers = req.headers as Record<string, string | undefined>;
    if (!Object.keys(headers).some((name) => name.startsWith('x-'))) {
      const reason = 'no certificate pair or shared secrets connection settings were provided';
      return refuse(socket, 401, { 'nh-connection-error-reason': reason }, reason);
    }
    const result = verifySharedSecret(
      headers,
      { product: productKeys, device: deviceKeys },
      {
        nowMs: Date.now(),
        maxAgeSeconds: options.maxAgeSeconds ?? 90,
        allowFutureTokens: options.allowFutureTokens ?? false,
      },
    );
    if (!result.ok) return refuse(socket, 401);
    accept(req, socket, head, result.identifier);
  });

  const listen = async (server: Server, port: number) => {
    server.listen(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
    return (server.address() as AddressInfo).port;
  };
  const mtlsPort = await listen(mtls, options.mtlsPort ?? 0);
  const port = await listen(plain, options.port ?? 0);
  const url = `https://127.0.0.1:${port}`;

  const stop = async () => {
    for (const client of wss.clients) client.terminate();
    host.close();
    await Promise.all(
      [mtls, plain].map(
        (server) =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      ),
    );
  };

  const api: TestServer = {
    mtlsUrl: `wss://127.0.0.1:${mtlsPort}/socket/websocket`,
    sharedSecretUrl: `wss://127.0.0.1:${port}/device-socket/websocket`,
    url,
    ca: { certFile: serverCa.certFile, certPem: serverCa.certPem },
    deviceCa: { certFile: deviceCa.certFile, certPem: deviceCa.certPem },
    firmwareHost: host,
    get firmwareRequests() {
      return host.requests;
    },
    issueDeviceCertificate: (identifier, issue) => certs.issueDevice(identifier, issue),
    addProductKey: (key, secret) => void productKeys.set(key, secret),
    addDeviceKey: (key, secret, identifier) => void deviceKeys.set(key, { secret, identifier }),
    device: (identifier) => registry.get(identifier),
    devices: () => registry.all(),
    waitForJoin(identifier, { timeoutMs = 15_000, count = 1 } = {}) {
      const record = registry.get(identifier);
      return registry.waitFor(identifier, () => record.joins[count - 1], timeoutMs, `join #${count}`);
    },
    waitForEvent(identifier, predicate, { timeoutMs = 15_000 } = {}) {
      const record = registry.get(identifier);
      return registry.waitFor(identifier, () => record.events.find(predicate), timeoutMs, 'matching event');
    },
    onDeviceEvent: (identifier, listener) =>
      registry.on('event', (who, record) => {
        if (who === identifier) listener(record.event, record.payload);
      }),
    push: (identifier, event, payload) => registry.channel(identifier)?.push(event, payload) ?? false,
    kick(identifier, code = 1000) {
      const ws =
        (registry.channel(identifier) as unknown as { ws?: { close(code: number): void } }) ?? undefined;
      if (!ws?.ws) return false;
      ws.ws.close(code);
      return true;
    },
    crashChannel: (identifier) => registry.channel(identifier)?.crash(),
    closeChannel: (identifier) => registry.channel(identifier)?.closeChannel(),
    setHeartbeatReplies: (enabled) => {
      heartbeatReplies = enabled;
    },
    refuseUpgrades: (status) => {
      refuseStatus = status;
    },
    addFirmware: (filePath) => host.add(filePath),
    firmwareUrl: (id, urlOptions) => host.url(url, id, urlOptions),
    sendUpdate: (identifier, firmwareId, urlOptions) =>
      api.push(identifier, 'update', host.updatePayload(url, firmwareId, urlOptions)),
    async restart() {
      await stop();
      await listen(mtls, mtlsPort);
      await listen(plain, port);
    },
    async close() {
      await stop();
      wss.close();
      if (ownDir) await rm(dir, { recursive: true, force: true });
    },
  };
  return api;
}

/** Path and `vsn` checks of Phoenix, before authentication; also the "refuse everything" switch. */
function checkUpgrade(
  req: IncomingMessage,
  socket: Socket,
  path: string,
  refuseStatus: number | null,
): boolean {
  const url = new URL(req.url ?? '/', 'https://host');
  if (refuseStatus !== null) {
    const extra: Record<string, string> =
      refuseStatus === 503
        ? { 'nh-connection-error-reason': 'the platform could not be reached to authenticate this device' }
        : {};
    refuse(socket, refuseStatus, extra);
    return false;
  }
  if (url.pathname !== path) {
    refuse(socket, 404);
    return false;
  }
  if (url.searchParams.get('vsn') !== '2.0.0') {
    refuse(socket, 403);
    return false;
  }
  return true;
}

/** Answers an upgrade with an HTTP error, with a `Date` header as Bandit sends. */
function refuse(socket: Socket, status: number, headers: Record<string, string> = {}, body = ''): void {
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    `date: ${new Date().toUTCString()}`,
    `content-length: ${Buffer.byteLength(body)}`,
    'connection: close',
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
    '',
    body,
  ];
  socket.end(lines.join('\r\n'));
}
