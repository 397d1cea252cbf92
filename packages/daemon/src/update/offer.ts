import { describeValue } from '@nerves-hub-link/message-text';

/** The NervesHub `update` push, checked. Field names and types: nerves_hub_web lib/nerves_hub/devices/update_payload.ex. */
export interface UpdateOffer {
  readonly firmwareUrl: string;
  readonly uuid: string;
  readonly version?: string;
  /**
   * The firmware's size in bytes, which bounds the download. Absent when the server does not know it: then
   * `Content-Length`, else the free space, bounds the download.
   */
  readonly size?: number;
  /**
   * Why the offer's `size` cannot be used, when it is neither a size nor a way of saying "unknown": the update
   * fails with this, before any request (a made-up bound could cut a good firmware or let an endless body fill
   * the disk).
   */
  readonly sizeProblem?: string;
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
  const size = readSize(fields.size);
  const checksum = fields.checksum;
  const deploymentId = fields.deployment_id;
  return {
    ok: true,
    offer: {
      firmwareUrl: url,
      uuid,
      ...(typeof version === 'string' ? { version } : {}),
      ...size,
      ...(checksum === undefined || checksum === null
        ? {}
        : { checksum: typeof checksum === 'string' ? checksum : String(JSON.stringify(checksum)) }),
      ...(typeof deploymentId === 'number' ? { deploymentId } : {}),
    },
  };
}

/**
 * The offer's `size`. NervesHub sends the firmware's (or the delta's) size column: a whole number of bytes, or
 * null for a firmware uploaded before the column existed (nerves_hub_web
 * priv/repo/migrations/20190221141905_add_size_to_firmware.exs adds it nullable; nerves_hub_link
 * lib/nerves_hub_link/message/update_info.ex types it `non_neg_integer() | nil`), or 0 for a delta made before
 * its column existed (20250626190627_add_tool_fields_for_firmware_and_deltas.exs, `default: 0`). Absent, null and
 * 0 (no .fw is empty) mean "unknown"; anything else but a whole number (a string, a negative number, a fraction,
 * one past 2^53) is refused.
 */
function readSize(size: unknown): { readonly size?: number; readonly sizeProblem?: string } {
  if (size === undefined || size === null || size === 0) return {};
  if (typeof size === 'number' && Number.isSafeInteger(size) && size > 0) return { size };
  return {
    sizeProblem: `invalid size: the update announced a size of ${describeValue(size)}, not a whole number of bytes; NervesHub sends one, or none`,
  };
}
