/**
 * The test-server's API, in the groups a test reaches for: where devices connect, their credentials, what the
 * devices sent, switches that make the server misbehave, firmware, deployment groups, the device page, the server
 * clock, and the lifecycle. One flat object implements them all, so tests read `server.waitForJoin(id)`.
 */
import type { CertificatePair, IssueOptions } from './certificates.js';
import type { FirmwareHost } from './firmware-host/host.js';
import type { FirmwareFile, FirmwareRequestRecord, FirmwareUrlOptions } from './firmware-host/types.js';
import type { DeploymentView, DevicePage } from './hub/device-page.js';
import type { DeploymentSettings } from './hub/types.js';
import type { RecordsListener } from './hub/update-service.js';
import type { JsonObject } from './json.js';
import type { ActivityEntry, DeviceEventRecord, DeviceRecord, JoinParams } from './socket/device-registry.js';
import type { UpgradeRedirect } from './socket/upgrade-faults.js';

export interface TestServerOptions {
  /** Where certificates (and nothing else) are written. @default a temporary folder removed on close */
  readonly dir?: string;
  /** The device endpoint's port: both device sockets. @default 0 (ephemeral) */
  readonly port?: number;
  /** The firmware host's port. @default 0 (ephemeral) */
  readonly firmwarePort?: number;
  /** Also listen as NervesHub's web endpoint (`webUrl`): `/device-socket` only, `/socket` 403. @default false */
  readonly webEndpoint?: boolean;
  /** The web endpoint's port. @default 0 (ephemeral) */
  readonly webPort?: number;
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
  /** An archive released with the firmware (a file added with `addFirmware`); pushed to members after joins. */
  readonly archiveId?: string | null;
  /** Faults or expiry for the firmware URLs of this group's offers. */
  readonly urlOptions?: FirmwareUrlOptions;
}

/** Where devices and tests reach the server, and the CAs on both sides. */
export interface ServerAddresses {
  /** `wss://127.0.0.1:<port>/socket/websocket` on the device endpoint (the path mTLS devices are given). */
  readonly mtlsUrl: string;
  /** `wss://127.0.0.1:<port>/device-socket/websocket` on the device endpoint (the path shared-secret devices are given). */
  readonly sharedSecretUrl: string;
  /** `https://127.0.0.1:<port>`: the device endpoint, where both paths take either a certificate or NH1 headers. */
  readonly deviceEndpointUrl: string;
  /** `https://127.0.0.1:<port>`: the web endpoint, when `webEndpoint` is set. */
  readonly webUrl: string | undefined;
  /** `https://127.0.0.1:<port>`: the firmware host (firmware URLs point here). */
  readonly url: string;
  /** The CA that signed the server certificate: devices trust it (`ca_file`). */
  readonly ca: { readonly certFile: string; readonly certPem: string };
  /** The CA the server trusts for device certificates. */
  readonly deviceCa: { readonly certFile: string; readonly certPem: string };
}

/** How devices authenticate. */
export interface DeviceCredentials {
  /** A certificate with CN = identifier, signed by the device CA (or another one). */
  issueDeviceCertificate(identifier: string, options?: IssueOptions): Promise<CertificatePair>;
  /**
   * NervesHub stores this device certificate (as an upload on the device page does, or its first successful
   * connection): from now on it is accepted even once expired.
   */
  registerDeviceCertificate(certPem: string): void;
  addProductKey(key: string, secret: string): void;
  addDeviceKey(key: string, secret: string, identifier: string): void;
}

/** What the devices sent: connections, joins, events. */
export interface SocketView {
  device(identifier: string): DeviceRecord;
  devices(): DeviceRecord[];
  waitForJoin(identifier: string, options?: { timeoutMs?: number; count?: number }): Promise<JoinParams>;
  waitForEvent(
    identifier: string,
    predicate: (record: DeviceEventRecord) => boolean,
    options?: { timeoutMs?: number },
  ): Promise<DeviceEventRecord>;
  onDeviceEvent(identifier: string, listener: (event: string, payload: JsonObject) => void): () => void;
  /** Connections, joins (and refused ones), events, offers and history lines, as written to `eventsFile`. */
  onActivity(listener: (entry: ActivityEntry) => void): () => void;
}

/** Raw pushes and the switches that make the server misbehave on purpose. */
export interface SocketControls {
  /** A raw push on the device's joined channel, recording nothing (hostile frames). */
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
}

/** Firmware the product has, and its signing keys. */
export interface FirmwareControls {
  readonly firmwareHost: FirmwareHost;
  readonly firmwareRequests: readonly FirmwareRequestRecord[];
  addFirmware(filePath: string): Promise<FirmwareFile>;
  firmwareUrl(id: string, options?: FirmwareUrlOptions): string;
  /** An org firmware signing key (base64 Ed25519), sent to devices that join with `fwup_public_keys: "on_connect"`. */
  addSigningKey(base64PublicKey: string): void;
}

export interface DeploymentControls {
  createDeployment(input: DeploymentInput): DeploymentView;
  /** Settings, membership, or a new release (`firmwareId`, `archiveId`). */
  updateDeployment(id: number, changes: Partial<DeploymentInput>): DeploymentView;
  deployment(id: number): DeploymentView | undefined;
  deployments(): DeploymentView[];
  /** Runs the orchestrator of one deployment (or of all) now; returns the devices offered an update. */
  runOrchestrator(deploymentId?: number): string[];
}

/** The NervesHub device page: what it shows, and what a user does there. */
export interface DevicePages {
  /**
   * A manual push (DeviceEvents.manual_update): an in-flight record without deployment, automatic updates turned
   * off, then `update` with `deployment_id: null` to the device's channel, which hears it only if joined. True when
   * recorded; false when NervesHub refuses it: a device never seen, or one with an in-flight record.
   */
  sendUpdate(identifier: string, firmwareId: string, options?: FirmwareUrlOptions): boolean;
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
}

export interface ServerClockControls {
  /** The server clock now (ms). */
  now(): number;
  /** Moves the server clock forward, then runs the in-flight expiry sweep and a backup orchestrator run. */
  advanceClock(ms: number): void;
  /** Deletes in-flight records untouched for 30 minutes now; returns how many. */
  expireInflightUpdates(): number;
}

export interface Lifecycle {
  /** Stops every listener and connection, then listens again on the same ports; records are kept. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export interface TestServer
  extends ServerAddresses,
    DeviceCredentials,
    SocketView,
    SocketControls,
    FirmwareControls,
    DeploymentControls,
    DevicePages,
    ServerClockControls,
    Lifecycle {}
