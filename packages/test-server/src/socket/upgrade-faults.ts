/**
 * Test switches on WebSocket upgrades, checked before anything else: refuse every upgrade with a status, and
 * redirect chosen paths (a moved socket, a proxy's redirect).
 */
import type { IncomingMessage } from 'node:http';
import type { HttpAnswer } from './http-answer.js';

/** Answer upgrades on `from` (a path) with a redirect to `to` (a path on the same listener, or a URL). */
export interface UpgradeRedirect {
  readonly from: string;
  readonly to: string;
  /** @default 302 */
  readonly status?: 301 | 302 | 307 | 308;
}

/** What nerves_hub_web answers when authentication could not reach the platform (device_socket.ex lines 89-106). */
const PLATFORM_UNAVAILABLE = 'the platform could not be reached to authenticate this device';

export class UpgradeFaults {
  #refuseStatus: number | null = null;
  #redirects: readonly UpgradeRedirect[] = [];

  refuse(status: number | null): void {
    this.#refuseStatus = status;
  }

  redirect(rules: UpgradeRedirect | readonly UpgradeRedirect[] | null): void {
    this.#redirects = rules === null ? [] : Array.isArray(rules) ? [...rules] : [rules as UpgradeRedirect];
  }

  /** The answer a switch gives this upgrade, if one applies; `origin` is the listener's `https://host:port`. */
  answer(req: IncomingMessage, origin: string): HttpAnswer | undefined {
    if (this.#refuseStatus !== null) {
      const status = this.#refuseStatus;
      return status === 503
        ? {
            status,
            headers: { 'nh-connection-error-reason': PLATFORM_UNAVAILABLE },
            body: PLATFORM_UNAVAILABLE,
          }
        : { status };
    }
    const url = new URL(req.url ?? '/', 'https://host');
    const rule = this.#redirects.find((candidate) => candidate.from === url.pathname);
    if (!rule) return undefined;
    const absolute = /^[a-z][a-z0-9+.-]*:\/\//i.test(rule.to);
    const query = rule.to.includes('?') ? '' : url.search;
    const location = absolute ? rule.to : `${origin}${rule.to}${query}`;
    return { status: rule.status ?? 302, headers: { location } };
  }
}
