/**
 * Text the daemon did not write itself (strings from the server, a command's output, error messages built from
 * them) as it may be shown: in a log line, in a status reason. Control characters would forge log lines (a
 * newline), drive the terminal (ESC) or break the server's storage (NUL), so they are shown as escapes; and a
 * string of any length is cut to a bound with its real length noted, so one message cannot flood a log or an
 * audit trail.
 */

/** One value inside a message: a uuid, a URL, a command's last line of stderr. */
export const VALUE_MAX_CHARS = 300;
/** A status reason sent to the server. */
export const REASON_MAX_CHARS = 600;
/** One log message; a whole line is at most this plus its fields and a time stamp. */
export const LOG_MESSAGE_MAX_CHARS = 2_000;
/** The fields of one log line together. */
export const LOG_FIELDS_MAX_CHARS = 1_000;

// C0 and C1 controls, DEL, the Unicode line and paragraph separators, and the bidirectional formatting marks
// that can make a terminal show text in another order than it was written.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
const UNSAFE_ALL = new RegExp(UNSAFE.source, 'g');

const SHORT_ESCAPES: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeOne(char: string): string {
  const short = SHORT_ESCAPES[char];
  if (short) return short;
  const code = char.charCodeAt(0);
  return code <= 0xff
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** Every control character as a visible escape: `\n`, `\x1b`, `\x00`, `\u2028`. Other text is unchanged. */
export function escapeControl(text: string): string {
  return UNSAFE.test(text) ? text.replace(UNSAFE_ALL, escapeOne) : text;
}

function lengthNote(length: number): string {
  return `… (${length} characters)`;
}

/**
 * At most `max` characters: a longer text keeps its start and ends with "… (N characters)", N being its whole
 * length. The result is at most `max` long, so bounding it again changes nothing.
 */
export function boundLength(text: string, max: number): string {
  if (text.length <= max) return text;
  const note = lengthNote(text.length);
  let keep = Math.max(0, max - note.length);
  // Never half of a surrogate pair.
  if (keep > 0 && isHighSurrogate(text.charCodeAt(keep - 1))) keep -= 1;
  return `${text.slice(0, keep)}${note}`;
}

/**
 * Escaped and bounded: what may be printed or sent of any text. The note gives the length of the text as it was;
 * an escape is never cut in half. Showing a shown text again changes nothing.
 */
export function shown(text: string, max: number = VALUE_MAX_CHARS): string {
  if (text.length <= max) {
    const escaped = escapeControl(text);
    if (escaped.length <= max) return escaped;
  }
  const note = lengthNote(text.length);
  const budget = Math.max(0, max - note.length);
  let kept = '';
  // Code point by code point, so a pair is never split; stops at the budget, whatever the text's length.
  for (const char of text) {
    const piece = UNSAFE.test(char) ? escapeOne(char) : char;
    if (kept.length + piece.length > budget) break;
    kept += piece;
  }
  return `${kept}${note}`;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
