import { redact } from '../../log/redact.js';

/** `ok` works; `warn` works but deserves a look; `fail` will not work; `skip` could not be checked; `note` tells. */
export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip' | 'note';

export interface CheckResult {
  /** What was checked: `config`, `credentials`, `commands`, `data_dir`, `fwup`, `metadata`, … */
  readonly check: string;
  readonly status: CheckStatus;
  readonly message: string;
  /** A failure only a change of the config (or of what it names) can fix. */
  readonly config?: boolean;
  /** More lines that belong to this one (the pins of a chain). */
  readonly details?: readonly string[];
}

/**
 * What `check` found, one result per check. As text, each result is a line the moment it is known (`ok   …`,
 * `fail …`); as JSON, one document at the end. Everything printed is redacted like log lines.
 */
export class CheckReport {
  readonly results: CheckResult[] = [];
  readonly #json: boolean;
  readonly #write: (text: string) => void;

  constructor(json: boolean, write: (text: string) => void) {
    this.#json = json;
    this.#write = (text) => write(redact(text));
  }

  add(result: CheckResult): void {
    this.results.push(result);
    if (this.#json) return;
    this.#write(`${result.status.padEnd(4)} ${result.message}\n`);
    for (const detail of result.details ?? []) this.#write(`       ${detail}\n`);
  }

  ok(check: string, message: string, details?: readonly string[]): void {
    this.add({ check, status: 'ok', message, ...(details ? { details } : {}) });
  }

  warn(check: string, message: string): void {
    this.add({ check, status: 'warn', message });
  }

  note(check: string, message: string): void {
    this.add({ check, status: 'note', message });
  }

  fail(check: string, message: string, config: boolean): void {
    this.add({ check, status: 'fail', message, config });
  }

  skip(check: string, message: string): void {
    this.add({ check, status: 'skip', message });
  }

  failed(check: string): boolean {
    return this.results.some((result) => result.check === check && result.status === 'fail');
  }

  /** 78 when the config has a problem, else `otherwise` for a failed join, else 1 for any failure, else 0. */
  exitCode(joinExit: number | undefined): number {
    const failures = this.results.filter((result) => result.status === 'fail');
    if (failures.some((result) => result.config)) return 78;
    if (joinExit !== undefined) return joinExit;
    return failures.length > 0 ? 1 : 0;
  }

  /** The closing line (text) or the whole document (JSON). */
  finish(exitCode: number, joinPayload: Record<string, unknown> | undefined, file: string): void {
    if (this.#json) {
      this.#write(
        `${JSON.stringify({ config: file, exit_code: exitCode, checks: this.results, join_payload: joinPayload ?? null }, null, 2)}\n`,
      );
      return;
    }
    if (joinPayload) {
      this.#write('join payload:\n');
      this.#write(`${JSON.stringify(joinPayload, null, 2)}\n`);
    }
    const failures = this.results.filter((result) => result.status === 'fail');
    const inConfig = failures.filter((result) => result.config).length;
    const warnings = this.results.filter((result) => result.status === 'warn').length;
    const counted = [
      failures.length > 0
        ? `${failures.length} problem${failures.length === 1 ? '' : 's'}${inConfig > 0 ? ` (${inConfig} in the configuration)` : ''}`
        : 'no problem',
      `${warnings} warning${warnings === 1 ? '' : 's'}`,
    ];
    this.#write(`check: ${counted.join(', ')}; exit ${exitCode}\n`);
  }
}
