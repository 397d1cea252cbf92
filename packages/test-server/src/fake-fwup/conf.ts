/**
 * The configuration syntax of fwup's `meta.conf` (libconfuse 3): `key = value`, `key = {a, b, ...}`,
 * `section "title" { ... }`, `section { ... }`, comments (`#`, `//`, `/* *\/`), double-quoted strings with
 * backslash escapes, single-quoted strings, bare words. `${VAR}` and `${VAR:-default}` in bare and double-quoted
 * strings expand from the environment when the file is parsed, which is how `${FWUP_META_UUID}` in an archive's
 * meta.conf becomes the archive's uuid at apply time (fwup src/cfgfile.c `cfgfile_parse_fw_ae` @6f3bf79).
 * Function-call syntax (`raw_write(2048)`) only occurs in source `.conf` files: fwup writes it into meta.conf
 * as `funlist = {...}` and `reqlist = {...}`, which is what is read here.
 */

export type ConfItem = ConfOption | ConfSection;

export interface ConfOption {
  readonly kind: 'option';
  readonly name: string;
  readonly values: readonly string[];
}

export interface ConfSection {
  readonly kind: 'section';
  readonly name: string;
  readonly title: string | undefined;
  readonly body: readonly ConfItem[];
}

export class ConfSyntaxError extends Error {
  override name = 'ConfSyntaxError';
}

/** Looks up a variable; undefined expands to the empty string, as libconfuse does. */
export type Environment = (name: string) => string | undefined;

type Token = { type: 'word' | 'string'; value: string } | { type: 'punct'; value: string };

export function parseConf(text: string, environment: Environment): ConfItem[] {
  const tokens = tokenize(text, environment);
  let at = 0;
  const peek = () => tokens[at];
  const next = () => {
    const token = tokens[at++];
    if (!token) throw new ConfSyntaxError('unexpected end of file');
    return token;
  };
  const expectValue = (): string => {
    const token = next();
    if (token.type === 'punct') throw new ConfSyntaxError(`unexpected '${token.value}'`);
    return token.value;
  };
  const parseBody = (closing: boolean): ConfItem[] => {
    const items: ConfItem[] = [];
    for (;;) {
      const token = peek();
      if (!token) {
        if (closing) throw new ConfSyntaxError("missing '}'");
        return items;
      }
      if (token.type === 'punct' && token.value === '}') {
        if (!closing) throw new ConfSyntaxError("unexpected '}'");
        at++;
        return items;
      }
      const name = expectValue();
      const after = next();
      if (after.type === 'punct' && (after.value === '=' || after.value === '+=')) {
        items.push({ kind: 'option', name, values: parseValues() });
      } else if (after.type === 'punct' && after.value === '{') {
        items.push({ kind: 'section', name, title: undefined, body: parseBody(true) });
      } else if (after.type !== 'punct') {
        const open = next();
        if (open.type !== 'punct' || open.value !== '{')
          throw new ConfSyntaxError(`expected '{' after ${name}`);
        items.push({ kind: 'section', name, title: after.value, body: parseBody(true) });
      } else {
        throw new ConfSyntaxError(`unexpected '${after.value}' after ${name}`);
      }
    }
  };
  const parseValues = (): string[] => {
    const first = peek();
    if (!(first?.type === 'punct' && first.value === '{')) return [expectValue()];
    at++;
    const values: string[] = [];
    const closing = peek();
    if (closing?.type === 'punct' && closing.value === '}') {
      at++;
      return values;
    }
    for (;;) {
      values.push(expectValue());
      const separator = next();
      if (separator.type === 'punct' && separator.value === '}') return values;
      if (separator.type !== 'punct' || separator.value !== ',')
        throw new ConfSyntaxError("expected ',' or '}'");
    }
  };
  return parseBody(false);
}

function tokenize(text: string, environment: Environment): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '#' || (c === '/' && text[i + 1] === '/')) {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) throw new ConfSyntaxError('unterminated comment');
      i = end + 2;
    } else if (c === '+' && text[i + 1] === '=') {
      tokens.push({ type: 'punct', value: '+=' });
      i += 2;
    } else if ('{}=,()'.includes(c)) {
      tokens.push({ type: 'punct', value: c });
      i++;
    } else if (c === '"') {
      const { value, end } = readDoubleQuoted(text, i + 1);
      tokens.push({ type: 'string', value: expand(value, environment) });
      i = end;
    } else if (c === "'") {
      let value = '';
      i++;
      while (i < text.length && text[i] !== "'") {
        if (text[i] === '\\' && (text[i + 1] === "'" || text[i + 1] === '\\')) i++;
        value += text[i++];
      }
      if (i >= text.length) throw new ConfSyntaxError('unterminated string');
      tokens.push({ type: 'string', value });
      i++;
    } else {
      const start = i;
      while (i < text.length && !/[\s{}=,()"'#]/.test(text[i]!) && !(text[i] === '+' && text[i + 1] === '='))
        i++;
      tokens.push({ type: 'word', value: expand(text.slice(start, i), environment) });
    }
  }
  return tokens;
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', f: '\f', b: '\b', a: '\x07', e: '\x1b' };

function readDoubleQuoted(text: string, from: number): { value: string; end: number } {
  let value = '';
  let i = from;
  while (i < text.length && text[i] !== '"') {
    if (text[i] === '\\' && i + 1 < text.length) {
      const escaped = text[i + 1]!;
      // A backslash before `$` keeps it literal; marked so that expansion leaves it alone.
      value += escaped === '$' ? '\u0000$' : (ESCAPES[escaped] ?? escaped);
      i += 2;
    } else {
      value += text[i++];
    }
  }
  if (i >= text.length) throw new ConfSyntaxError('unterminated string');
  return { value, end: i + 1 };
}

function expand(value: string, environment: Environment): string {
  return value
    .replace(
      /(?<!\u0000)\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g,
      (_, name: string, fallback?: string) => {
        const found = environment(name);
        return found === undefined || (found === '' && fallback !== undefined) ? (fallback ?? '') : found;
      },
    )
    .replaceAll('\u0000$', '$');
}
