/**
 * The test-server's certificates, made fresh with the `openssl` CLI: nothing in the repository can expire.
 * A CA for the server certificate (clients trust it), a device CA (the server trusts devices it signed),
 * and an unrelated CA for "wrong CA" tests.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface CertificatePair {
  readonly certFile: string;
  readonly keyFile: string;
  readonly certPem: string;
  readonly keyPem: string;
}

export interface IssueOptions {
  /** @default one day ago */
  readonly notBefore?: Date;
  /** @default in 365 days */
  readonly notAfter?: Date;
  /** Which CA signs: the one the server trusts, or an unrelated one. @default 'device' */
  readonly ca?: 'device' | 'other';
  /** @default 'ec' (P-256, as NervesKey and most device CAs) */
  readonly keyType?: 'ec' | 'rsa';
}

export class CertificateStore {
  readonly dir: string;
  #serial = Date.now();

  private constructor(dir: string) {
    this.dir = dir;
  }

  /** Creates the three CAs and the server certificate (127.0.0.1 and localhost) in `dir`. */
  static async create(dir: string): Promise<CertificateStore> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const store = new CertificateStore(dir);
    await Promise.all([store.#makeCa('server-ca'), store.#makeCa('device-ca'), store.#makeCa('other-ca')]);
    await store.#issue('server', 'localhost', 'server-ca', {
      san: 'DNS:localhost,IP:127.0.0.1',
      extendedKeyUsage: 'serverAuth',
    });
    return store;
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  /** A device certificate with CN = `identifier`, and its key. */
  async issueDevice(identifier: string, options: IssueOptions = {}): Promise<CertificatePair> {
    const name = `device-${identifier.replace(/[^A-Za-z0-9._-]/g, '_')}-${(this.#serial++).toString(36)}`;
    return this.#issue(name, identifier, options.ca === 'other' ? 'other-ca' : 'device-ca', {
      extendedKeyUsage: 'clientAuth',
      ...options,
    });
  }

  async pair(name: string): Promise<CertificatePair> {
    const certFile = this.path(`${name}.crt`);
    const keyFile = this.path(`${name}.key`);
    const [certPem, keyPem] = await Promise.all([readFile(certFile, 'utf8'), readFile(keyFile, 'utf8')]);
    return { certFile, keyFile, certPem, keyPem };
  }

  async #makeCa(name: string): Promise<void> {
    const key = this.path(`${name}.key`);
    await run('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key]);
    await run('openssl', [
      'req',
      '-x509',
      '-new',
      '-key',
      key,
      '-subj',
      `/O=nerves-hub-link test-server/CN=${name}`,
      '-days',
      '3650',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
      '-out',
      this.path(`${name}.crt`),
    ]);
  }

  async #issue(
    name: string,
    cn: string,
    caName: string,
    options: IssueOptions & { san?: string; extendedKeyUsage: string },
  ): Promise<CertificatePair> {
    const key = this.path(`${name}.key`);
    const csr = this.path(`${name}.csr`);
    if (options.keyType === 'rsa') {
      await run('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', key]);
    } else {
      await run('openssl', [
        'genpkey',
        '-algorithm',
        'EC',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-out',
        key,
      ]);
    }
    await run('openssl', ['req', '-new', '-key', key, '-subj', `/CN=${cn}`, '-out', csr]);
    // `openssl ca` is what OpenSSL 3.0 offers for arbitrary validity dates (expired and future certificates).
    const ext = this.path(`${name}.ext`);
    const config = this.path(`${name}.cnf`);
    const database = this.path(`${name}.index`);
    await writeFile(
      ext,
      [
        'basicConstraints=CA:FALSE',
        'keyUsage=critical,digitalSignature',
        `extendedKeyUsage=${options.extendedKeyUsage}`,
        'authorityKeyIdentifier=keyid',
        ...(options.san ? [`subjectAltName=${options.san}`] : []),
        '',
      ].join('\n'),
    );
    await writeFile(database, '');
    await writeFile(this.path(`${name}.serial`), `${(this.#serial++).toString(16).padStart(16, '0')}\n`);
    await writeFile(
      config,
      [
        '[ca]',
        'default_ca = ca_default',
        '[ca_default]',
        `database = ${database}`,
        `new_certs_dir = ${this.dir}`,
        `serial = ${this.path(`${name}.serial`)}`,
        'default_md = sha256',
        'policy = policy_any',
        'unique_subject = no',
        '[policy_any]',
        'commonName = supplied',
        '',
      ].join('\n'),
    );
    const notBefore = options.notBefore ?? new Date(Date.now() - 86_400_000);
    const notAfter = options.notAfter ?? new Date(Date.now() + 365 * 86_400_000);
    await run('openssl', [
      'ca',
      '-batch',
      '-notext',
      '-config',
      config,
      '-cert',
      this.path(`${caName}.crt`),
      '-keyfile',
      this.path(`${caName}.key`),
      '-startdate',
      asn1Time(notBefore),
      '-enddate',
      asn1Time(notAfter),
      '-extfile',
      ext,
      '-in',
      csr,
      '-out',
      this.path(`${name}.crt`),
    ]);
    return this.pair(name);
  }
}

/** YYYYMMDDHHMMSSZ */
function asn1Time(date: Date): string {
  return `${date.toISOString().slice(0, 19).replace(/[-:T]/g, '')}Z`;
}
