/** Reading PEM files and X.509 certificates, with messages that name the file and the option. */
import { X509Certificate } from 'node:crypto';
import { MAX_PEM_FILE_BYTES } from './constants.js';
import { AuthError, type AuthOption } from './errors.js';
import { readRegularFile } from './regular-file.js';
import { fsReason } from './secret-file.js';

const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/**
 * Reads a PEM file as text: a regular file of at most `maxBytes`. `AUTH_FILE_UNREADABLE` names the option,
 * the path and the reason ("it is not a regular file (a FIFO)", "it is larger than 64 KiB", "no such file").
 */
export async function readPemFile(
  path: string,
  option: AuthOption,
  what: string,
  maxBytes: number = MAX_PEM_FILE_BYTES,
): Promise<string> {
  try {
    return (await readRegularFile(path, maxBytes)).bytes.toString('utf8');
  } catch (error) {
    throw new AuthError(
      'AUTH_FILE_UNREADABLE',
      `cannot read ${what} ${path} (${option}): ${fsReason(error)}`,
      { cause: error, option },
    );
  }
}

/** The `CERTIFICATE` blocks of a PEM text, in file order. */
export function splitPemCertificates(pem: string): string[] {
  return pem.match(CERTIFICATE_BLOCK)?.map((block) => `${block}\n`) ?? [];
}

/**
 * Parses every certificate of a PEM file (leaf first, then its chain). Throws `AUTH_CERT_INVALID` (or
 * `AUTH_CA_INVALID` for CA bundles) when there is none or one does not parse.
 */
export function parseCertificates(
  pem: string,
  path: string,
  option: AuthOption,
  code: 'AUTH_CERT_INVALID' | 'AUTH_CA_INVALID' = 'AUTH_CERT_INVALID',
): X509Certificate[] {
  const blocks = splitPemCertificates(pem);
  if (blocks.length === 0) {
    const hint = /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)
      ? ' (it holds a private key: did you swap the certificate and key paths?)'
      : ' (expected "-----BEGIN CERTIFICATE-----" blocks; convert DER with `openssl x509 -inform der -in FILE -out FILE.pem`)';
    throw new AuthError(code, `${path} (${option}) holds no PEM certificate${hint}`, { option });
  }
  return blocks.map((block, index) => {
    try {
      return new X509Certificate(block);
    } catch (error) {
      throw new AuthError(
        code,
        `certificate ${index + 1} in ${path} (${option}) cannot be parsed: ${(error as Error).message}`,
        { cause: error, option },
      );
    }
  });
}

/**
 * Values of one attribute in an X509Certificate `subject` string (one `KEY=value` per line, RFC 2253 escapes).
 */
export function subjectAttribute(subject: string, attribute: string): string[] {
  const prefix = `${attribute}=`;
  return subject
    .split('\n')
    .filter((line) => line.startsWith(prefix))
    .map((line) => unescapeRfc2253(line.slice(prefix.length)));
}

/** The subject's common name (the first CN), or undefined when it has none. */
export function commonNameOf(certificate: X509Certificate): string | undefined {
  return subjectAttribute(certificate.subject, 'CN')[0];
}

/** One-line subject for messages: `CN=dev-1, O=Acme`. */
export function subjectLine(subject: string): string {
  return subject.split('\n').filter(Boolean).join(', ');
}

/** SHA-1 of the DER, uppercase hex without separators: how NervesHub recognises a known certificate. */
export function fingerprintSha1(certificate: X509Certificate): string {
  return certificate.fingerprint.replaceAll(':', '').toUpperCase();
}

function unescapeRfc2253(value: string): string {
  const bytes: number[] = [];
  const out: string[] = [];
  const flush = () => {
    if (bytes.length > 0) out.push(Buffer.from(bytes.splice(0)).toString('utf8'));
  };
  for (let i = 0; i < value.length; i++) {
    const char = value[i]!;
    if (char === '\\' && i + 1 < value.length) {
      const hex = value.slice(i + 1, i + 3);
      if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
        bytes.push(Number.parseInt(hex, 16));
        i += 2;
        continue;
      }
      flush();
      out.push(value[i + 1]!);
      i += 1;
      continue;
    }
    flush();
    out.push(char);
  }
  flush();
  return out.join('');
}
