/**
 * A URL as it may appear in a message or a log: scheme, host and path. The userinfo, the query (a pre-signed
 * firmware URL's query is a credential) and the fragment never do. phoenix-channel keeps a copy of this contract
 * (it takes no dependencies); both are tested on the same cases.
 */
import { boundLength, VALUE_MAX_CHARS } from './bounded-text.js';

/** What a string that does not parse as a URL is shown as: never the string itself, which may hold a secret. */
export const INVALID_URL = '<invalid url>';

/**
 * `scheme://host/path` of `url`, cut to `VALUE_MAX_CHARS` with its length noted. A parsed URL holds no control
 * characters (the parser percent-encodes or drops them), so the result is printable as it is.
 * @example redactUrl('https://user:pw@fw.example.com/a.fw?X-Amz-Signature=abc#x') // 'https://fw.example.com/a.fw'
 */
export function redactUrl(url: string | URL): string {
  let parsed: URL;
  try {
    parsed = new URL(String(url));
  } catch {
    return INVALID_URL;
  }
  return boundLength(`${parsed.protocol}//${parsed.host}${parsed.pathname}`, VALUE_MAX_CHARS);
}
