import { REASON_PREFIX } from './constants.js';
import { redact } from './redact.js';

export interface Failure {
  readonly kind: 'expired-url' | 'other';
  /** The `reason` of the `failed` status: short, with the prefixes operators know, never a secret. */
  readonly reason: string;
  readonly code?: string;
}

/**
 * Turns any error from the update steps into a status reason. Decisions read the error `code`
 * (FW_* from the firmware package); the text only describes.
 */
export function classifyFailure(error: unknown): Failure {
  const code =
    typeof (error as { code?: unknown })?.code === 'string' ? (error as { code: string }).code : undefined;
  const message = redact(error instanceof Error ? error.message : String(error));
  if (code === 'FW_URL_EXPIRED')
    return { kind: 'expired-url', reason: `${REASON_PREFIX.download}${message}`, code };
  if (code?.startsWith('FW_FWUP')) {
    const fwupMessage = (error as { fwupMessage?: unknown }).fwupMessage;
    const detail = typeof fwupMessage === 'string' && fwupMessage !== '' ? fwupMessage : message;
    return { kind: 'other', reason: `${REASON_PREFIX.fwup}${JSON.stringify(detail)}`, code };
  }
  if (code?.startsWith('FW_')) return { kind: 'other', reason: `${REASON_PREFIX.download}${message}`, code };
  return { kind: 'other', reason: `${REASON_PREFIX.update}${message}`, ...(code ? { code } : {}) };
}
