// Certificates for tests, made with the openssl CLI in a temporary folder.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Pki {
  readonly dir: string;
  /** A CA (cert + key files) named `name`. */
  ca(name: string): { certFile: string; keyFile: string };
  /** A P-256 key and a certificate for CN=`cn` signed by `ca`, valid from `startDays` to `endDays` relative to today. */
  leaf(
    name: string,
    cn: string,
    ca: { certFile: string; keyFile: string },
    options?: { startDays?: number; endDays?: number; san?: string },
  ): { certFile: string; keyFile: string };
  cleanup(): void;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** YYYYMMDDHHMMSSZ, `days` from now. */
function stamp(days: number): string {
  const date = new Date(Date.now() + days * 86_400_000);
  return `${date.toISOString().slice(0, 19).replace(/[-:T]/g, '')}Z`;
}

export function createPki(): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'auth-pki-'));
  const path = (name: string) => join(dir, name);
  return {
    dir,
    ca(name) {
      const keyFile = path(`${name}.key`);
      const certFile = path(`${name}.crt`);
      openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', keyFile], dir);
      openssl(
        ['req', '-x509', '-new', '-key', keyFile, '-subj', `/CN=${name}`, '-days', '3650', '-out', certFile],
        dir,
      );
      return { certFile, keyFile };
    },
    leaf(name, cn, ca, options = {}) {
      const keyFile = path(`${name}.key`);
      const csr = path(`${name}.csr`);
      const certFile = path(`${name}.crt`);
      const ext = path(`${name}.ext`);
      openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', keyFile], dir);
      openssl(['req', '-new', '-key', keyFile, '-subj', `/CN=${cn}`, '-out', csr], dir);
      writeFileSync(
        ext,
        `basicConstraints=CA:FALSE\n${options.san ? `subjectAltName=${options.san}\n` : ''}`,
      );
      // `openssl ca` is the OpenSSL 3.0 command that accepts arbitrary start and end dates (expired certificates).
      const config = path(`${name}.cnf`);
      const database = path(`${name}.index`);
      writeFileSync(database, '');
      writeFileSync(
        config,
        [
          '[ca]',
          'default_ca = ca_default',
          '[ca_default]',
          `database = ${database}`,
          `new_certs_dir = ${dir}`,
          `serial = ${path(`${name}.serial`)}`,
          'default_md = sha256',
          'policy = policy_any',
          'unique_subject = no',
          '[policy_any]',
          'commonName = supplied',
          '',
        ].join('\n'),
      );
      writeFileSync(path(`${name}.serial`), `${Date.now().toString(16).padStart(16, '0')}\n`);
      openssl(
        [
          'ca',
          '-batch',
          '-notext',
          '-config',
          config,
          '-cert',
          ca.certFile,
          '-keyfile',
          ca.keyFile,
          '-startdate',
          stamp(options.startDays ?? -1),
          '-enddate',
          stamp(options.endDays ?? 365),
          '-extfile',
          ext,
          '-in',
          csr,
          '-out',
          certFile,
        ],
        dir,
      );
      return { certFile, keyFile };
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
