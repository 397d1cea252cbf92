/**
 * What the fake NervesHub remembers about devices and deployment groups, in the shapes of nerves_hub_web's
 * tables (devices, device_firmwares, inflight_updates, latest_device_connections, deployments). Times are
 * server-clock milliseconds; the device page view turns them into ISO strings.
 */

export type ValidationStatus = 'validated' | 'not_validated' | 'unknown';

/** Ecto.Enum values of inflight_updates.status (nerves_hub_web lib/nerves_hub/devices/inflight_update.ex). */
export const INFLIGHT_STATUSES = [
  'requested',
  'rescheduled',
  'ignored',
  'received',
  'started',
  'downloading',
  'updating',
  'completed',
  'failed',
  'expired',
] as const;
export type InflightStatus = (typeof INFLIGHT_STATUSES)[number];

/** Humanised interface names (nerves_hub_web lib/nerves_hub/devices/device_connection.ex). */
export type NetworkInterface = 'wifi' | 'ethernet' | 'cellular' | 'unknown';

/** latest_device_connections.status; `null` until the device first connects. */
export type ConnectionStatus = 'connecting' | 'connected' | 'disconnected';

export interface FirmwareMetadata {
  readonly uuid: string;
  readonly version: string;
  readonly product: string;
  readonly platform: string;
  readonly architecture: string;
}

/**
 * A device_firmwares row: one firmware a device reported, as the Firmware History tab lists it (nerves_hub_web
 * lib/nerves_hub/devices/device_firmware.ex lines 15-25; priv/repo/migrations/20260513024705_create_device_firmwares.exs).
 */
export interface DeviceFirmware {
  /** A sequence number of the server (a UUIDv7 on NervesHub). */
  readonly id: number;
  readonly metadata: FirmwareMetadata;
  /** The product's firmware with that uuid when the row was written (its host file id), else `null`. */
  readonly firmwareId: string | null;
  validation: ValidationStatus;
  autoRevertDetected: boolean;
  readonly insertedAt: number;
}

export interface InflightUpdate {
  /** `null` for the empty record a non-final status creates when nothing was offered. */
  firmwareUuid: string | null;
  /** `null` for a manual push and for an empty record. */
  deploymentId: number | null;
  status: InflightStatus;
  progress: number | null;
  insertedAt: number;
  updatedAt: number;
}

/** One audit-log line of the device page (and a few the page shows elsewhere, such as status changes). */
export type HistoryEntry = { readonly at: number } & (
  | { readonly event: 'firmware-updated'; readonly from: string | null; readonly to: string }
  | { readonly event: 'deployment-set'; readonly deploymentId: number | null }
  | { readonly event: 'inflight-cleared'; readonly reason: string }
  | { readonly event: 'pushed'; readonly firmwareUuid: string }
  | { readonly event: 'archive-triggered'; readonly archiveUuid: string }
  | { readonly event: 'triggered'; readonly deploymentId: number; readonly firmwareUuid: string }
  | { readonly event: 'status'; readonly status: InflightStatus; readonly progress: number | null }
  | {
      readonly event: 'failed';
      readonly reason: string | null;
      readonly blockedUntil: number | null;
    }
  | { readonly event: 'ignored'; readonly reason: string | null; readonly blockedUntil: number | null }
  | {
      readonly event: 'rescheduled';
      readonly reason: string | null;
      readonly until: number;
      readonly blocked: boolean;
    }
  | {
      readonly event: 'blocked';
      readonly until: number;
      readonly reason: 'exceeded failure rate' | 'exceeded failure threshold';
      readonly deploymentId: number;
      readonly attemptsCleared: boolean;
    }
  | { readonly event: 'expired'; readonly firmwareUuid: string | null; readonly status: InflightStatus }
  | { readonly event: 'validated' }
  | {
      readonly event: 'network-interface';
      readonly reported: string;
      readonly networkInterface: NetworkInterface;
    }
  | { readonly event: 'updates-enabled' }
  | { readonly event: 'updates-disabled' }
  | { readonly event: 'penalty-box-cleared' }
);

export interface DeviceState {
  readonly identifier: string;
  firmware: FirmwareMetadata | null;
  validation: ValidationStatus;
  autoRevertDetected: boolean;
  /** device_firmwares rows of this device, oldest first. */
  readonly firmwareHistory: DeviceFirmware[];
  /** devices.current_device_firmware_id: the row of the firmware on record, `null` until there is one. */
  currentDeviceFirmwareId: number | null;
  connection: ConnectionStatus | null;
  /** latest_device_connections.established_at: the orchestrator serves the longest-connected first. */
  connectedSince: number | null;
  /** Per connection: reset to `null` on every connect, like the connection row. */
  networkInterface: NetworkInterface | null;
  updatesEnabled: boolean;
  updatesBlockedUntil: number | null;
  updateAttempts: number[];
  inflightUpdate: InflightUpdate | null;
  deploymentId: number | null;
  readonly history: HistoryEntry[];
}

/** The firmware a deployment group releases: the host's file id plus the metadata devices report. */
export interface ReleaseFirmware extends FirmwareMetadata {
  readonly id: string;
}

/**
 * An archive (a signed `.fw` of extra files) released with a group's firmware: what the `archive` push carries
 * (nerves_hub_web lib/nerves_hub/archives/archive.ex, lib/nerves_hub/device_link.ex lines 570-582).
 */
export interface ReleaseArchive {
  /** The firmware host's file id: the push's `url` is a signed URL for it. */
  readonly id: string;
  readonly uuid: string;
  readonly version: string;
  readonly description: string;
  readonly platform: string;
  readonly architecture: string;
  readonly size: number;
  /** When it was uploaded (server clock ms): `uploaded_at`. */
  readonly uploadedAt: number;
}

export interface DeploymentGroup {
  readonly id: number;
  firmware: ReleaseFirmware;
  /** The archive of the group's current release, if it has one. */
  archive: ReleaseArchive | null;
  isActive: boolean;
  penaltyTimeoutMinutes: number;
  deviceFailureThreshold: number;
  deviceFailureRateSeconds: number;
  deviceFailureRateAmount: number;
  /** Empty means any interface. */
  releaseNetworkInterfaces: NetworkInterface[];
  concurrentUpdates: number;
  /** Which devices belong to the group: a list of identifiers, or every device (NervesHub's tag conditions). */
  devices: 'all' | string[];
  /**
   * `conditions.version`: an Elixir version requirement (`"~> 1.0"`, `">= 1.0.0 and < 2.0.0"`) a member's firmware
   * version must meet; `""` for none.
   */
  versionCondition: string;
  /** Incremented when a device of the group reports the firmware of a deployment update. */
  currentUpdatedDevices: number;
}

export type DeploymentSettings = Omit<
  DeploymentGroup,
  'id' | 'firmware' | 'archive' | 'currentUpdatedDevices'
>;

/** Defaults of nerves_hub_web lib/nerves_hub/managed_deployments/deployment_group.ex (isActive: see README). */
export const DEPLOYMENT_DEFAULTS: DeploymentSettings = {
  isActive: true,
  penaltyTimeoutMinutes: 1440,
  deviceFailureThreshold: 3,
  deviceFailureRateSeconds: 180,
  deviceFailureRateAmount: 5,
  releaseNetworkInterfaces: [],
  concurrentUpdates: 10,
  devices: [],
  versionCondition: '',
};

/** Told to the runtime around the model: which device page changed, which orchestrator to wake. */
export interface HubListener {
  changed(identifier: string): void;
  /** DeploymentOrchestratorEvents (`device-online`, `device-updated`) and group changes. */
  orchestratorEvent(deploymentId: number, event: string): void;
}

export interface Hub {
  readonly devices: Map<string, DeviceState>;
  readonly deployments: Map<number, DeploymentGroup>;
  /** Firmware uploaded to the product, by uuid (metadata_from_device falls back to it). */
  firmwareByUuid(uuid: string): ReleaseFirmware | undefined;
  listener: HubListener;
  nextDeploymentId: number;
  nextDeviceFirmwareId: number;
}

/** What the device channel does after a device message: carry on, or crash like the real channel process. */
export type MessageOutcome =
  | { readonly crashed: false }
  | { readonly crashed: true; readonly reason: string };

export type JoinOutcome =
  | { readonly status: 'ok' }
  | { readonly status: 'error'; readonly reason: string }
  | { readonly status: 'crashed'; readonly reason: string };

/** An `update` the server pushes; `updateAvailable: false` when the eligibility check failed late. */
export interface UpdateOffer {
  readonly identifier: string;
  readonly deploymentId: number | null;
  readonly firmwareId: string;
  readonly updateAvailable: boolean;
}
