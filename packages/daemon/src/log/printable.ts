import { escapeControl } from '@nerves-hub-link/message-text';

/**
 * Text from outside the daemon (a hook's output, a server string) made safe to put into a status reason, a log
 * line or an environment variable: control characters become visible escapes (`escapeControl`), and the length
 * is bounded so a chatty program cannot flood NervesHub's audit log.
 */
export function printable(text: string, maxLength = 240): string {
  const escaped = escapeControl(text);
  if (escaped.length <= maxLength) return escaped;
  return `${escaped.slice(0, Math.max(0, maxLength - 1))}…`;
}

/** The end of a program's output, trimmed and made printable, at most `maxLength` characters: where its error usually is. */
export function outputTail(text: string, maxLength = 240): string {
  const escaped = escapeControl(text.trim());
  if (escaped.length <= maxLength) return escaped;
  return `…${escaped.slice(-(maxLength - 1))}`;
}
