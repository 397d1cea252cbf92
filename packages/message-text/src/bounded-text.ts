/**
 * Text of any length cut to a bound, with its real length noted, so that one message cannot flood a log, a
 * status reason or an audit trail. `shown` and `shownTail` also escape control characters: what may be printed
 * or sent of any text that came from outside.
 */
import { escapeCharacter, escapeControl, isControlCharacter } from './control-characters.js';

/** One value inside a message: a uuid, a URL, a command's last line of stderr. */
export const VALUE_MAX_CHARS = 300;
/** A status reason sent to the server. */
export const REASON_MAX_CHARS = 600;

function lengthNote(length: number): string {
  return `(${length} characters)`;
}

/**
 * At most `max` characters: a longer text keeps its start and ends with "… (N characters)", N being its whole
 * length. The result is at most `max` long, so bounding it again changes nothing.
 */
export function boundLength(text: string, max: number): string {
  if (text.length <= max) return text;
  const note = `… ${lengthNote(text.length)}`;
  let keep = Math.max(0, max - note.length);
  // Never half of a surrogate pair.
  if (keep > 0 && isHighSurrogate(text.charCodeAt(keep - 1))) keep -= 1;
  return `${text.slice(0, keep)}${note}`;
}

/**
 * Escaped and bounded, keeping the start: "text… (N characters)". The note gives the length of the text as it
 * was; an escape is never cut in half. Showing a shown text again changes nothing.
 */
export function shown(text: string, max: number = VALUE_MAX_CHARS): string {
  if (text.length <= max) {
    const escaped = escapeControl(text);
    if (escaped.length <= max) return escaped;
  }
  const note = `… ${lengthNote(text.length)}`;
  const budget = Math.max(0, max - note.length);
  let kept = '';
  // Code point by code point, so a pair is never split; stops at the budget, whatever the text's length.
  for (const char of text) {
    const piece = isControlCharacter(char) ? escapeCharacter(char) : char;
    if (kept.length + piece.length > budget) break;
    kept += piece;
  }
  return `${kept}${note}`;
}

/**
 * Escaped and bounded, keeping the end, where a program's error usually is: "(N characters) …text". The note
 * gives the length of the text as it was; an escape is never cut in half.
 */
export function shownTail(text: string, max: number = VALUE_MAX_CHARS): string {
  if (text.length <= max) {
    const escaped = escapeControl(text);
    if (escaped.length <= max) return escaped;
  }
  const note = `${lengthNote(text.length)} …`;
  const budget = Math.max(0, max - note.length);
  // Every character shows as one or more, so the last `budget` code units are all that can be kept.
  const end = Array.from(text.slice(-(budget + 1)));
  if (end.length > 0 && isLowSurrogate(end[0]!.charCodeAt(0))) end.shift();
  const pieces: string[] = [];
  let length = 0;
  for (let i = end.length - 1; i >= 0; i--) {
    const char = end[i]!;
    const piece = isControlCharacter(char) ? escapeCharacter(char) : char;
    if (length + piece.length > budget) break;
    pieces.push(piece);
    length += piece.length;
  }
  return `${note}${pieces.reverse().join('')}`;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}
