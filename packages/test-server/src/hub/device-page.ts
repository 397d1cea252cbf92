/** The device page and deployment views: copies of the records with ISO dates, safe to keep and compare. */

import { deviceInPenaltyBox } from './orchestrator.js';
import type {
  ConnectionStatus,
  DeploymentGroup,
  DeviceFirmware,
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

/**
 * What the Firmware box of the device page's header says (nerves_hub_web lib/nerves_hub_web/live/devices/
 * show.html.heex lines 75-83): "Validated" unless a revert was detected, "Not validated", "Revert detected".
 */
export type FirmwareStatusLabel = 'Validated' | 'Not validated' | 'Revert detected';

/** What the Firmware History tab says of a row (lib/nerves_hub_web/components/device_page/firmware_history_tab.ex lines 61-70). */
export type FirmwareHistoryLabel =
  | 'Validated'
  | 'Not validated'
  | 'Unknown validation status'
  | 'Revert detected';

/** A row of the Firmware History tab ("Reported Installed Firmwares"). */
export interface PageDeviceFirmware {
  readonly firmware: FirmwareMetadata;
  /** The product's firmware the row links to; `null`: "Firmware unrecognized". */
  readonly firmwareId: string | null;
  readonly validation: ValidationStatus;
  readonly autoRevertDetected: boolean;
  readonly label: FirmwareHistoryLabel;
  readonly insertedAt: string;
}

/** The last `failed`, `ignored` or `rescheduled` (with `delay_for`) on record, as its audit line keeps it. */
export interface UpdateOutcome {
  readonly status: 'failed' | 'ignored' | 'rescheduled';
  /** The device's reason, `null` when it gave none. */
  readonly reason: string | null;
  readonly at: string;
}

export interface DevicePage {
  readonly identifier: string;
  readonly connected: boolean;
  /** `null` until the device first connects. */
  readonly connectionStatus: ConnectionStatus | null;
  readonly connectedSince: string | null;
  readonly firmware: FirmwareMetadata | null;
  readonly firmwareValidation: ValidationStatus;
  readonly firmwareAutoRevertDetected: boolean;
  /** The header's Firmware box; empty when the page shows none (validation unknown, no revert detected). */
  readonly firmwareStatus: readonly FirmwareStatusLabel[];
  /** The Firmware History tab, newest first (DeviceFirmwares.paginate orders by inserted_at desc): the first is current. */
  readonly firmwareHistory: readonly PageDeviceFirmware[];
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
  readonly lastUpdateOutcome: UpdateOutcome | null;
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
    firmwareStatus: firmwareStatusLabels(device.validation, device.autoRevertDetected),
    firmwareHistory: device.firmwareHistory.map(historyRow).reverse(),
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
    lastUpdateOutcome: lastUpdateOutcome(device),
    history: device.history.map(historyLine),
  };
}

/** show_firmware_status_box (lib/nerves_hub_web/live/devices/show.ex lines 394-396) and the box's labels. */
export function firmwareStatusLabels(
  validation: ValidationStatus,
  autoRevertDetected: boolean,
): FirmwareStatusLabel[] {
  const labels: FirmwareStatusLabel[] = [];
  if (validation === 'validated' && !autoRevertDetected) labels.push('Validated');
  if (validation === 'not_validated') labels.push('Not validated');
  if (autoRevertDetected) labels.push('Revert detected');
  return labels;
}

const HISTORY_LABELS: Record<ValidationStatus, FirmwareHistoryLabel> = {
  validated: 'Validated',
  not_validated: 'Not validated',
  unknown: 'Unknown validation status',
};

function historyRow(row: DeviceFirmware): PageDeviceFirmware {
  return {
    firmware: { ...row.metadata },
    firmwareId: row.firmwareId,
    validation: row.validation,
    autoRevertDetected: row.autoRevertDetected,
    // A detected revert replaces the validation status on the row.
    label: row.autoRevertDetected ? 'Revert detected' : HISTORY_LABELS[row.validation],
    insertedAt: iso(row.insertedAt),
  };
}

type OutcomeEntry = Extract<HistoryEntry, { event: UpdateOutcome['status'] }>;
const isOutcome = (entry: HistoryEntry): entry is OutcomeEntry =>
  entry.event === 'failed' || entry.event === 'ignored' || entry.event === 'rescheduled';

function lastUpdateOutcome(device: DeviceState): UpdateOutcome | null {
  const entry = device.history.findLast(isOutcome);
  return entry ? { status: entry.event, reason: entry.reason, at: iso(entry.at) } : null;
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
