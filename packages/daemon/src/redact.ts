/**
 * The last line of defence before text leaves the process (log sink, status reasons sent to the server):
 * the packages already build their messages from redacted values, this catches what slipped through.
 */

// A URL with a query string: the query of a pre-signed firmware URL is a credential.
const URL_QUERY = /\b((?:https?|wss?):\/\/[^\s"'<>?#]+)\?[^\s"'<>#]*/gi;
// An NH1 token (the x-nh-signature header value) always starts with the constant protected header.
const NH1_TOKEN = /SFMyNTY\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/g;
// A PKCS#11 URI may carry the PIN inline.
const PIN_VALUE = /(pin-value=)[^;&\s"']*/gi;

export function redact(text: string, secrets: Iterable<string> = []): string {
  let result = text
    .replace(URL_QUERY, '$1?<redacted>')
    .replace(NH1_TOKEN, '<redacted-signature>')
    .replace(PIN_VALUE, '$1<redacted>');
  for (const secret of secrets) {
    if (secret) result = result.split(secret).join('<redacted>');
  }
  return result;
}

/** Scheme, host and path of a URL, for logs and status reasons: a query string may be a credential. */
export function redactedEndpoint(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return '<invalid url>';
  }
}
