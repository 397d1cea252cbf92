import type { FirmwareErrorCode } from '@nerves-hub-link/firmware';
import { REASON_MAX_CHARS, redactUrl, shown } from '@nerves-hub-link/message-text';
import { redact } from '../log/redact.js';
import { REASON_PREFIX } from './constants.js';

/** A firmware URL refused by its host; what a 401 or 403 of any firmware request is reported as. */
const URL_EXPIRED: FirmwareErrorCode = 'FW_URL_EXPIRED';

export interface Failure {
  /**
   * The `reason` of the `failed` status: short, with the prefixes operators know, never a secret; escaped and
   * bounded, since messages carry text from the server (URLs) and from programs (fwup).
   */
  readonly reason: string;
  readonly code?: string;
}

/**
 * Turns any error from the update steps into a status reason. Decisions read the error `code`
 * (FW_* from the firmware package) and `statusCode`; the text only describes. The firmware package starts each
 * message with the class of the failure in words ("checksum mismatch", "invalid URL", "network error",
 * "HTTP 404", …), so the reason says it too. `firmwareUrl` is the offered URL, named in the reason as scheme,
 * host and path only.
 */
export function classifyFailure(error: unknown, firmwareUrl: string): Failure {
  const fields = (typeof error === 'object' && error !== null ? error : {}) as {
    code?: unknown;
    statusCode?: unknown;
    fwupMessage?: unknown;
  };
  const code = typeof fields.code === 'string' ? fields.code : undefined;
  const message = redact(error instanceof Error ? error.message : String(error));
  const status = typeof fields.statusCode === 'number' ? fields.statusCode : undefined;
  const failure = (reason: string): Failure => ({
    reason: shown(reason, REASON_MAX_CHARS),
    ...(code ? { code } : {}),
  });
  if (code === URL_EXPIRED || (code?.startsWith('FW_') && (status === 401 || status === 403))) {
    // NervesHub signs a fresh URL for every offer, valid 24 h (nerves_hub_web lib/nerves_hub/firmwares/upload/s3.ex),
    // so a refusal is not something a retry fixes: it is a storage or clock setting to report.
    const shownStatus = status ? `HTTP ${status}` : 'HTTP 401/403';
    return {
      reason: shown(
        `${REASON_PREFIX.download}the firmware host refused the URL with ${shownStatus} (${redactUrl(firmwareUrl)}); ` +
          `NervesHub signs each firmware URL for 24 h, so check the firmware storage's credentials and permissions and the server's clock`,
        REASON_MAX_CHARS,
      ),
      code: code ?? URL_EXPIRED,
    };
  }
  if (code?.startsWith('FW_FWUP')) {
    const fwupMessage = fields.fwupMessage;
    const detail = typeof fwupMessage === 'string' && fwupMessage !== '' ? redact(fwupMessage) : message;
    return failure(`${REASON_PREFIX.fwup}${JSON.stringify(detail)}`);
  }
  if (code?.startsWith('FW_')) return failure(`${REASON_PREFIX.download}${message}`);
  return failure(`${REASON_PREFIX.update}${message}`);
}
