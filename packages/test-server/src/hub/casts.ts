/**
 * How NervesHub reads the values a device sends: the map check every device handler starts with (a clause that
 * matches a map), and Ecto's casts of the fields it stores.
 */

/** A JSON object as a device sent it. */
export type Params = Record<string, unknown>;

export function isMap(value: unknown): value is Params {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Ecto's :boolean cast. */
export function castBoolean(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  return undefined;
}

/** Ecto's :integer cast: integers, and strings that are an integer and nothing else. */
export function castInteger(value: unknown): number | null | undefined {
  if (value === undefined || value === null) return null;
  if (typeof value === 'number') return Number.isInteger(value) ? value : undefined;
  if (typeof value === 'string' && /^[+-]?\d+$/.test(value)) return Number.parseInt(value, 10);
  return undefined;
}

/**
 * Ecto.Changeset.validate_required (ecto 3.14.2, which nerves_hub_web locks): a value is missing when it is nil or
 * a string with nothing but whitespace.
 */
export function isBlank(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
}
