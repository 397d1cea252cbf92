/**
 * The last line of defence before text leaves the process (log sink, status reasons sent to the server):
 * the packages already build their messages from redacted values, this catches what slipped through. A URL
 * named on purpose is shown with message-text's `redactUrl` (scheme, host and path).
 */

// Runs of text between spaces and quotes, each checked for URLs with a query string: the query of a pre-signed
// firmware URL is a credential. Matched per run rather than with one pattern over the whole text, whose
// backtracking grows with the square of the length for text made of many URL starts.
const WORD = /[^\s"'<>]+/g;
const URL_START = /\b(?:https?|wss?):\/\//gi;
// An NH1 token (the x-nh-signature header value) always starts with the constant protected header.
const NH1_TOKEN = /SFMyNTY\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/g;
// A PKCS#11 URI may carry the PIN inline.
const PIN_VALUE = /(pin-value=)[^;&\s"']*/gi;

export function redact(text: string, secrets: Iterable<string> = []): string {
  let result = text
    .replace(WORD, redactUrlQueries)
    .replace(NH1_TOKEN, '<redacted-signature>')
    .replace(PIN_VALUE, '$1<redacted>');
  for (const secret of secrets) {
    if (secret) result = result.split(secret).join('<redacted>');
  }
  return result;
}

/**
 * In one run of text: each query of a URL (from its `?` to a `#` or the end) becomes `?<redacted>`. Every
 * search moves forward only, so the work grows with the length of the run, whatever it holds.
 */
function redactUrlQueries(word: string): string {
  if (!word.includes('?')) return word;
  let result = '';
  let copied = 0;
  const next = { '?': -1, '#': -1 };
  const nextAfter = (char: '?' | '#', from: number): number => {
    if (next[char] !== Number.POSITIVE_INFINITY && next[char] < from) {
      const at = word.indexOf(char, from);
      next[char] = at === -1 ? Number.POSITIVE_INFINITY : at;
    }
    return next[char];
  };
  URL_START.lastIndex = 0;
  for (let match = URL_START.exec(word); match; match = URL_START.exec(word)) {
    const question = nextAfter('?', match.index);
    if (question === Number.POSITIVE_INFINITY) break;
    const hash = nextAfter('#', match.index);
    if (hash < question) {
      // A fragment before any query: nothing to hide in this URL.
      URL_START.lastIndex = hash + 1;
      continue;
    }
    const end = nextAfter('#', question);
    result += `${word.slice(copied, question)}?<redacted>`;
    if (end === Number.POSITIVE_INFINITY) return result;
    copied = end;
    URL_START.lastIndex = end;
  }
  return result + word.slice(copied);
}
