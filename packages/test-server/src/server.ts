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
import { DeviceChannel, type JoinAnswer } from './device-channel.js';
import {
  type ActivityEntry,
  type DeviceEventRecord,
  type DeviceRecord,
  DeviceRegistry,
} from './device-registry.js';
import { FirmwareHost } from './firmware-host/host.js';
import type {
  FirmwareFile,
  FirmwareMeta,
  FirmwareRequestRecord,
  FirmwareUrlOptions,
  UpdatePayload,
} from './firmware-host/types.js';
import type { DeploymentView, DevicePage } from './hub/device-page.js';
import type { DeploymentSettings, ReleaseFirmware, UpdateOffer } from './hub/types.js';
import { verifySharedSecret } from './nh1-verifier.js';
import { type RecordsListener, UpdateService } from './update-service.js';

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
  /** Push (manually) an update of this firmware id right after every join. */
  readonly autoUpdate?: string;
  /** The server clock, for penalty boxes, in-flight expiry and progress writes. @default Date.now */
  readonly now?: () => number;
  /** The orchestrator's debounce window: a trigger runs at once, later ones within the window run at its end. @default 3000 */
  readonly orchestratorDelayMs?: number;
  /** The orchestrator's backup run. @default 120000 */
  readonly orchestratorIntervalMs?: number;
  /** How often in-flight records older than 30 minutes (server clock) are deleted. @default 300000 */
  readonly inflightSweepIntervalMs?: number;
  /** Close a socket after this long without an inbound frame, with 1002 (Bandit's idle timeout). @default 180000 */
  readonly idleTimeoutMs?: number;
  /** Close code for the older socket when a device connects again (Phoenix ≥ 1.8.8 sends 1001). @default 1001 */
  readonly duplicateCloseCode?: number;
  /**
   * Where the device endpoint sends every request and upgrade on a path that is not a device socket, with a 301
   * (nerves_hub_web's DEVICE_ENDPOINT_REDIRECT). @default "https://docs.nerves-hub.org/"
   */
  readonly deviceEndpointRedirect?: string;
}

/** A deployment group: the firmware it releases, the devices that follow it, and NervesHub's settings. */
export interface DeploymentInput extends Partial<DeploymentSettings> {
  readonly firmwareId: string;
  /** Faults or expiry for the firmware URLs of this group's offers. */
  readonly urlOptions?: FirmwareUrlOptions;
}

/** Answer upgrades on `from` (a path) with a redirect to `to` (a path on the same listener, or a URL). */
export interface UpgradeRedirect {
  readonly from: string;
  readonly to: string;
  /** @default 302 */
  readonly status?: 301 | 302 | 307 | 308;
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
  /** Refuse every join with `{"error": "could not connect"}`, as when the platform fails during a join. */
  refuseJoins(refuse: boolean): void;
  /** Redirect rules for WebSocket upgrades, checked before the path; `null` removes them. */
  redirectUpgrades(rules: UpgradeRedirect | readonly UpgradeRedirect[] | null): void;
  addFirmware(filePath: string): Promise<FirmwareFile>;
  firmwareUrl(id: string, options?: FirmwareUrlOptions): string;
  /**
   * A manual push from the device page (DeviceEvents.manual_update): an in-flight record without deployment,
   * automatic updates turned off, then `update` with `deployment_id: null`. False when the device has no joined
   * channel or already has an in-flight record (nothing pushed, nothing recorded).
   */
  sendUpdate(identifier: string, firmwareId: string, options?: FirmwareUrlOptions): boolean;
  /** An org firmware signing key (base64 Ed25519), sent to devices that join with `fwup_public_keys: "on_connect"`. */
  addSigningKey(base64PublicKey: string): void;
  createDeployment(input: DeploymentInput): DeploymentView;
  updateDeployment(id: number, changes: Partial<DeploymentInput>): DeploymentView;
  deployment(id: number): DeploymentView | undefined;
  deployments(): DeploymentView[];
  /** Runs the orchestrator of one deployment (or of all) now; returns the devices offered an update. */
  runOrchestrator(deploymentId?: number): string[];
  /** The server clock now (ms). */
  now(): number;
  /** Moves the server clock forward, then runs the in-flight expiry sweep and a backup orchestrator run. */
  advanceClock(ms: number): void;
  /** Deletes in-flight records untouched for 30 minutes now; returns how many. */
  expireInflightUpdates(): number;
  /** The device page's "clear penalty box" (also enables updates); false for an unknown device. */
  clearPenaltyBox(identifier: string): boolean;
  /** The device page's "enable updates" (clears attempts, wakes the orchestrator); false for an unknown device. */
  enableUpdates(identifier: string): boolean;
  disableUpdates(identifier: string): boolean;
  /** What the NervesHub device page shows for the device, with ISO dates; undefined for a device never seen. */
  records(identifier: string): DevicePage | undefined;
  allRecords(): DevicePage[];
  waitForRecords(
    identifier: string,
    predicate: (page: DevicePage) => boolean,
    options?: { timeoutMs?: number },
  ): Promise<DevicePage>;
  /** Every finished records change: the page and the history lines it added. */
  onRecordsChange(listener: RecordsListener): () => void;
  /** Connections, joins (and refused ones), events, offers and history lines, as written to `eventsFile`. */
  onActivity(listener: (entry: ActivityEntry) => void): () => void;
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** nerves_hub_web config/runtime.exs: DEVICE_ENDPOINT_REDIRECT's default. */
const DEFAULT_DEVICE_ENDPOINT_REDIRECT = 'https://docs.nerves-hub.org/';

/** The device endpoint's sockets (nerves_hub_web lib/nerves_hub_web/device_endpoint.ex), as upgrade paths. */
const DEVICE_SOCKET_PATHS = ['/socket/websocket', '/device-socket/websocket'];

/** What a NervesHub broadcast of an unavailable update carries (nerves_hub_web lib/nerves_hub/devices/update_payload.ex). */
const NO_UPDATE = {
  update_available: false,
  firmware_url: null,
  firmware_meta: null,
  size: null,
  checksum: null,
  partials_checksums: null,
  deployment_id: null,
};

/** DeviceLink.maybe_send_public_keys: each type the device asks for `on_connect` gets the org's keys. */
const PUBLIC_KEY_TYPES = ['fwup_public_keys', 'archive_public_keys'] as const;

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
  const firmwareByUuid = new Map<string, FirmwareMeta>();
  const signingKeys: string[] = [];
  const deploymentUrlOptions = new Map<number, FirmwareUrlOptions>();
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 1024 * 1024 });
  const idleTimeoutMs = options.idleTimeoutMs ?? 180_000;
  const duplicateCloseCode = options.duplicateCloseCode ?? 1001;
  let heartbeatReplies = true;
  let refuseStatus: number | null = null;
  let joinsRefused = false;
  let redirects: readonly UpgradeRedirect[] = [];
  let url = '';

  /** An orchestrator's `update`, sent to the device's channel if it is joined (else the broadcast reaches nobody). */
  const deliver = (offer: UpdateOffer) => {
    const channel = registry.channel(offer.identifier);
    if (!channel?.joined) return;
    const payload: UpdatePayload | typeof NO_UPDATE = offer.updateAvailable
      ? host.updatePayload(url, offer.firmwareId, {
          ...(offer.deploymentId === null ? {} : deploymentUrlOptions.get(offer.deploymentId)),
          deploymentId: offer.deploymentId,
        })
      : NO_UPDATE;
    channel.push('update', payload);
    registry.log({ type: 'offer', ...offer });
  };
  const service = new UpdateService({
    now: options.now,
    orchestratorDelayMs: options.orchestratorDelayMs,
    orchestratorIntervalMs: options.orchestratorIntervalMs,
    inflightSweepIntervalMs: options.inflightSweepIntervalMs,
    firmwareByUuid: (uuid) => firmwareByUuid.get(uuid),
    deliver,
  });
  service.onChanged((identifier) => registry.emitChange(identifier));
  service.onHistory((identifier, added) => {
    for (const entry of added) registry.log({ type: 'history', identifier, entry });
  });

  const release = (firmwareId: string): ReleaseFirmware => {
    const file = host.get(firmwareId);
    if (!file) throw new Error(`unknown firmware ${firmwareId}`);
    const { uuid, version, product, platform, architecture } = file.meta;
    return { id: file.id, uuid, version, product, platform, architecture };
  };

  const joinDevice = (identifier: string, params: unknown): JoinAnswer => {
    const couldNotConnect = { status: 'error', response: { error: 'could not connect' } } as const;
    if (joinsRefused) {
      registry.log({ type: 'join-refused', identifier, reason: 'joins are refused' });
      return couldNotConnect;
    }
    const outcome = service.join(identifier, params);
    if (outcome.status === 'crashed') {
      registry.log({ type: 'join-crashed', identifier, reason: outcome.reason, params });
      return { status: 'error', response: { reason: 'join crashed' } };
    }
    if (outcome.status === 'error') {
      registry.log({ type: 'join-refused', identifier, reason: outcome.reason });
      return couldNotConnect;
    }
    registry.joined(identifier, params as Record<string, unknown>);
    return { status: 'ok' };
  };

  /** DeviceLink.after_join: the signing keys the device asked for, then online (which wakes the orchestrator). */
  const afterJoin = (identifier: string, channel: DeviceChannel, params: Record<string, unknown>) => {
    for (const type of PUBLIC_KEY_TYPES) {
      if (params[type] === 'on_connect' && signingKeys.length > 0)
        channel.push(type, { keys: [...signingKeys] });
    }
    service.online(identifier);
    if (options.autoUpdate) setImmediate(() => api.sendUpdate(identifier, options.autoUpdate!));
  };

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
  const endpointRedirect = options.deviceEndpointRedirect ?? DEFAULT_DEVICE_ENDPOINT_REDIRECT;
  mtls.on('request', (_req, res) => {
    res.writeHead(301, { location: endpointRedirect });
    res.end();
  });

  const accept = (req: IncomingMessage, socket: Socket, head: Buffer, identifier: string) => {
    wss.handleUpgrade(req, socket, head, (ws) => {
      // Phoenix's disconnect broadcast to the device's socket id closes the older connection.
      registry.channel(identifier)?.disconnect(duplicateCloseCode);
      const channel: DeviceChannel = new DeviceChannel(
        ws,
        {
          heartbeatReplies: () => heartbeatReplies,
          join: (params) => joinDevice(identifier, params),
          afterJoin: (params) => afterJoin(identifier, channel, params),
          onEvent: (event, payload) => {
            const outcome = service.message(identifier, event, payload);
            registry.event(identifier, event, payload, outcome.crashed);
            return outcome.crashed;
          },
          onFrameError: () => {},
        },
        { idleTimeoutMs },
      );
      service.connecting(identifier);
      registry.connected(identifier, channel);
      ws.on('close', () => {
        // A replaced connection's close is stale: the device is already on its new one.
        if (registry.channel(identifier) === channel) service.disconnected(identifier);
        registry.disconnected(identifier, channel);
      });
      ws.on('error', () => {});
    });
  };

  const upgradeAllowed = (req: IncomingMessage, socket: Socket, path: string, port: number): boolean => {
    if (!checkUpgrade(req, socket, refuseStatus, redirects, port)) return false;
    return checkPath(req, socket, path, endpointRedirect);
  };

  mtls.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    if (!upgradeAllowed(req, socket, '/socket/websocket', mtlsPort)) return;
    const cn = (req.socket as TLSSocket).getPeerCertificate()?.subject?.CN;
    const identifier = Array.isArray(cn) ? cn[0] : cn;
    if (!identifier) return refuse(socket, 401);
    accept(req, socket, head, identifier);
  });
  plain.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    if (!upgradeAllowed(req, socket, '/device-socket/websocket', port)) return;
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
      // Removed once listening: restart() listens again, and a listener per restart would pile up.
      const onListening = () => {
        server.off('error', reject);
        resolve();
      };
      server.once('listening', onListening);
      server.once('error', reject);
    });
    return (server.address() as AddressInfo).port;
  };
  const mtlsPort = await listen(mtls, options.mtlsPort ?? 0);
  const port = await listen(plain, options.port ?? 0);
  url = `https://127.0.0.1:${port}`;

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
      const channel = registry.channel(identifier);
      if (!channel) return false;
      channel.disconnect(code);
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
    refuseJoins: (refused) => {
      joinsRefused = refused;
    },
    redirectUpgrades: (rules) => {
      redirects = rules === null ? [] : Array.isArray(rules) ? [...rules] : [rules as UpgradeRedirect];
    },
    async addFirmware(filePath) {
      const file = await host.add(filePath);
      firmwareByUuid.set(file.meta.uuid, file.meta);
      return file;
    },
    firmwareUrl: (id, urlOptions) => host.url(url, id, urlOptions),
    sendUpdate(identifier, firmwareId, urlOptions) {
      const firmware = release(firmwareId);
      const channel = registry.channel(identifier);
      if (!channel?.joined) return false;
      const result = service.manualUpdate(identifier, firmware);
      if (!result.ok) {
        registry.log({ type: 'push-refused', identifier, firmwareId, reason: result.reason });
        return false;
      }
      registry.log({ type: 'offer', ...result.offer });
      return channel.push(
        'update',
        host.updatePayload(url, firmwareId, { ...urlOptions, deploymentId: null }),
      );
    },
    addSigningKey(base64PublicKey) {
      const key = base64PublicKey.trim();
      if (Buffer.from(key, 'base64').length !== 32) {
        throw new Error(
          'a firmware signing key is the base64 of a 32-byte Ed25519 public key (fwup-key.pub)',
        );
      }
      if (!signingKeys.includes(key)) signingKeys.push(key);
    },
    createDeployment({ firmwareId, urlOptions, ...settings }) {
      const deployment = service.createDeployment(release(firmwareId), settings);
      if (urlOptions) deploymentUrlOptions.set(deployment.id, urlOptions);
      return deployment;
    },
    updateDeployment(id, { firmwareId, urlOptions, ...settings }) {
      if (urlOptions) deploymentUrlOptions.set(id, urlOptions);
      return service.updateDeployment(id, {
        ...settings,
        ...(firmwareId === undefined ? {} : { firmware: release(firmwareId) }),
      });
    },
    deployment: (id) => service.deployment(id),
    deployments: () => service.deployments(),
    runOrchestrator: (deploymentId) => service.runOrchestrator(deploymentId).map((offer) => offer.identifier),
    now: () => service.now(),
    advanceClock: (ms) => service.advanceClock(ms),
    expireInflightUpdates: () => service.expireInflightUpdates(),
    clearPenaltyBox: (identifier) => service.clearPenaltyBox(identifier),
    enableUpdates: (identifier) => service.enableUpdates(identifier),
    disableUpdates: (identifier) => service.disableUpdates(identifier),
    records: (identifier) => service.records(identifier),
    allRecords: () => service.allRecords(),
    waitForRecords(identifier, predicate, { timeoutMs = 15_000 } = {}) {
      const check = () => {
        const page = service.records(identifier);
        return page && predicate(page) ? page : undefined;
      };
      return registry.waitFor(identifier, check, timeoutMs, 'matching records');
    },
    onRecordsChange: (listener) => service.onRecords(listener),
    onActivity: (listener) => registry.on('activity', listener),
    async restart() {
      await stop();
      await listen(mtls, mtlsPort);
      await listen(plain, port);
    },
    async close() {
      service.close();
      await stop();
      wss.close();
      if (ownDir) await rm(dir, { recursive: true, force: true });
    },
  };
  return api;
}

/** The "refuse everything" switch, then redirects; false when the upgrade was answered. */
function checkUpgrade(
  req: IncomingMessage,
  socket: Socket,
  refuseStatus: number | null,
  redirects: readonly UpgradeRedirect[],
  port: number,
): boolean {
  if (refuseStatus !== null) {
    const extra: Record<string, string> =
      refuseStatus === 503
        ? { 'nh-connection-error-reason': 'the platform could not be reached to authenticate this device' }
        : {};
    refuse(socket, refuseStatus, extra);
    return false;
  }
  const url = new URL(req.url ?? '/', 'https://host');
  const redirect = redirects.find((rule) => rule.from === url.pathname);
  if (redirect) {
    const absolute = /^[a-z][a-z0-9+.-]*:\/\//i.test(redirect.to);
    const query = redirect.to.includes('?') ? '' : url.search;
    const location = absolute ? redirect.to : `https://127.0.0.1:${port}${redirect.to}${query}`;
    refuse(socket, redirect.status ?? 302, { location });
    return false;
  }
  return true;
}

/**
 * Path and `vsn` checks of Phoenix, before authentication. A path that is no device socket at all gets the
 * device endpoint's 301 (nerves_hub_web lib/nerves_hub_web/plugs/device_endpoint_redirect.ex); the other auth
 * method's socket path, 404.
 */
function checkPath(req: IncomingMessage, socket: Socket, path: string, redirectTo: string): boolean {
  const url = new URL(req.url ?? '/', 'https://host');
  if (!DEVICE_SOCKET_PATHS.includes(url.pathname)) {
    refuse(socket, 301, { location: redirectTo });
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
