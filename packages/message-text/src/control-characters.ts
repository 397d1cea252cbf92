/**
 * Control characters in text from outside (a server string, a program's output, a config value) would forge log
 * lines (a newline), drive the terminal (ESC) or break the server's storage (NUL): they are shown as escapes.
 */

// C0 and C1 controls, DEL, the Unicode line and paragraph separators, and the bidirectional formatting marks
// that can make a terminal show text in another order than it was written.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
const UNSAFE_ALL = new RegExp(UNSAFE.source, 'g');

const SHORT_ESCAPES: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** Whether one character (a code point) is shown as an escape. */
export function isControlCharacter(char: string): boolean {
  return UNSAFE.test(char);
}

/** The escape of one control character: `\n`, `\x1b`, `\x00`, `\u2028`. */
export function escapeCharacter(char: string): string {
  const short = SHORT_ESCAPES[char];
  if (short) return short;
  const code = char.charCodeAt(0);
  return code <= 0xff
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** Every control character as a visible escape: `\n`, `\x1b`, `\x00`, `\u2028`. Other text is unchanged. */
export function escapeControl(text: string): string {
  return UNSAFE.test(text) ? text.replace(UNSAFE_ALL, escapeCharacter) : text;
}
