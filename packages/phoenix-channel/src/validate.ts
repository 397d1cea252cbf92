/** Argument checks at the public edge: the message names the option, what was expected and what came in. */
import { PhoenixChannelError } from './errors.js';

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string')
    return `the string "${value.length > 40 ? `${value.slice(0, 40)}…` : value}"`;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return `a value of type ${typeof value}`;
}

export function invalid(name: string, expected: string, value: unknown): PhoenixChannelError {
  return new PhoenixChannelError(
    'PHX_INVALID_ARGUMENT',
    `${name}: expected ${expected}, got ${describe(value)}`,
  );
}

/** A finite number >= `min` (or undefined when optional). */
export function checkNumber(name: string, value: unknown, min = 0): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw invalid(name, `a finite number >= ${min}`, value);
  }
}

export function checkFunction(name: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'function') throw invalid(name, 'a function', value);
}

/** A plain object or a function returning one (or undefined). */
export function checkObjectOrFunction(name: string, value: unknown): void {
  if (value === undefined || typeof value === 'function') return;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(name, 'an object or a function returning one', value);
  }
}
