/**
 * Whether a file descriptor is a stream into journald. systemd sets `$JOURNAL_STREAM` to `device:inode` of the
 * stream it connected stdout and stderr to (systemd.exec(5)); a descriptor that is that very stream (not one
 * redirected elsewhere by a wrapper) writes to the journal. Lines there may start with a `<N>` syslog priority,
 * which journald reads (SyslogLevelPrefix=, on by default) so that `journalctl -p warning` filters them.
 */
import { fstatSync } from 'node:fs';

export function isJournalStream(fd: number, env: NodeJS.ProcessEnv = process.env): boolean {
  const match = /^(\d+):(\d+)$/.exec(env.JOURNAL_STREAM ?? '');
  if (!match) return false;
  try {
    const stat = fstatSync(fd, { bigint: true });
    return stat.dev === BigInt(match[1]!) && stat.ino === BigInt(match[2]!);
  } catch {
    return false;
  }
}

/** syslog(3) priorities of the log levels: debug 7, info 6, warning 4, err 3. */
export const SYSLOG_PRIORITY = { debug: 7, info: 6, warn: 4, error: 3 } as const;
