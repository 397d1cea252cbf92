/**
 * A fake NervesHub on 127.0.0.1: the device endpoint (both device sockets, certificate or NH1 headers), optionally
 * the web endpoint, and a firmware host on its own listener. This module only wires the parts together; each one is
 * its own module (socket/, hub/, firmware-host/, api/). Tests drive it through the TestServer API; contributors
 * through the `nerves-hub-test-server` CLI.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deviceCredentials, sharedSecretKeys } from './api/credentials-api.js';
import { FirmwareCatalog } from './api/firmware-api.js';
import { deploymentControls, devicePages, serverClock } from './api/records-api.js';
import { type ChannelSwitches, socketControls, socketView } from './api/socket-api.js';
import { CertificateStore } from './certificates.js';
import { FirmwareHost } from './firmware-host/host.js';
import { createFirmwareListener } from './firmware-host/listener.js';
import type { FirmwareUrlOptions } from './firmware-host/types.js';
import { UpdateService } from './hub/update-service.js';
import { createDeviceEndpoint } from './socket/device-endpoint.js';
import { DeviceLink } from './socket/device-link.js';
import { DeviceRegistry } from './socket/device-registry.js';
import { DeviceSockets } from './socket/device-sockets.js';
import { Listeners } from './socket/listeners.js';
import { KnownCertificates } from './socket/peer-certificate.js';
import { UpgradeFaults } from './socket/upgrade-faults.js';
import { createWebEndpoint } from './socket/web-endpoint.js';
import type { TestServer, TestServerOptions } from './test-server.js';

type ListenerName = 'device' | 'firmware' | 'web';

/** nerves_hub_web config/runtime.exs line 52: DEVICE_ENDPOINT_REDIRECT's default. */
const DEFAULT_DEVICE_ENDPOINT_REDIRECT = 'https://docs.nerves-hub.org/';

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'nerves-hub-test-server-')));
  const certificates = await CertificateStore.create(join(dir, 'certs'));
  const [serverPair, serverCa, deviceCa] = await Promise.all(
    ['server', 'server-ca', 'device-ca'].map((name) => certificates.pair(name)),
  );
  const tls = { cert: serverPair!.certPem, key: serverPair!.keyPem };

  const switches: ChannelSwitches = { heartbeatReplies: true, joinsRefused: false };
  const faults = new UpgradeFaults();
  const registry = new DeviceRegistry(options.eventsFile);
  const host = new FirmwareHost();
  const deploymentUrlOptions = new Map<number, FirmwareUrlOptions>();
  const stores = {
    certificates,
    knownCertificates: new KnownCertificates(),
    productKeys: new Map<string, string>(),
    deviceKeys: new Map<string, { secret: string; identifier: string }>(),
  };
  const service: UpdateService = new UpdateService({
    now: options.now,
    orchestratorDelayMs: options.orchestratorDelayMs,
    orchestratorIntervalMs: options.orchestratorIntervalMs,
    inflightSweepIntervalMs: options.inflightSweepIntervalMs,
    firmwareByUuid: (uuid) => catalog.byUuid(uuid),
    deliver: (offer) => link.deliver(offer),
  });
  const catalog: FirmwareCatalog = new FirmwareCatalog(host, () => service.now());
  service.onChanged((identifier) => registry.emitChange(identifier));
  service.onHistory((identifier, added) => {
    for (const entry of added) registry.log({ type: 'history', identifier, entry });
  });
  const link: DeviceLink = new DeviceLink({
    service,
    registry,
    host,
    firmwareOrigin: () => listeners.origin('firmware'),
    deploymentUrlOptions: (id) => deploymentUrlOptions.get(id),
    joinsRefused: () => switches.joinsRefused,
    signingKeys: () => catalog.signingKeys,
    autoUpdate: options.autoUpdate,
    release: (firmwareId) => catalog.release(firmwareId),
  });
  const sockets = new DeviceSockets({
    registry,
    service,
    link,
    idleTimeoutMs: options.idleTimeoutMs ?? 180_000,
    duplicateCloseCode: options.duplicateCloseCode ?? 1001,
    heartbeatReplies: () => switches.heartbeatReplies,
  });
  const sharedSecret = {
    keys: sharedSecretKeys(stores),
    maxAgeSeconds: options.maxAgeSeconds ?? 90,
    allowFutureTokens: options.allowFutureTokens ?? false,
  };
  const accept = sockets.accept.bind(sockets);

  const deviceEndpoint = createDeviceEndpoint({
    tls,
    deviceCaPem: deviceCa!.certPem,
    knownCertificates: stores.knownCertificates,
    sharedSecret,
    faults,
    redirectTo: options.deviceEndpointRedirect ?? DEFAULT_DEVICE_ENDPOINT_REDIRECT,
    origin: () => listeners.origin('device'),
    accept,
  });
  const webEndpoint = options.webEndpoint
    ? createWebEndpoint({ tls, sharedSecret, faults, origin: () => listeners.origin('web'), accept })
    : undefined;
  const listeners: Listeners<ListenerName> = new Listeners<ListenerName>([
    { name: 'device', server: deviceEndpoint, port: options.port ?? 0 },
    { name: 'firmware', server: createFirmwareListener(host, tls), port: options.firmwarePort ?? 0 },
    ...(webEndpoint ? [{ name: 'web' as const, server: webEndpoint, port: options.webPort ?? 0 }] : []),
  ]);
  await listeners.start();

  const stop = async () => {
    sockets.terminateAll();
    host.close();
    await listeners.stop();
  };
  const deviceOrigin = listeners.origin('device');
  const deviceSocketUrl = (path: string) => `${deviceOrigin.replace('https:', 'wss:')}${path}`;

  return {
    mtlsUrl: deviceSocketUrl('/socket/websocket'),
    sharedSecretUrl: deviceSocketUrl('/device-socket/websocket'),
    deviceEndpointUrl: deviceOrigin,
    webUrl: webEndpoint ? listeners.origin('web') : undefined,
    url: listeners.origin('firmware'),
    ca: { certFile: serverCa!.certFile, certPem: serverCa!.certPem },
    deviceCa: { certFile: deviceCa!.certFile, certPem: deviceCa!.certPem },
    ...deviceCredentials(stores),
    ...socketView(registry),
    ...socketControls(registry, faults, switches),
    ...catalog.controls(() => listeners.origin('firmware')),
    ...deploymentControls({ service, registry, link, catalog, deploymentUrlOptions }),
    ...devicePages({ service, registry, link, catalog, deploymentUrlOptions }),
    ...serverClock(service),
    async restart() {
      await stop();
      await listeners.start();
    },
    async close() {
      service.close();
      await stop();
      sockets.close();
      if (ownDir) await rm(dir, { recursive: true, force: true });
    },
  };
}
