/**
 * NervesHub's per-device update records as plain functions: what the device page shows after each thing a device
 * or a user does. Every rule is named after the nerves_hub_web function it mirrors (file in its comment); `now`
 * is the server clock in ms. A message that raises on the real server returns `crashed` and changes nothing the
 * real server would have rolled back.
 */
import { setDeploymentGroup } from './deployments.js';
import { audit, changed, deviceState } from './hub.js';
import {
  type DeploymentGroup,
  type DeviceState,
  type FirmwareMetadata,
  type Hub,
  INFLIGHT_STATUSES,
  type InflightStatus,
  type InflightUpdate,
  type JoinOutcome,
  type MessageOutcome,
  type NetworkInterface,
  type ReleaseFirmware,
  type UpdateOffer,
  type ValidationStatus,
} from './types.js';

/** FirmwareUpdates.delete_expired_inflight_updates: records untouched this long are deleted. */
export const INFLIGHT_EXPIRY_MS = 30 * 60_000;
/** FirmwareUpdates.should_persist?: progress of the same status is written at most this often. */
export const PROGRESS_PERSIST_MS = 15_000;
const MINUTE_MS = 60_000;

const OK: MessageOutcome = { crashed: false };
const crash = (reason: string): MessageOutcome => ({ crashed: true, reason });

type Params = Record<string, unknown>;

function isMap(value: unknown): value is Params {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------------------------------------
// Connection (lib/nerves_hub/devices/connections.ex, lib/nerves_hub/device_link.ex announce_online)

/** Connections.device_connecting: a new connection row, `connecting`, with no network interface yet. */
export function deviceConnecting(hub: Hub, identifier: string, now: number): void {
  const device = deviceState(hub, identifier);
  device.connection = 'connecting';
  device.connectedSince = now;
  device.networkInterface = null;
  changed(hub, device);
}

/**
 * DeviceLink.announce_online: Connections.device_connected (not for a row already marked disconnected), then
 * Deployments.deployment_device_online, which wakes the device's orchestrator when Orchestrator.should_trigger?.
 */
export function deviceOnline(hub: Hub, identifier: string, now: number): void {
  const device = deviceState(hub, identifier);
  if (device.connection === 'disconnected') return;
  device.connection = 'connected';
  changed(hub, device);
  const group = device.deploymentId === null ? undefined : hub.deployments.get(device.deploymentId);
  if (group && shouldTrigger(device, group, now)) hub.listener.orchestratorEvent(group.id, 'device-online');
}

/** Orchestrator.should_trigger? (lib/nerves_hub/managed_deployments/distributed/orchestrator.ex). */
export function shouldTrigger(device: DeviceState, group: DeploymentGroup, now: number): boolean {
  const onTarget = device.firmware?.uuid === group.firmware.uuid;
  // As in the source: blocked only counts together with updates disabled.
  const blocked =
    !device.updatesEnabled && device.updatesBlockedUntil !== null && device.updatesBlockedUntil > now;
  return !(onTarget || blocked);
}

/** Connections.device_disconnected. The in-flight record stays. */
export function deviceDisconnected(hub: Hub, identifier: string): void {
  const device = deviceState(hub, identifier);
  device.connection = 'disconnected';
  changed(hub, device);
}

// ---------------------------------------------------------------------------------------------------------------
// Join (lib/nerves_hub/device_link.ex)

/**
 * DeviceLink.device_join → join: update_firmware_metadata, maybe_clear_inflight_update, refresh_deployment_group.
 * Values that raise (join crashed) are found before anything is written, as on the real server.
 */
export function deviceJoin(hub: Hub, identifier: string, params: unknown, now: number): JoinOutcome {
  const problem = joinCrash(params);
  if (problem) return { status: 'crashed', reason: problem };
  const join = params as Params;
  const meta = (join.meta ?? {}) as Params;
  // Devices.update_firmware_metadata casts it as an Ecto boolean; an invalid changeset fails the join.
  const autoRevert = castBoolean(meta.firmware_auto_revert_detected ?? false);
  if (autoRevert === undefined)
    return { status: 'error', reason: 'firmware_auto_revert_detected is not a boolean' };
  const device = deviceState(hub, identifier);
  updateFirmwareMetadata(hub, device, join, fetchValidationStatus(meta), autoRevert, now);
  maybeClearInflightUpdate(hub, device, join, now);
  setDeploymentGroup(hub, device, now);
  changed(hub, device);
  return { status: 'ok' };
}

/** What raises in device_join before any write: sanitize_device_api_version, metadata_from_device, meta. */
function joinCrash(params: unknown): string | undefined {
  // sanitize_device_api_version: Map.put on a non-map.
  if (!isMap(params)) return 'join params are not a map';
  // Version.parse/1 only takes a string (null included in the failure).
  if ('device_api_version' in params && typeof params.device_api_version !== 'string') {
    return 'device_api_version is not a string';
  }
  // Firmwares.metadata_from_device looks an unusable report up by uuid; a non-string uuid fails the query cast.
  const uuid = params.nerves_fw_uuid;
  if (uuid !== undefined && uuid !== null && typeof uuid !== 'string')
    return 'nerves_fw_uuid is not a string';
  // fetch_validation_status: Map.get on a non-map meta, then a case without a clause for other values.
  if ('meta' in params && !isMap(params.meta)) return 'meta is not a map';
  const validated = (params.meta as Params | undefined)?.firmware_validated;
  if (validated !== undefined && validated !== null && typeof validated !== 'boolean') {
    return 'meta.firmware_validated is not a boolean';
  }
  return undefined;
}

/** DeviceLink.fetch_validation_status. */
function fetchValidationStatus(meta: Params): ValidationStatus {
  if (meta.firmware_validated === true) return 'validated';
  if (meta.firmware_validated === false) return 'not_validated';
  return 'unknown';
}

/** Ecto's :boolean cast. */
function castBoolean(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  return undefined;
}

const REQUIRED_METADATA = ['uuid', 'product', 'architecture', 'version', 'platform'] as const;
const METADATA_PARAMS: Record<string, string> = {
  uuid: 'nerves_fw_uuid',
  architecture: 'nerves_fw_architecture',
  platform: 'nerves_fw_platform',
  product: 'nerves_fw_product',
  version: 'nerves_fw_version',
  author: 'nerves_fw_author',
  description: 'nerves_fw_description',
  fwup_version: 'fwup_version',
  vcs_identifier: 'nerves_fw_vcs_identifier',
  misc: 'nerves_fw_misc',
};

/**
 * Firmwares.metadata_from_device (lib/nerves_hub/firmwares.ex, update_tool/fwup.ex): the reported metadata when
 * the FirmwareMetadata changeset is valid (string fields, required ones non-empty), else the product's firmware
 * with the reported uuid, else nothing.
 */
export function metadataFromDevice(hub: Hub, params: Params): FirmwareMetadata | null {
  const values: Record<string, unknown> = {};
  for (const [field, param] of Object.entries(METADATA_PARAMS)) values[field] = params[param];
  const castable = Object.values(values).every((value) => value == null || typeof value === 'string');
  const complete = REQUIRED_METADATA.every(
    (field) => typeof values[field] === 'string' && values[field] !== '',
  );
  if (castable && complete) {
    const [uuid, product, architecture, version, platform] = REQUIRED_METADATA.map(
      (f) => values[f] as string,
    );
    return {
      uuid: uuid!,
      product: product!,
      architecture: architecture!,
      version: version!,
      platform: platform!,
    };
  }
  const uuid = values.uuid;
  if (typeof uuid !== 'string' || uuid === '') return null;
  const known = hub.firmwareByUuid(uuid);
  return known ? pickMetadata(known) : null;
}

function pickMetadata(meta: FirmwareMetadata): FirmwareMetadata {
  const { uuid, version, product, platform, architecture } = meta;
  return { uuid, version, product, platform, architecture };
}

/**
 * DeviceLink.update_firmware_metadata: the same uuid as on record only updates the validation status; anything
 * else (new firmware, or no usable metadata while some is on record) goes through firmware_update_successful.
 */
function updateFirmwareMetadata(
  hub: Hub,
  device: DeviceState,
  params: Params,
  validation: ValidationStatus,
  autoRevert: boolean,
  now: number,
): void {
  const previous = device.firmware;
  const reported = metadataFromDevice(hub, params);
  device.validation = validation;
  device.autoRevertDetected = autoRevert;
  if (previous && reported && previous.uuid === reported.uuid) return;
  if (reported) device.firmware = reported;
  firmwareUpdateSuccessful(hub, device, previous, now);
}

/**
 * FirmwareUpdates.firmware_update_successful (lib/nerves_hub/firmware_updates.ex): nothing for a device with no
 * metadata; otherwise an audit line, the in-flight record deleted (a deployment one counts an updated device and
 * tells its orchestrator), and Device.clear_updates_information_changeset: attempts and the block cleared.
 */
export function firmwareUpdateSuccessful(
  hub: Hub,
  device: DeviceState,
  previous: FirmwareMetadata | null,
  now: number,
): void {
  if (!device.firmware) return;
  audit(hub, device, {
    at: now,
    event: 'firmware-updated',
    from: previous?.uuid ?? null,
    to: device.firmware.uuid,
  });
  const record = device.inflightUpdate;
  if (record) {
    const group = record.deploymentId === null ? undefined : hub.deployments.get(record.deploymentId);
    if (group) {
      group.currentUpdatedDevices += 1;
      if (device.deploymentId !== null) hub.listener.orchestratorEvent(device.deploymentId, 'device-updated');
    }
    device.inflightUpdate = null;
  }
  device.updateAttempts = [];
  device.updatesBlockedUntil = null;
}

/** DeviceLink.maybe_clear_inflight_update: only a non-empty `currently_downloading_uuid` string keeps the record. */
function maybeClearInflightUpdate(hub: Hub, device: DeviceState, params: Params, now: number): void {
  const downloading = params.currently_downloading_uuid;
  if (typeof downloading === 'string' && downloading.length > 0) return;
  clearInflightUpdate(hub, device, 'joined without currently_downloading_uuid', now);
}

/** FirmwareUpdates.clear_inflight_update (the reason is ours, for the history). */
export function clearInflightUpdate(hub: Hub, device: DeviceState, reason: string, now: number): void {
  if (!device.inflightUpdate) return;
  device.inflightUpdate = null;
  audit(hub, device, { at: now, event: 'inflight-cleared', reason });
}

// ---------------------------------------------------------------------------------------------------------------
// Device messages (lib/nerves_hub/device_link.ex device_message)

/** DeviceLink.device_message: the events that touch the records; every other event changes nothing. */
export function deviceMessage(
  hub: Hub,
  identifier: string,
  event: string,
  payload: unknown,
  now: number,
): MessageOutcome {
  switch (event) {
    case 'firmware_validated':
      firmwareValidated(hub, identifier, now);
      return OK;
    case 'fwup_progress':
    case 'update_progress':
      return updateProgress(hub, identifier, payload, now);
    case 'status_update':
      return statusUpdate(hub, identifier, payload, now);
    case 'report_network_interface':
      reportNetworkInterface(hub, identifier, payload, now);
      return OK;
    default:
      return OK;
  }
}

/**
 * device_message for `fwup_progress`/`update_progress`: ignored without `value`; no stage and 100 → completed,
 * no stage → updating; then DeviceLink.status_update with the value as progress.
 */
export function updateProgress(hub: Hub, identifier: string, payload: unknown, now: number): MessageOutcome {
  if (!isMap(payload) || !('value' in payload)) return OK;
  const value = payload.value;
  const stage = payload.stage ?? null;
  if (stage === null && value === 100) return statusUpdate(hub, identifier, { status: 'completed' }, now);
  if (stage === null) return statusUpdate(hub, identifier, { status: 'updating', progress: value }, now);
  return statusUpdate(hub, identifier, { status: stage, progress: value }, now);
}

/**
 * DeviceLink.status_update: `started` as is; any status containing "fwup error" (any case) → failed with reason
 * "fwup error"; everything else to FirmwareUpdates.status_update. No `status` key, or a non-string one, raises.
 */
export function statusUpdate(hub: Hub, identifier: string, params: unknown, now: number): MessageOutcome {
  if (!isMap(params) || !('status' in params)) return crash('status_update without a status');
  const device = deviceState(hub, identifier);
  const status = params.status;
  if (status === 'started') return firmwareStatusUpdate(hub, device, 'started', {}, now);
  if (typeof status !== 'string') return crash('status is not a string');
  if (status.toLowerCase().includes('fwup error')) {
    return firmwareStatusUpdate(hub, device, 'failed', { reason: 'fwup error' }, now);
  }
  return firmwareStatusUpdate(hub, device, status, params, now);
}

/**
 * FirmwareUpdates.status_update + do_status_update + fetch_device + maybe_update_update_attempts, in one
 * transaction: a missing record is created empty (`requested`), a `requested` record counts an update attempt,
 * then the status clause runs. Anything that raises rolls all of it back.
 */
function firmwareStatusUpdate(
  hub: Hub,
  device: DeviceState,
  status: string,
  info: Params,
  now: number,
): MessageOutcome {
  const reschedule = status === 'rescheduled' && 'delay_for' in info;
  // NaiveDateTime.add/3 takes integers only; it runs before the transaction.
  if (reschedule && !Number.isInteger(info.delay_for)) return crash('delay_for is not an integer');
  const clears = status === 'ignored' || status === 'failed' || reschedule;
  const current = device.inflightUpdate;
  let progress: number | null = null;
  let write = true;
  if (!clears) {
    // InflightUpdate.update_status_changeset casts the status to the Ecto.Enum; Repo.update! raises on failure.
    if (!(INFLIGHT_STATUSES as readonly string[]).includes(status))
      return crash(`unknown status "${status}"`);
    if (status === 'downloading' || status === 'updating') {
      // Written only when the status changes or the record is older than 15 s; only then is progress cast.
      write =
        (current?.status ?? 'requested') !== status ||
        (current !== null && current.updatedAt < now - PROGRESS_PERSIST_MS);
      if (write) {
        const cast = castInteger(info.progress);
        if (cast === undefined) return crash('progress is not an integer');
        progress = cast;
      }
    }
  }

  let record = current;
  if (!record) {
    record = {
      firmwareUuid: null,
      deploymentId: null,
      status: 'requested',
      progress: null,
      insertedAt: now,
      updatedAt: now,
    };
    device.inflightUpdate = record;
  }
  if (record.status === 'requested') device.updateAttempts.push(now);
  const group = record.deploymentId === null ? undefined : hub.deployments.get(record.deploymentId);
  const reason = reasonText(info.reason);

  if (status === 'failed' || status === 'ignored') {
    device.inflightUpdate = null;
    const blockedUntil = group ? now + group.penaltyTimeoutMinutes * MINUTE_MS : null;
    if (blockedUntil !== null) device.updatesBlockedUntil = blockedUntil;
    audit(hub, device, { at: now, event: status, reason, blockedUntil });
  } else if (reschedule) {
    device.inflightUpdate = null;
    const until = now + (info.delay_for as number);
    if (group) device.updatesBlockedUntil = until;
    audit(hub, device, { at: now, event: 'rescheduled', reason, until, blocked: group !== undefined });
  } else if (write) {
    setStatus(hub, device, record, status as InflightStatus, progress, now, current === null);
  }
  changed(hub, device);
  return OK;
}

/** Repo.update of InflightUpdate.update_status_changeset: `updated_at` moves only when a value changes. */
function setStatus(
  hub: Hub,
  device: DeviceState,
  record: InflightUpdate,
  status: InflightStatus,
  progress: number | null,
  now: number,
  created: boolean,
): void {
  const statusChanged = record.status !== status;
  if (!statusChanged && record.progress === progress) {
    if (created) audit(hub, device, { at: now, event: 'status', status, progress });
    return;
  }
  record.status = status;
  record.progress = progress;
  record.updatedAt = now;
  if (statusChanged || created) audit(hub, device, { at: now, event: 'status', status, progress });
}

/** Ecto's :integer cast: integers, and strings that are an integer and nothing else. */
function castInteger(value: unknown): number | null | undefined {
  if (value === undefined || value === null) return null;
  if (typeof value === 'number') return Number.isInteger(value) ? value : undefined;
  if (typeof value === 'string' && /^[+-]?\d+$/.test(value)) return Number.parseInt(value, 10);
  return undefined;
}

function reasonText(reason: unknown): string | null {
  if (reason === undefined || reason === null) return null;
  return typeof reason === 'string' ? reason : JSON.stringify(reason);
}

/** DeviceConnection.humanized_network_interface_name (lib/nerves_hub/devices/device_connection.ex). */
export function humanizedNetworkInterfaceName(name: unknown): NetworkInterface {
  if (typeof name !== 'string') return 'unknown';
  if (name.startsWith('wlan')) return 'wifi';
  if (name.startsWith('eth') || name.startsWith('en')) return 'ethernet';
  if (name.startsWith('wwan')) return 'cellular';
  return 'unknown';
}

/**
 * DeviceLink.report_network_interface + Connections.update_network_interface: the humanised name goes on the
 * connection row unless it is what the connection already has. A payload without `interface` is ignored.
 */
export function reportNetworkInterface(hub: Hub, identifier: string, payload: unknown, now: number): void {
  if (!isMap(payload) || !('interface' in payload)) return;
  const device = deviceState(hub, identifier);
  const networkInterface = humanizedNetworkInterfaceName(payload.interface);
  if (networkInterface === device.networkInterface) return;
  device.networkInterface = networkInterface;
  audit(hub, device, {
    at: now,
    event: 'network-interface',
    reported: typeof payload.interface === 'string' ? payload.interface : JSON.stringify(payload.interface),
    networkInterface,
  });
}

/** Updates.firmware_validated (lib/nerves_hub/devices/updates.ex). */
export function firmwareValidated(hub: Hub, identifier: string, now: number): void {
  const device = deviceState(hub, identifier);
  device.validation = 'validated';
  audit(hub, device, { at: now, event: 'validated' });
}

// ---------------------------------------------------------------------------------------------------------------
// Users (lib/nerves_hub/events/device_events.ex, lib/nerves_hub/devices/updates.ex)

export type ManualUpdateResult =
  | { readonly ok: true; readonly offer: UpdateOffer }
  | { readonly ok: false; readonly reason: string };

/**
 * DeviceEvents.manual_update: a manual in-flight record (no deployment) and Updates.disable_updates, then the push.
 * The insert fails on the unique device index while any record exists, so the push is refused.
 */
export function manualUpdate(
  hub: Hub,
  identifier: string,
  firmware: ReleaseFirmware,
  now: number,
): ManualUpdateResult {
  const device = hub.devices.get(identifier);
  if (!device) return { ok: false, reason: 'unknown device' };
  if (device.inflightUpdate) return { ok: false, reason: 'the device already has an in-flight update' };
  device.inflightUpdate = {
    firmwareUuid: firmware.uuid,
    deploymentId: null,
    status: 'requested',
    progress: null,
    insertedAt: now,
    updatedAt: now,
  };
  disableUpdates(hub, identifier, now);
  audit(hub, device, { at: now, event: 'pushed', firmwareUuid: firmware.uuid });
  return {
    ok: true,
    offer: { identifier, deploymentId: null, firmwareId: firmware.id, updateAvailable: true },
  };
}

/** Updates.disable_updates. */
export function disableUpdates(hub: Hub, identifier: string, now: number): void {
  const device = deviceState(hub, identifier);
  device.updatesEnabled = false;
  audit(hub, device, { at: now, event: 'updates-disabled' });
}

/** Updates.enable_updates: attempts cleared; the device's orchestrator hears `device-updated`. */
export function enableUpdates(hub: Hub, identifier: string, now: number): void {
  const device = deviceState(hub, identifier);
  device.updatesEnabled = true;
  device.updateAttempts = [];
  audit(hub, device, { at: now, event: 'updates-enabled' });
  if (device.deploymentId !== null) hub.listener.orchestratorEvent(device.deploymentId, 'device-updated');
}

/** Updates.clear_penalty_box: unblocked, attempts cleared, updates enabled; the orchestrator is not told. */
export function clearPenaltyBox(hub: Hub, identifier: string, now: number): void {
  const device = deviceState(hub, identifier);
  device.updatesBlockedUntil = null;
  device.updateAttempts = [];
  device.updatesEnabled = true;
  audit(hub, device, { at: now, event: 'penalty-box-cleared' });
}

/** Updates.device_in_penalty_box?. */
export function deviceInPenaltyBox(device: DeviceState, now: number): boolean {
  return device.updatesBlockedUntil !== null && device.updatesBlockedUntil > now;
}

// ---------------------------------------------------------------------------------------------------------------
// Background work (lib/nerves_hub/workers/expire_inflight_updates.ex, every 5 minutes)

/** FirmwareUpdates.delete_expired_inflight_updates: records not updated for 30 minutes are deleted. */
export function deleteExpiredInflightUpdates(hub: Hub, now: number): number {
  let count = 0;
  for (const device of hub.devices.values()) {
    const record = device.inflightUpdate;
    if (!record || record.updatedAt >= now - INFLIGHT_EXPIRY_MS) continue;
    device.inflightUpdate = null;
    audit(hub, device, {
      at: now,
      event: 'expired',
      firmwareUuid: record.firmwareUuid,
      status: record.status,
    });
    count += 1;
  }
  return count;
}
