import { existsSync, readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';

/**
 * Who holds a lock: whether the process a lock file names is a running nerves-hub-link, or the lock is stale
 * and may be taken over (see `staleReason`). Read by the daemon before it takes a lock over, and by `status`.
 */

/** The program name the daemon is shipped under: the SEA binary, the bundle `.mjs` and the package's bin `.js`. */
const PROGRAM_NAME = 'nerves-hub-link';
const SCRIPT_EXTENSIONS = new Set(['', '.mjs', '.cjs', '.js']);
/** Interpreters that run the bundle: `node` and Debian's old `nodejs` name. */
const NODE_NAMES = new Set(['node', 'nodejs']);

/** Why a lock file was found stale and taken over. */
export interface StaleLock {
  /** The pid the lock file held, or undefined when it held no pid. */
  readonly pid: number | undefined;
  readonly reason: string;
}

/**
 * Why the lock held by `pid` may be taken over, or undefined when a running nerves-hub-link holds it.
 * Stale: no pid, our own pid (after a power cut an embedded device often hands the new daemon the pid the old
 * one had), no such process, or a process that is not nerves-hub-link (`isNervesHubLinkCommand` on its
 * /proc/PID/cmdline). A live process whose command line is hidden (procfs `hidepid`, systemd `ProtectProc=`)
 * runs as another user; it is stale when this user wrote the lock (`lockOwnerUid`), since the daemon never
 * changes user. Anything else that cannot be read keeps the lock: refusing to start is recoverable, two
 * daemons running fwup at once is not.
 */
export function staleReason(pid: number | undefined, lockOwnerUid?: number): StaleLock | undefined {
  if (pid === undefined) return { pid, reason: 'it holds no pid' };
  if (pid === process.pid) {
    return { pid, reason: `it holds pid ${pid}, which is this process (the pid was reused after a restart)` };
  }
  if (!isAlive(pid)) return { pid, reason: `no process with pid ${pid} is running` };
  const argv = readCommandLine(pid);
  if (argv === undefined) {
    if (!isAlive(pid)) return { pid, reason: `no process with pid ${pid} is running` };
    if (hasProcfs() && lockOwnerUid !== undefined && lockOwnerUid === process.getuid?.()) {
      return {
        pid,
        reason: `pid ${pid} is a process of another user, not the one that wrote the lock (the pid was reused)`,
      };
    }
    return undefined;
  }
  if (isNervesHubLinkCommand(argv)) return undefined;
  const program = argv[0] ? basename(argv[0]) : 'a process without a command line';
  return { pid, reason: `pid ${pid} is ${program}, not nerves-hub-link (the pid was reused)` };
}

/**
 * True when a command line (argv, as in /proc/PID/cmdline) runs nerves-hub-link: the program itself is named
 * `nerves-hub-link` (the single executable), or node/nodejs runs a script named `nerves-hub-link`,
 * `nerves-hub-link.mjs`, `.cjs` or `.js` (the bundle, the package's bin), or the same script file name this
 * process runs (a renamed copy of the bundle). node is `node`, `nodejs` or this process's own interpreter's
 * name. The script is node's first argument that is not an option, so node options must be written
 * `--name=value` (as the shipped unit does). Merely being node is not enough.
 */
export function isNervesHubLinkCommand(
  argv: readonly string[],
  ownScript: string | undefined = process.argv[1],
): boolean {
  const [program, ...args] = argv;
  if (!program) return false;
  if (isProgramName(program)) return true;
  const interpreter = basename(program);
  if (!NODE_NAMES.has(interpreter) && interpreter !== basename(process.execPath)) return false;
  const script = args.find((arg) => !arg.startsWith('-'));
  if (script === undefined) return false;
  return isProgramName(script) || (ownScript !== undefined && basename(script) === basename(ownScript));
}

function isProgramName(path: string): boolean {
  const name = basename(path);
  const extension = extname(name);
  return SCRIPT_EXTENSIONS.has(extension) && name.slice(0, name.length - extension.length) === PROGRAM_NAME;
}

/** The argv of `pid` as in /proc/PID/cmdline, or undefined when it cannot be read. */
function readCommandLine(pid: number): string[] | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    // Arguments end with NUL; a zombie or kernel thread has none.
    return raw === '' ? [] : raw.replace(/\0$/, '').split('\0');
  } catch {
    return undefined;
  }
}

/** Without procfs (not Linux) nothing can be learnt about another process beyond being alive. */
function hasProcfs(): boolean {
  return existsSync('/proc/self/cmdline');
}

/** Whether a process with `pid` exists (EPERM: it does, as another user). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid a lock file's text names, or undefined when it names none. */
export function pidOf(text: string): number | undefined {
  const pid = Number.parseInt(text.trim(), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}
