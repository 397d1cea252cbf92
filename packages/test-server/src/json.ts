/** JSON as a device sends it: what the test-server records of frames, typed without `any`. */

export type JsonValue = null | boolean | number | string | readonly JsonValue[] | JsonObject;

export interface JsonObject {
  readonly [key: string]: JsonValue | undefined;
}

/** A decoded payload as an object: itself when it is one, else `{}` (the value is kept elsewhere as sent). */
export function asJsonObject(value: JsonValue): JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonObject) : {};
}
