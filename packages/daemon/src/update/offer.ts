/** The NervesHub `update` push, checked. Field names and types: nerves_hub_web lib/nerves_hub/devices/update_payload.ex. */
export interface UpdateOffer {
  readonly firmwareUrl: string;
  readonly uuid: string;
  readonly version?: string;
  readonly size?: number;
  /**
   * SHA-256 of the file at firmwareUrl, uppercase hex as the server sends it; kept as sent even when it is not
   * 64 hex digits (a value of another type as its JSON), so that the download refuses it ("malformed checksum")
   * instead of the file going unchecked. Absent when the server sent none (null, older firmware).
   */
  readonly checksum?: string;
  readonly deploymentId?: number;
}

export type ParsedOffer =
  | { readonly ok: true; readonly offer: UpdateOffer }
  | { readonly ok: false; readonly reason: string };

/** Reads an `update` payload; anything that cannot be acted on comes back with the reason. */
export function parseUpdateOffer(payload: unknown): ParsedOffer {
  if (typeof payload !== 'object' || payload === null)
    return { ok: false, reason: 'payload is not an object' };
  const fields = payload as Record<string, unknown>;
  if (fields.update_available === false) return { ok: false, reason: 'update_available is false' };
  const url = fields.firmware_url;
  if (typeof url !== 'string' || url === '') return { ok: false, reason: 'no firmware_url' };
  const meta = fields.firmware_meta;
  if (typeof meta !== 'object' || meta === null) return { ok: false, reason: 'no firmware_meta' };
  const { uuid, version } = meta as Record<string, unknown>;
  if (typeof uuid !== 'string' || uuid === '') return { ok: false, reason: 'firmware_meta has no uuid' };
  const size = fields.size;
  const checksum = fields.checksum;
  const deploymentId = fields.deployment_id;
  return {
    ok: true,
    offer: {
      firmwareUrl: url,
      uuid,
      ...(typeof version === 'string' ? { version } : {}),
      ...(typeof size === 'number' && Number.isSafeInteger(size) && size >= 0 ? { size } : {}),
      ...(checksum === undefined || checksum === null
        ? {}
        : { checksum: typeof checksum === 'string' ? checksum : String(JSON.stringify(checksum)) }),
      ...(typeof deploymentId === 'number' ? { deploymentId } : {}),
    },
  };
}
