/** A failed command in words, for messages: what the runner decided, then the program's last line of stderr. */
import { shown } from '@nerves-hub-link/message-text';
import type { ProcessGroupError } from '@nerves-hub-link/process-group';

/** "timed out after 10 s", "exited with status 4: <last line of stderr, escaped and bounded>". */
export function describeCommandFailure(error: unknown): string {
  const { message, result, code } = error as Partial<ProcessGroupError>;
  if (!message) return String(error);
  if ((code !== 'PROC_EXIT_STATUS' && code !== 'PROC_SIGNALLED') || !result) return message;
  const lastLine = lastLineOf(result.stderr.text);
  return lastLine ? `${message}: ${shown(lastLine)}` : message;
}

/** The last line of a program's output, where its error usually is. */
export function lastLineOf(text: string): string {
  const trimmed = text.trim();
  return trimmed.slice(trimmed.lastIndexOf('\n') + 1);
}
