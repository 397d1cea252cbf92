/**
 * RFC 7512 `pkcs11:` URIs: path attributes joined by `;`, then optionally `?` and query attributes joined by
 * `&`. Values are percent-encoded. libp11 (OpenSSL's pkcs11 engine) also accepts query attributes such as
 * `pin-value` among the path attributes, so both parts are searched.
 */

export interface Pkcs11Attribute {
  /** As written, e.g. `object`; the whole text when the attribute has no `=`. */
  readonly name: string;
  /** As written (still percent-encoded); undefined when the attribute has no `=`. */
  readonly value: string | undefined;
}

export interface Pkcs11Uri {
  readonly path: readonly Pkcs11Attribute[];
  readonly query: readonly Pkcs11Attribute[];
}

const SCHEME = 'pkcs11:';

export function isPkcs11Uri(keyId: string): boolean {
  return keyId.slice(0, SCHEME.length).toLowerCase() === SCHEME;
}

/** The attributes of a `pkcs11:` URI, or undefined for any other key id. */
export function parsePkcs11Uri(keyId: string): Pkcs11Uri | undefined {
  if (!isPkcs11Uri(keyId)) return undefined;
  const body = keyId.slice(SCHEME.length);
  const queryAt = body.indexOf('?');
  const pathText = queryAt === -1 ? body : body.slice(0, queryAt);
  const queryText = queryAt === -1 ? '' : body.slice(queryAt + 1);
  return { path: splitAttributes(pathText, ';'), query: splitAttributes(queryText, '&') };
}

export function formatPkcs11Uri(uri: Pkcs11Uri): string {
  const join = (attributes: readonly Pkcs11Attribute[], separator: string) =>
    attributes.map(({ name, value }) => (value === undefined ? name : `${name}=${value}`)).join(separator);
  const query = join(uri.query, '&');
  return `${SCHEME}${join(uri.path, ';')}${query ? `?${query}` : ''}`;
}

/** Every attribute called `name` (lower case; matched without regard to case), path first, then query. */
export function attributesNamed(uri: Pkcs11Uri, name: string): Pkcs11Attribute[] {
  return [...uri.path, ...uri.query].filter((attribute) => attribute.name.toLowerCase() === name);
}

/** The decoded value of the first attribute called `name`, as text (`id` is better read with `percentDecode`). */
export function attributeText(uri: Pkcs11Uri, name: string): string | undefined {
  const value = attributesNamed(uri, name)[0]?.value;
  return value === undefined ? undefined : percentDecode(value).toString('utf8');
}

/** Percent-decoding to bytes, as libp11 does; a `%` not followed by two hex digits is kept as is. */
export function percentDecode(value: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const hex = value.slice(i + 1, i + 3);
    if (value[i] === '%' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
      continue;
    }
    const codePoint = value.codePointAt(i)!;
    const char = String.fromCodePoint(codePoint);
    bytes.push(...Buffer.from(char, 'utf8'));
    i += char.length - 1;
  }
  return Buffer.from(bytes);
}

function splitAttributes(text: string, separator: string): Pkcs11Attribute[] {
  if (text === '') return [];
  return text.split(separator).map((part) => {
    const equals = part.indexOf('=');
    return equals === -1
      ? { name: part, value: undefined }
      : { name: part.slice(0, equals), value: part.slice(equals + 1) };
  });
}
