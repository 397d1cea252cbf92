import type { UpdateOffer } from './offer.js';

/**
 * What operators' hooks and the local status learn about an offered update: the offer's checked fields plus the
 * target firmware's descriptive metadata from `firmware_meta` (nerves_hub_web lib/nerves_hub/devices/update_payload.ex).
 * Never the firmware URL: its query string is a credential.
 */
export interface UpdateFacts {
  readonly uuid: string;
  readonly version?: string;
  readonly product?: string;
  readonly platform?: string;
  readonly architecture?: string;
  readonly size?: number;
  readonly checksum?: string;
  /** Absent for a manual push (`deployment_id: null`). */
  readonly deploymentId?: number;
}

/** The running firmware, as the join reports it (nerves_fw_* without the prefix). */
export interface RunningFirmware {
  readonly uuid?: string;
  readonly version?: string;
  readonly product?: string;
  readonly platform?: string;
  readonly architecture?: string;
}

export function updateFacts(offer: UpdateOffer, payload: unknown): UpdateFacts {
  const meta = (payload as { firmware_meta?: Record<string, unknown> } | null)?.firmware_meta ?? {};
  const text = (key: string) => {
    const value = meta[key];
    return typeof value === 'string' && value !== '' ? { [key]: value } : {};
  };
  return {
    uuid: offer.uuid,
    ...(offer.version !== undefined ? { version: offer.version } : {}),
    ...text('product'),
    ...text('platform'),
    ...text('architecture'),
    ...(offer.size !== undefined ? { size: offer.size } : {}),
    ...(offer.checksum !== undefined ? { checksum: offer.checksum } : {}),
    ...(offer.deploymentId !== undefined ? { deploymentId: offer.deploymentId } : {}),
  };
}

export function runningFirmware(params: Readonly<Record<string, string>>): RunningFirmware {
  const pick = (key: string) => (params[`nerves_fw_${key}`] ? { [key]: params[`nerves_fw_${key}`] } : {});
  return {
    ...pick('uuid'),
    ...pick('version'),
    ...pick('product'),
    ...pick('platform'),
    ...pick('architecture'),
  };
}

/** `1.2.0 (3f2c1e0a…)` or the uuid alone, for logs and `status`. */
export function describeUpdate(update: { readonly uuid: string; readonly version?: string }): string {
  return update.version ? `${update.uuid} (${update.version})` : update.uuid;
}
