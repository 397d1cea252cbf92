/**
 * NervesHub's health check, plugged into both endpoints (nerves_hub_web lib/nerves_hub_web/plugs/im_alive.ex
 * lines 14-29; device_endpoint.ex line 43, endpoint.ex line 37): any request to one of its paths gets 200
 * "Hello, Friend!" as text/plain while the database answers (the fake's always does).
 */
import type { HttpAnswer } from './http-answer.js';

const STATUS_PATHS = new Set(['/status/alive', '/status/_health', '/status/health', '/status/healthy']);

export function statusAnswer(pathname: string): HttpAnswer | undefined {
  if (!STATUS_PATHS.has(pathname)) return undefined;
  return { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'Hello, Friend!' };
}
