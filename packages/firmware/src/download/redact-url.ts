/** Longest URL shown in a message; a longer one is cut and its length noted, so it cannot flood a log. */
const MAX_SHOWN_CHARS = 256;

/**
 * Scheme, host and path of a URL: presigned query strings (and userinfo) are credentials and never logged.
 * A parsed URL holds no control characters (the parser percent-encodes them), so the result is printable.
 */
export function redactUrl(url: string | URL): string {
  let shown: string;
  try {
    const parsed = new URL(String(url));
    shown = `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return '<invalid url>';
  }
  if (shown.length <= MAX_SHOWN_CHARS) return shown;
  return `${shown.slice(0, MAX_SHOWN_CHARS)}… (${shown.length} characters)`;
}
