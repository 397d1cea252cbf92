/** The device page and deployment views: copies of the records with ISO dates, safe to keep and compare. */

import { deviceInPenaltyBox } from './orchestrator.js';
import type {
  ConnectionStatus,
  DeploymentGroup,
  DeviceState,
  FirmwareMetadata,
  HistoryEntry,
  Hub,
  InflightStatus,
  NetworkInterface,
  ValidationStatus,
} from './types.js';

type DateFields = 'at' | 'until' | 'blockedUntil';
type WithIsoDates<T> = {
  readonly [K in keyof T]: K extends DateFields ? (null extends T[K] ? string | null : string) : T[K];
};
/** A history line with `at`, `until` and `blockedUntil` as ISO strings. */
export type PageHistoryEntry = HistoryEntry extends infer E
  ? E extends unknown
    ? WithIsoDates<E>
    : never
  : never;

export interface DevicePage {
  readonly identifier: string;
  readonly connected: boolean;
  /** `null` until the device first connects. */
  readonly connectionStatus: ConnectionStatus | null;
  readonly connectedSince: string | null;
  readonly firmware: FirmwareMetadata | null;
  readonly firmwareValidation: ValidationStatus;
  readonly firmwareAutoRevertDetected: boolean;
  /** `null` until reported on the current connection. */
  readonly networkInterface: NetworkInterface | null;
  readonly deploymentId: number | null;
  readonly updatesEnabled: boolean;
  readonly updatesBlockedUntil: string | null;
  /** `updatesBlockedUntil` is in the future (server clock). */
  readonly inPenaltyBox: boolean;
  readonly updateAttempts: readonly string[];
  readonly inflightUpdate: {
    readonly firmwareUuid: string | null;
    readonly deploymentId: number | null;
    readonly status: InflightStatus;
    readonly progress: number | null;
    readonly insertedAt: string;
    readonly updatedAt: string;
  } | null;
  readonly history: readonly PageHistoryEntry[];
}

export interface DeploymentView {
  readonly id: number;
  readonly firmwareId: string;
  readonly firmware: FirmwareMetadata;
  /** The host file id of the release's archive, if it has one. */
  readonly archiveId: string | null;
  /** `conditions.version`; `""` for none. */
  readonly versionCondition: string;
  readonly isActive: boolean;
  readonly penaltyTimeoutMinutes: number;
  readonly deviceFailureThreshold: number;
  readonly deviceFailureRateSeconds: number;
  readonly deviceFailureRateAmount: number;
  readonly releaseNetworkInterfaces: readonly NetworkInterface[];
  readonly concurrentUpdates: number;
  readonly devices: 'all' | readonly string[];
  readonly currentUpdatedDevices: number;
  /** Devices following the group now. */
  readonly members: readonly string[];
  /** In-flight records of the group. */
  readonly inflightUpdates: number;
}

const iso = (ms: number): string => new Date(ms).toISOString();
const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));

export function devicePage(device: DeviceState, now: number): DevicePage {
  const record = device.inflightUpdate;
  return {
    identifier: device.identifier,
    connected: device.connection === 'connected',
    connectionStatus: device.connection,
    connectedSince: isoOrNull(device.connectedSince),
    firmware: device.firmware ? { ...device.firmware } : null,
    firmwareValidation: device.validation,
    firmwareAutoRevertDetected: device.autoRevertDetected,
    networkInterface: device.networkInterface,
    deploymentId: device.deploymentId,
    updatesEnabled: device.updatesEnabled,
    updatesBlockedUntil: isoOrNull(device.updatesBlockedUntil),
    inPenaltyBox: deviceInPenaltyBox(device, now),
    updateAttempts: device.updateAttempts.map(iso),
    inflightUpdate: record
      ? {
          firmwareUuid: record.firmwareUuid,
          deploymentId: record.deploymentId,
          status: record.status,
          progress: record.progress,
          insertedAt: iso(record.insertedAt),
          updatedAt: iso(record.updatedAt),
        }
      : null,
    history: device.history.map(historyLine),
  };
}

export function historyLine(entry: HistoryEntry): PageHistoryEntry {
  const line: Record<string, unknown> = { ...entry, at: iso(entry.at) };
  if ('until' in entry) line.until = iso(entry.until);
  if ('blockedUntil' in entry) line.blockedUntil = isoOrNull(entry.blockedUntil);
  return line as PageHistoryEntry;
}

export function deploymentView(hub: Hub, group: DeploymentGroup): DeploymentView {
  const { firmware, archive, devices, releaseNetworkInterfaces, ...settings } = group;
  const { id: firmwareId, uuid, version, product, platform, architecture } = firmware;
  return {
    ...settings,
    firmwareId,
    archiveId: archive?.id ?? null,
    firmware: { uuid, version, product, platform, architecture },
    releaseNetworkInterfaces: [...releaseNetworkInterfaces],
    devices: devices === 'all' ? 'all' : [...devices],
    members: [...hub.devices.values()].filter((d) => d.deploymentId === group.id).map((d) => d.identifier),
    inflightUpdates: [...hub.devices.values()].filter((d) => d.inflightUpdate?.deploymentId === group.id)
      .length,
  };
}
