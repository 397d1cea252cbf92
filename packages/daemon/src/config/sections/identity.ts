import { CONFIG_DEFAULTS } from '../defaults.js';
import type { TableReader } from '../table-reader.js';
import type { AuthConfig } from './auth.js';

export type IdentitySource =
  | { readonly kind: 'command'; readonly command: readonly string[]; readonly timeoutMs: number }
  | { readonly kind: 'value'; readonly value: string }
  | { readonly kind: 'certificate' };

/**
 * `[identity]`: a command that prints the identifier, or the identifier itself; with neither, the CN of the
 * device certificate, so a shared-secret device (which has none) must set one.
 */
export function readIdentity(identity: TableReader, auth: AuthConfig): IdentitySource {
  const command = identity.command('serial_command');
  const value = identity.string('serial', 'the device identifier as a literal string');
  const timeoutMs = identity.integer(
    'serial_command_timeout_ms',
    CONFIG_DEFAULTS.identityCommandTimeoutMs,
    100,
    600_000,
    'milliseconds',
  );
  identity.rejectUnknown();
  if (command && value !== undefined) {
    identity.problem('serial', 'set either serial or serial_command, not both');
  }
  if (command) return { kind: 'command', command, timeoutMs };
  if (value !== undefined) return { kind: 'value', value };
  if (auth.method === 'shared_secret' && !identity.has('serial_command') && !identity.has('serial')) {
    identity.problem(
      'serial_command',
      'missing; a shared-secret device needs its identifier: set serial_command = "…" or serial = "…" in [identity]',
    );
  }
  return { kind: 'certificate' };
}
