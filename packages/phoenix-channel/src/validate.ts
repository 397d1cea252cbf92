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

/** What kind of value it is, never the value itself: for values that may be secrets (header values, tokens). */
function describeKind(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return 'an array';
  const type = typeof value;
  return `${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type}`;
}

export function invalid(name: string, expected: string, value: unknown): PhoenixChannelError {
  return new PhoenixChannelError(
    'PHX_INVALID_ARGUMENT',
    `${name}: expected ${expected}, got ${describe(value)}`,
  );
}

/** Like `invalid`, but the message says only what kind of value came in (see `describeKind`). */
export function invalidKind(name: string, expected: string, value: unknown): PhoenixChannelError {
  return new PhoenixChannelError(
    'PHX_INVALID_ARGUMENT',
    `${name}: expected ${expected}, got ${describeKind(value)}`,
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

/** A plain object or a function returning one (or undefined). Only the kind is named: params and headers carry tokens. */
export function checkObjectOrFunction(name: string, value: unknown): void {
  if (value === undefined || typeof value === 'function') return;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidKind(name, 'an object or a function returning one', value);
  }
}

export function checkSignal(value: unknown): void {
  if (value !== undefined && !(value instanceof AbortSignal))
    throw invalidKind('signal', 'an AbortSignal', value);
}
