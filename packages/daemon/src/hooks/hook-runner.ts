import { spawn } from 'node:child_process';

/** The hooks an operator can configure in `[hooks]`. */
export type HookName =
  | 'update_available'
  | 'before_download'
  | 'before_apply'
  | 'after_apply'
  | 'on_error'
  | 'before_reboot';

export interface HookRequest {
  readonly name: HookName;
  /** Program and arguments, run without a shell (the config may name one, e.g. ["sh", "-c", "…"]). */
  readonly command: readonly string[];
  /** Added to the daemon's own environment. */
  readonly env: Readonly<Record<string, string>>;
  /** Written to the hook's stdin as one JSON document, then stdin is closed. */
  readonly input: unknown;
  readonly timeoutMs: number;
  /** Aborting kills the hook (the daemon is stopping). */
  readonly signal?: AbortSignal;
}

interface Output {
  readonly stdout: string;
  readonly stderr: string;
  readonly durationMs: number;
}

export type HookOutcome =
  | ({ readonly kind: 'exited'; readonly code: number } & Output)
  | ({ readonly kind: 'signalled'; readonly signal: string } & Output)
  | ({ readonly kind: 'timed-out' } & Output)
  | ({ readonly kind: 'aborted' } & Output)
  | { readonly kind: 'not-started'; readonly message: string };

/** What is kept of each output stream: a decision is on the last line, an error usually near the end. */
export const HOOK_OUTPUT_LIMIT = 64 * 1024;
/** After SIGTERM, how long a hook's process group has before SIGKILL. */
const KILL_GRACE_MS = 2_000;
/** After the hook exits, how long its output may take to drain (a leftover child may hold the pipes open). */
const DRAIN_MS = 200;

/**
 * Runs one hook in a process group of its own, so a timeout or a stop ends everything it started (a shell's
 * children included). Never throws: every way a hook can end is an outcome.
 */
export function runHook(request: HookRequest): Promise<HookOutcome> {
  const [program, ...args] = request.command;
  if (!program) return Promise.resolve({ kind: 'not-started', message: 'empty command' });
  if (request.signal?.aborted) {
    return Promise.resolve({ kind: 'aborted', stdout: '', stderr: '', durationMs: 0 });
  }
  const startedAt = performance.now();
  return new Promise((resolve) => {
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(program, args, {
        detached: true,
        stdio: ['pipe', 'pipe', 'pipe'],
        env: { ...process.env, ...withoutNul(request.env) },
      });
    } catch (error) {
      resolve({ kind: 'not-started', message: (error as Error).message });
      return;
    }
    let stdout = '';
    let stderr = '';
    let ending: 'timed-out' | 'aborted' | undefined;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let settled = false;
    let killTimer: NodeJS.Timeout | undefined;
    let drainTimer: NodeJS.Timeout | undefined;

    const keep = (text: string, chunk: Buffer) => {
      const joined = text + chunk.toString('utf8');
      return joined.length > HOOK_OUTPUT_LIMIT ? joined.slice(-HOOK_OUTPUT_LIMIT) : joined;
    };
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout = keep(stdout, chunk);
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = keep(stderr, chunk);
    });
    // A hook that does not read its stdin closes the pipe early: that is its right, not an error.
    child.stdin?.on('error', () => {});
    child.stdin?.end(`${JSON.stringify(request.input)}\n`);

    const killGroup = (signal: NodeJS.Signals) => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, signal);
      } catch {
        // Already gone.
      }
    };
    const stop = (why: 'timed-out' | 'aborted') => {
      if (exit || ending) return;
      ending = why;
      killGroup('SIGTERM');
      killTimer = setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS);
    };
    const timeout = setTimeout(() => stop('timed-out'), request.timeoutMs);
    const onAbort = () => stop('aborted');
    request.signal?.addEventListener('abort', onAbort, { once: true });

    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timeout);
      clearTimeout(killTimer);
      clearTimeout(drainTimer);
      request.signal?.removeEventListener('abort', onAbort);
      // A process the hook left running may hold the pipes open; it is not waited for.
      child.stdout?.destroy();
      child.stderr?.destroy();
      const output = { stdout, stderr, durationMs: Math.round(performance.now() - startedAt) };
      if (ending) resolve({ kind: ending, ...output });
      else if (exit?.code !== null && exit?.code !== undefined)
        resolve({ kind: 'exited', code: exit.code, ...output });
      else resolve({ kind: 'signalled', signal: exit?.signal ?? 'unknown', ...output });
    };
    child.on('error', (error) => {
      if (child.pid === undefined) {
        settled = true;
        clearTimeout(timeout);
        request.signal?.removeEventListener('abort', onAbort);
        const code = (error as NodeJS.ErrnoException).code;
        resolve({
          kind: 'not-started',
          message: code === 'ENOENT' ? `program not found: ${program}` : error.message,
        });
      }
    });
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      drainTimer = setTimeout(finish, DRAIN_MS);
    });
    child.on('close', finish);
  });
}

function withoutNul(env: Readonly<Record<string, string>>): Record<string, string> {
  // A NUL byte cannot be in an environment variable; spawn would throw.
  return Object.fromEntries(Object.entries(env).map(([key, value]) => [key, value.replaceAll('\0', '')]));
}

/** One line for logs and reasons: how the hook ended. */
export function describeOutcome(outcome: HookOutcome, timeoutMs: number): string {
  switch (outcome.kind) {
    case 'exited':
      return `exited with status ${outcome.code}`;
    case 'signalled':
      return `was killed by ${outcome.signal}`;
    case 'timed-out':
      return `timed out after ${timeoutMs} ms and was killed`;
    case 'aborted':
      return 'was stopped: the daemon is stopping';
    case 'not-started':
      return `could not start: ${outcome.message}`;
  }
}
