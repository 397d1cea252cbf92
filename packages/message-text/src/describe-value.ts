/**
 * The one rule for naming a bad value in an error message ("option: expected …, got …"): the value is echoed so
 * the operator can find it in the config file, quoted, escaped and short; a value that may be a secret (a
 * shared secret, a PIN, a signed token) is never echoed, only its kind.
 */
import { shown } from './bounded-text.js';

/** The longest echoed string: enough to recognise a value, not to reproduce a whole file. */
export const ECHO_MAX_CHARS = 60;
/** Arrays with more items are described by their length alone. */
const ECHO_MAX_ITEMS = 10;

export interface DescribeValueOptions {
  /** The value may be a secret: only its kind is told (`a string`), never its content. @default false */
  readonly secret?: boolean;
}

/**
 * `"30x"`, `42`, `true`, `null`, `an array ["a", 1]`, `an object`, `a date (2024-05-01T00:00:00.000Z)`; with
 * `secret`, `a string`, `an empty string`, `a number`, ….
 */
export function describeValue(value: unknown, options: DescribeValueOptions = {}): string {
  if (value === null || value === undefined) return String(value);
  if (options.secret) return kindOf(value);
  if (typeof value === 'string') return `"${shown(value, ECHO_MAX_CHARS)}"`;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  if (Array.isArray(value)) return describeArray(value);
  if (value instanceof Date) {
    return Number.isNaN(value.getTime()) ? 'an invalid date' : `a date (${value.toISOString()})`;
  }
  return kindOf(value);
}

function describeArray(items: readonly unknown[]): string {
  if (items.length > ECHO_MAX_ITEMS) return `an array of ${items.length} items`;
  const inner = items.map((item) => describeValue(item)).join(', ');
  return inner.length <= ECHO_MAX_CHARS ? `an array [${inner}]` : `an array of ${items.length} items`;
}

function kindOf(value: unknown): string {
  if (typeof value === 'string') return value === '' ? 'an empty string' : 'a string';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Date) return 'a date';
  switch (typeof value) {
    case 'number':
      return 'a number';
    case 'bigint':
      return 'a big integer';
    case 'boolean':
      return 'a boolean';
    case 'function':
      return 'a function';
    case 'symbol':
      return 'a symbol';
    default:
      return 'an object';
  }
}
