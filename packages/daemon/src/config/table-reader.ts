import { describeValue } from '@nerves-hub-link/message-text';

/**
 * Small readers for one TOML table: each takes a key, checks its type, and records a problem that names
 * the key, the value it found and what it expects. Problems are collected, never thrown, so one run of
 * the validator reports everything that is wrong with a file.
 */

export type Table = Record<string, unknown>;

/** How a key's value may be shown in a problem. */
export interface ValueOptions {
  /** The value may be a secret (a shared secret, a PIN): a wrong one is named by its kind, never echoed. */
  readonly secret?: boolean;
}

export class TableReader {
  readonly #table: Table;
  readonly #prefix: string;
  readonly #problems: string[];
  readonly #known = new Set<string>();
  readonly #within: TableReader[] = [];

  constructor(table: Table, prefix: string, problems: string[]) {
    this.#table = table;
    this.#prefix = prefix;
    this.#problems = problems;
  }

  /** The dotted name of `key` as written in messages, e.g. `auth.cert_file`. */
  name(key: string): string {
    return this.#prefix ? `${this.#prefix}.${key}` : key;
  }

  has(key: string): boolean {
    return this.#table[key] !== undefined;
  }

  problem(key: string, message: string): void {
    this.#problems.push(`${this.name(key)}: ${message}`);
  }

  /** The value as written, marking the key as known. */
  raw(key: string): unknown {
    return this.#take(key);
  }

  #take(key: string): unknown {
    this.#known.add(key);
    return this.#table[key];
  }

  /** A non-empty string; with `secret`, a wrong value is named by its kind only, never echoed. */
  string(key: string, expected: string, options: ValueOptions = {}): string | undefined {
    const value = this.#take(key);
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || value.trim() === '') {
      this.problem(key, `expected ${expected}, got ${describeValue(value, options)}`);
      return undefined;
    }
    return value;
  }

  requiredString(key: string, expected: string, options: ValueOptions = {}): string | undefined {
    if (!this.has(key)) {
      this.#take(key);
      this.problem(key, `missing; expected ${expected}`);
      return undefined;
    }
    return this.string(key, expected, options);
  }

  boolean(key: string, fallback: boolean): boolean {
    const value = this.#take(key);
    if (value === undefined) return fallback;
    if (typeof value !== 'boolean') {
      this.problem(key, `expected true or false, got ${describeValue(value)}`);
      return fallback;
    }
    return value;
  }

  /** A whole number within [min, max]. */
  integer(key: string, fallback: number, min: number, max: number, unit: string): number {
    const value = this.#take(key);
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      this.problem(
        key,
        `expected a whole number of ${unit} from ${min} to ${max}, got ${describeValue(value)}`,
      );
      return fallback;
    }
    return value;
  }

  oneOf<T extends string>(key: string, choices: readonly T[], fallback: T | undefined): T | undefined {
    const value = this.#take(key);
    if (value === undefined) {
      if (fallback === undefined) this.problem(key, `missing; expected one of ${quoteAll(choices)}`);
      return fallback;
    }
    if (typeof value !== 'string' || !choices.includes(value as T)) {
      this.problem(key, `expected one of ${quoteAll(choices)}, got ${describeValue(value)}`);
      return fallback;
    }
    return value as T;
  }

  stringArray(key: string, expected: string): string[] | undefined {
    const value = this.#take(key);
    if (value === undefined) return undefined;
    if (!Array.isArray(value) || value.some((item) => typeof item !== 'string' || item === '')) {
      this.problem(key, `expected ${expected}, got ${describeValue(value)}`);
      return undefined;
    }
    return value as string[];
  }

  /**
   * A program to run, never through a shell unless the config says so itself: either an array of
   * arguments (`["sh", "-c", "…"]` asks for a shell), or a plain string that is split on spaces and may
   * not contain quotes or shell syntax.
   */
  command(key: string): string[] | undefined {
    const value = this.#take(key);
    if (value === undefined) return undefined;
    if (Array.isArray(value)) {
      if (value.length === 0 || value.some((item) => typeof item !== 'string') || value[0] === '') {
        this.problem(
          key,
          `expected a non-empty array of strings (program and arguments), got ${describeValue(value)}`,
        );
        return undefined;
      }
      return value as string[];
    }
    if (typeof value !== 'string' || value.trim() === '') {
      this.problem(key, `expected a command as a string or an array of strings, got ${describeValue(value)}`);
      return undefined;
    }
    if (/["'`$|&;<>(){}\\*?~]/.test(value)) {
      this.problem(
        key,
        `${describeValue(value)} uses quotes or shell syntax, but commands run without a shell; ` +
          `write it as an array, e.g. ["sh", "-c", ${JSON.stringify(value)}]`,
      );
      return undefined;
    }
    return value.trim().split(/\s+/);
  }

  table(key: string): Table | undefined {
    const value = this.#take(key);
    if (value === undefined) return undefined;
    if (!isTable(value)) {
      this.problem(key, `expected a table ([${this.name(key)}]), got ${describeValue(value)}`);
      return undefined;
    }
    return value;
  }

  /** The reader of the table at `key`: an empty one when it is absent, which `required` reports. */
  section(key: string, options: { readonly required?: boolean } = {}): TableReader {
    const table = this.table(key);
    if (!table && options.required && !this.has(key)) this.problem(key, `missing; add a [${key}] table`);
    return this.within(key, table ?? {});
  }

  /** A reader of `table`, the value at `key`, whose problems are named `key.…`. */
  within(key: string, table: Table): TableReader {
    const reader = new TableReader(table, this.name(key), this.#problems);
    this.#within.push(reader);
    return reader;
  }

  /** Every key asked for, here and in the tables within, as messages name them (`auth.cert_file`). */
  keysRead(): string[] {
    return [
      ...[...this.#known].map((key) => this.name(key)),
      ...this.#within.flatMap((reader) => reader.keysRead()),
    ];
  }

  /** Records every key of the table that no reader asked for. Call after all reads. */
  rejectUnknown(): void {
    for (const key of Object.keys(this.#table)) {
      if (this.#known.has(key)) continue;
      const hint = closest(key, [...this.#known]);
      this.problem(key, `unknown key${hint ? ` (did you mean "${this.name(hint)}"?)` : ''}`);
    }
  }
}

export function isTable(value: unknown): value is Table {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

function quoteAll(choices: readonly string[]): string {
  return choices.map((choice) => `"${choice}"`).join(', ');
}

/** The known key nearest to `key` by edit distance, if it is near enough to be a typo. */
function closest(key: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(key.length / 3)) + 1;
  for (const candidate of candidates) {
    const distance = editDistance(key, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length]!;
}
