/**
 * What a device's channel does with the records, in the order of nerves_hub_web lib/nerves_hub/device_link.ex:
 * the join (refused or crashed as NervesHub does), what follows the join reply (`after_join`, lines 393-401: the
 * signing keys asked for, the group's archive, then online), device messages, and the pushes the server makes:
 * orchestrator offers, manual pushes, archives of a new release.
 */
import type { FirmwareHost } from '../firmware-host/host.js';
import type { FirmwareUrlOptions, UpdatePayload } from '../firmware-host/types.js';
import { sanitizedApiVersion } from '../hub/join.js';
import type { ReleaseArchive, ReleaseFirmware, UpdateOffer } from '../hub/types.js';
import type { UpdateService } from '../hub/update-service.js';
import type { JsonObject, JsonValue } from '../json.js';
import type { DeviceConnection } from './device-connection.js';
import type { DeviceRegistry } from './device-registry.js';

/** The join's answer: ok, or an error reply (`{error: "could not connect"}`, `{reason: "join crashed"}`). */
export type JoinAnswer = { readonly status: 'ok' } | { readonly status: 'error'; readonly response: object };

/** What a NervesHub broadcast of an unavailable update carries (lib/nerves_hub/devices/update_payload.ex). */
const NO_UPDATE = {
  update_available: false,
  firmware_url: null,
  firmware_meta: null,
  size: null,
  checksum: null,
  partials_checksums: null,
  deployment_id: null,
};

/** maybe_send_public_keys (lines 603-621): each type the device asks for `on_connect` gets the org's keys. */
const PUBLIC_KEY_TYPES = ['fwup_public_keys', 'archive_public_keys'] as const;

const COULD_NOT_CONNECT = { status: 'error', response: { error: 'could not connect' } } as const;
/** Phoenix.Channel.Server's answer when the channel process raises during its join. */
const JOIN_CRASHED = { status: 'error', response: { reason: 'join crashed' } } as const;

export interface DeviceLinkOptions {
  readonly service: UpdateService;
  readonly registry: DeviceRegistry;
  readonly host: FirmwareHost;
  /** Where firmware URLs point: the firmware host's `https://127.0.0.1:<port>`. */
  firmwareOrigin(): string;
  /** Faults or expiry for the firmware URLs of a group's offers. */
  deploymentUrlOptions(deploymentId: number): FirmwareUrlOptions | undefined;
  /** A test switch: every join refused with "could not connect". */
  joinsRefused(): boolean;
  /** The org's firmware signing keys (base64 Ed25519). */
  signingKeys(): readonly string[];
  /** A manual push of this firmware id after every join. */
  readonly autoUpdate?: string | undefined;
  /** Resolves a firmware id of the host to a release (throws for an unknown one). */
  release(firmwareId: string): ReleaseFirmware;
}

export class DeviceLink {
  readonly #options: DeviceLinkOptions;

  constructor(options: DeviceLinkOptions) {
    this.#options = options;
  }

  join(connection: DeviceConnection, params: unknown): JoinAnswer {
    const { service, registry, joinsRefused } = this.#options;
    const { identifier } = connection;
    if (joinsRefused()) {
      registry.log({ type: 'join-refused', identifier, reason: 'joins are refused' });
      return COULD_NOT_CONNECT;
    }
    const outcome = service.join(identifier, params);
    if (outcome.status === 'crashed') {
      registry.log({ type: 'join-crashed', identifier, reason: outcome.reason, params });
      return JOIN_CRASHED;
    }
    if (outcome.status === 'error') {
      registry.log({ type: 'join-refused', identifier, reason: outcome.reason });
      return COULD_NOT_CONNECT;
    }
    // An ok join had map params (anything else crashed it).
    const joinParams = params as JsonObject;
    connection.deviceApiVersion = sanitizedApiVersion(joinParams);
    registry.joined(identifier, joinParams);
    return { status: 'ok' };
  }

  /** DeviceLink.after_join: the keys asked for, the group's archive, then online (which wakes the orchestrator). */
  afterJoin(connection: DeviceConnection, params: JsonObject): void {
    const { service, signingKeys, autoUpdate } = this.#options;
    const keys = signingKeys();
    for (const type of PUBLIC_KEY_TYPES) {
      if (params[type] === 'on_connect' && keys.length > 0) connection.push(type, { keys: [...keys] });
    }
    const archive = service.archiveFor(connection.identifier, connection.deviceApiVersion, false);
    if (archive) this.#pushArchive(connection, archive);
    service.online(connection.identifier);
    if (autoUpdate) setImmediate(() => this.manualUpdate(connection.identifier, autoUpdate));
  }

  /** A device message on the joined channel; `crash` when it raises on NervesHub. */
  message(connection: DeviceConnection, event: string, payload: unknown): 'ok' | 'crash' {
    const outcome = this.#options.service.message(connection.identifier, event, payload);
    this.#options.registry.event(connection.identifier, event, payload as JsonValue, outcome.crashed);
    return outcome.crashed ? 'crash' : 'ok';
  }

  /** An orchestrator's `update`, sent to the device's channel if it is joined (else the broadcast reaches nobody). */
  deliver(offer: UpdateOffer): void {
    const { registry, host, firmwareOrigin, deploymentUrlOptions } = this.#options;
    const connection = registry.connection(offer.identifier);
    if (!connection?.joined) return;
    const payload: UpdatePayload | typeof NO_UPDATE = offer.updateAvailable
      ? host.updatePayload(firmwareOrigin(), offer.firmwareId, {
          ...(offer.deploymentId === null ? {} : deploymentUrlOptions(offer.deploymentId)),
          deploymentId: offer.deploymentId,
        })
      : NO_UPDATE;
    connection.push('update', payload);
    registry.log({ type: 'offer', ...offer, ...firmwareNamed(payload.firmware_meta) });
  }

  /**
   * A manual push from the device page: recorded as NervesHub records it, then broadcast to the device's channel,
   * which hears it only if it is joined. False when NervesHub refuses it (a record exists, a device never seen).
   */
  manualUpdate(identifier: string, firmwareId: string, urlOptions?: FirmwareUrlOptions): boolean {
    const { service, registry, host, firmwareOrigin, release } = this.#options;
    const result = service.manualUpdate(identifier, release(firmwareId));
    if (!result.ok) {
      registry.log({ type: 'push-refused', identifier, firmwareId, reason: result.reason });
      return false;
    }
    const payload = host.updatePayload(firmwareOrigin(), firmwareId, { ...urlOptions, deploymentId: null });
    registry.log({ type: 'offer', ...result.offer, ...firmwareNamed(payload.firmware_meta) });
    registry.connection(identifier)?.push('update', payload);
    return true;
  }

  /** `archives/updated` on a group's topic: every joined member hears about the new archive, with an audit line. */
  archivesUpdated(deploymentId: number): void {
    const { service, registry } = this.#options;
    for (const identifier of service.members(deploymentId)) {
      const connection = registry.connection(identifier);
      if (!connection?.joined) continue;
      const archive = service.archiveFor(identifier, connection.deviceApiVersion, true);
      if (archive) this.#pushArchive(connection, archive);
    }
  }

  /** The `archive` push (lines 570-582): `uploaded_at` is a NaiveDateTime in ISO 8601, without a zone. */
  #pushArchive(connection: DeviceConnection, archive: ReleaseArchive): void {
    const { host, firmwareOrigin, registry } = this.#options;
    connection.push('archive', {
      size: archive.size,
      uuid: archive.uuid,
      version: archive.version,
      description: archive.description,
      platform: archive.platform,
      architecture: archive.architecture,
      uploaded_at: new Date(archive.uploadedAt).toISOString().slice(0, 19),
      url: host.url(firmwareOrigin(), archive.id, { expiresInSeconds: 3600 }),
    });
    registry.log({ type: 'archive', identifier: connection.identifier, archiveUuid: archive.uuid });
  }
}

/** The firmware as the device names it (its uuid and version), for the activity log: not the content hash. */
function firmwareNamed(meta: { uuid?: unknown; version?: unknown } | null): Record<string, string> {
  if (!meta) return {};
  return {
    ...(typeof meta.uuid === 'string' ? { firmwareUuid: meta.uuid } : {}),
    ...(typeof meta.version === 'string' ? { firmwareVersion: meta.version } : {}),
  };
}
