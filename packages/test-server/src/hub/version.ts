/**
 * Elixir's `Version` as NervesHub uses it for a deployment group's version condition: `Version.parse` (SemVer
 * 2.0.0: MAJOR.MINOR.PATCH, no leading zeros, optional `-pre` and `+build`) and `Version.match?` with its
 * requirement grammar (`==`, `!=`, `>`, `>=`, `<`, `<=`, `~>`, joined by ` and ` / ` or `, folded left to right,
 * pre-releases allowed). Written from the behaviour of elixir lib/elixir/lib/version.ex (Version.Parser: lexer,
 * valid_requirement?, to_condition, pre_condition), not from its code.
 */

/** A version's parts; `patch` is null only in the `MAJOR.MINOR` form `~>` accepts. */
export interface VersionParts {
  readonly major: number;
  readonly minor: number;
  readonly patch: number | null;
  readonly pre: readonly (number | string)[];
}

type Operator = '==' | '!=' | '>' | '>=' | '<' | '<=' | '~>';
type Token = { readonly op: Operator | 'and' | 'or' } | { readonly version: string };
type Condition = (version: VersionParts) => boolean;

/** A parsed requirement: `match` says whether a version meets it. */
export interface Requirement {
  readonly source: string;
  match(version: VersionParts): boolean;
}

const DIGITS = /^\d+$/;
const IDENTIFIER = /^[0-9A-Za-z-]+$/;

/** Version.parse: the parts, or undefined for a string Elixir refuses (Version.match? then raises). */
export function parseVersion(text: string, approximate = false): VersionParts | undefined {
  const plus = text.indexOf('+');
  const withPre = plus === -1 ? text : text.slice(0, plus);
  const build = plus === -1 ? undefined : text.slice(plus + 1);
  const dash = withPre.indexOf('-');
  const core = dash === -1 ? withPre : withPre.slice(0, dash);
  const pre = dash === -1 ? undefined : withPre.slice(dash + 1);
  const [major, minor, patch, extra] = core.split('.');
  if (extra !== undefined) return undefined;
  const majorNumber = number(major);
  const minorNumber = number(minor);
  const patchNumber = patch === undefined && approximate ? null : number(patch);
  if (majorNumber === undefined || minorNumber === undefined || patchNumber === undefined) return undefined;
  const preParts = dotSeparated(pre);
  if (preParts === undefined || dotSeparated(build) === undefined) return undefined;
  const preValues: (number | string)[] = [];
  for (const part of preParts) {
    if (!DIGITS.test(part)) preValues.push(part);
    else if (hasLeadingZero(part)) return undefined;
    else preValues.push(Number(part));
  }
  return { major: majorNumber, minor: minorNumber, patch: patchNumber, pre: preValues };
}

/** Version.parse_requirement: undefined where Elixir returns :error (or raises on a malformed one). */
export function parseRequirement(source: string): Requirement | undefined {
  const tokens = lex(source);
  if (!isWellFormed(tokens)) return undefined;
  let condition: Condition | undefined = conditionOf(tokens[0], tokens[1]);
  for (let at = 2; condition !== undefined && at < tokens.length; at += 3) {
    const joiner = tokens[at];
    const next = conditionOf(tokens[at + 1], tokens[at + 2]);
    if (!joiner || !('op' in joiner) || next === undefined) return undefined;
    const left: Condition = condition;
    if (joiner.op === 'and') condition = (v) => left(v) && next(v);
    else if (joiner.op === 'or') condition = (v) => left(v) || next(v);
    else return undefined;
  }
  if (condition === undefined) return undefined;
  const match = condition;
  return { source, match: (version) => match(version) };
}

const OPERATORS: readonly [string, Token][] = [
  ['>=', { op: '>=' }],
  ['<=', { op: '<=' }],
  ['~>', { op: '~>' }],
  ['>', { op: '>' }],
  ['<', { op: '<' }],
  ['==', { op: '==' }],
  ['!=', { op: '!=' }],
  ['!', { op: '!=' }],
  [' or ', { op: 'or' }],
  [' and ', { op: 'and' }],
];

/** The lexer: operators first at every position, spaces skipped, a version without operator means `==`. */
function lex(source: string): Token[] {
  const tokens: Token[] = [];
  let rest = source;
  outer: while (rest.length > 0) {
    for (const [text, token] of OPERATORS) {
      if (rest.startsWith(text)) {
        tokens.push(token);
        rest = rest.slice(text.length);
        continue outer;
      }
    }
    if (rest.startsWith(' ')) {
      rest = rest.slice(1);
      continue;
    }
    const char = String.fromCodePoint(rest.codePointAt(0)!);
    rest = rest.slice(char.length);
    const last = tokens.at(-1);
    if (last && 'version' in last) tokens[tokens.length - 1] = { version: last.version + char };
    else {
      if (!last || last.op === 'and' || last.op === 'or') tokens.push({ op: '==' });
      tokens.push({ version: char });
    }
  }
  return tokens;
}

/** valid_requirement?: ends with a version, every operator is followed by a version or by `and`/`or` rules. */
function isWellFormed(tokens: readonly Token[]): boolean {
  if (tokens.length === 0) return false;
  for (let at = 0; at < tokens.length; at++) {
    const a = tokens[at]!;
    const b = tokens[at + 1];
    if (b === undefined) return 'version' in a;
    const aJoin = 'op' in a && (a.op === 'and' || a.op === 'or');
    const bJoin = 'op' in b && (b.op === 'and' || b.op === 'or');
    const ok =
      (aJoin && 'op' in b) ||
      ('version' in a && bJoin) ||
      (aJoin && 'version' in b) ||
      ('op' in a && 'version' in b);
    if (!ok) return false;
  }
  return true;
}

function conditionOf(operator: Token | undefined, operand: Token | undefined): Condition | undefined {
  if (!operator || !operand || !('op' in operator) || !('version' in operand)) return undefined;
  const op = operator.op;
  if (op === 'and' || op === 'or') return undefined;
  if (op === '~>') {
    const from = parseVersion(operand.version, true);
    if (!from) return undefined;
    const lower = { ...from, patch: from.patch ?? 0 };
    const upper: VersionParts =
      from.patch === null
        ? { major: from.major + 1, minor: 0, patch: 0, pre: [0] }
        : { major: from.major, minor: from.minor + 1, patch: 0, pre: [0] };
    return (v) => (equal(v, lower) || greater(v, lower)) && less(v, upper);
  }
  const target = parseVersion(operand.version);
  if (!target) return undefined;
  switch (op) {
    case '==':
      return (v) => equal(v, target);
    case '!=':
      return (v) => !equal(v, target);
    case '>':
      return (v) => greater(v, target);
    case '>=':
      return (v) => equal(v, target) || greater(v, target);
    case '<':
      return (v) => less(v, target);
    case '<=':
      return (v) => equal(v, target) || less(v, target);
  }
}

function equal(v: VersionParts, t: VersionParts): boolean {
  return compareCore(v, t) === 0 && v.pre.length === t.pre.length && compareTerms(v.pre, t.pre) === 0;
}

/** `>`: a greater MAJOR.MINOR.PATCH, or the same one with a pre-release part that is greater as Elixir orders it. */
function greater(v: VersionParts, t: VersionParts): boolean {
  const core = compareCore(v, t);
  if (core !== 0) return core > 0;
  if (t.pre.length === 0) return false;
  if (v.pre.length === 0) return true;
  return v.pre.length > t.pre.length || (v.pre.length === t.pre.length && compareTerms(v.pre, t.pre) > 0);
}

function less(v: VersionParts, t: VersionParts): boolean {
  const core = compareCore(v, t);
  if (core !== 0) return core < 0;
  if (v.pre.length === 0) return false;
  if (t.pre.length === 0) return true;
  return v.pre.length < t.pre.length || (v.pre.length === t.pre.length && compareTerms(v.pre, t.pre) < 0);
}

function compareCore(v: VersionParts, t: VersionParts): number {
  return v.major - t.major || v.minor - t.minor || (v.patch ?? 0) - (t.patch ?? 0);
}

/** Erlang term order on pre-release parts: numbers before strings, strings by their bytes. */
function compareTerms(a: readonly (number | string)[], b: readonly (number | string)[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (typeof x === 'number' && typeof y === 'number') {
      if (x !== y) return x - y;
    } else if (typeof x === 'number') return -1;
    else if (typeof y === 'number') return 1;
    else {
      const order = Buffer.compare(Buffer.from(x), Buffer.from(y));
      if (order !== 0) return order;
    }
  }
  return a.length - b.length;
}

function number(part: string | undefined): number | undefined {
  if (part === undefined || !DIGITS.test(part) || hasLeadingZero(part)) return undefined;
  return Number(part);
}

function hasLeadingZero(part: string): boolean {
  return part.length > 1 && part.startsWith('0');
}

function dotSeparated(text: string | undefined): string[] | undefined {
  if (text === undefined) return [];
  const parts = text.split('.');
  return parts.every((part) => IDENTIFIER.test(part)) ? parts : undefined;
}
