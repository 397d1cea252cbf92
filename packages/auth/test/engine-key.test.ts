// Device keys inside an HSM, through OpenSSL's pkcs11 engine and SoftHSM. CI installs softhsm2 and
// libengine-pkcs11-openssl; elsewhere the suite is skipped with the reason printed.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startTestServer, type TestServer } from '@nerves-hub-link/test-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPki, type Pki } from './support/pki.js';
import { createSoftHsmToken, softHsmUnavailable, TOKEN_LABEL, USER_PIN } from './support/softhsm.js';

const unavailable = softHsmUnavailable();
if (unavailable && !process.env.CI) console.warn(`skipping HSM tests: ${unavailable}`);
const probe = fileURLToPath(new URL('./support/engine-probe.mjs', import.meta.url));

describe.skipIf(unavailable !== undefined && !process.env.CI)(
  'createTlsOptions with a pkcs11 engine key',
  () => {
    let pki: Pki;
    let env: NodeJS.ProcessEnv;
    let device: { certFile: string; keyFile: string };
    let other: { certFile: string; keyFile: string };

    beforeAll(async () => {
      pki = await createPki();
      device = await pki.leaf('dev-hsm');
      other = await pki.leaf('dev-other');
      env = createSoftHsmToken(pki.dir, device.keyFile, 'device-key');
      delete env.OPENSSL_ENGINES; // the package must find Debian's engine folder by itself
    });
    afterAll(() => pki?.cleanup());

    const keyId = (attributes: string) =>
      `pkcs11:token=${TOKEN_LABEL};object=device-key;type=private${attributes}`;
    async function load(
      certFile: string,
      engine: string,
      id: string,
      url?: string,
      caFile?: string,
      processEnv = env,
    ) {
      const args = [probe, certFile, engine, id, ...(url && caFile ? [url, caFile] : [])];
      const running = promisify(execFile)(process.execPath, args, { env: processEnv });
      // As under systemd: no terminal to prompt for a PIN on.
      running.child.stdin?.end();
      const { stdout } = await running;
      return JSON.parse(stdout.trim().split('\n').at(-1)!);
    }

    it('loads the key with the PIN in the URI', async () => {
      expect(await load(device.certFile, 'pkcs11', keyId(`;pin-value=${USER_PIN}`))).toEqual({
        ok: true,
        cn: 'dev-hsm',
      });
    });

    it('reports a wrong PIN without echoing it', async () => {
      const result = await load(device.certFile, 'pkcs11', keyId(';pin-value=9999'));
      expect(result.code).toBe('AUTH_PIN_INCORRECT');
      expect(result.message).not.toContain('9999');
      expect(result.message).toContain('pin-value=***');
    });

    it('reports a missing PIN', async () => {
      expect((await load(device.certFile, 'pkcs11', keyId(''))).code).toBe('AUTH_PIN_REQUIRED');
    });

    it('reports a key object that does not exist', async () => {
      const id = `pkcs11:token=${TOKEN_LABEL};object=no-such-key;type=private;pin-value=${USER_PIN}`;
      expect((await load(device.certFile, 'pkcs11', id)).code).toBe('AUTH_KEY_NOT_FOUND');
    });

    it('reports a key that does not belong to the certificate', async () => {
      expect((await load(other.certFile, 'pkcs11', keyId(`;pin-value=${USER_PIN}`))).code).toBe(
        'AUTH_KEY_MISMATCH',
      );
    });

    it('joins the test-server over mTLS with the key inside the HSM', async () => {
      const server: TestServer = await startTestServer();
      try {
        const issued = await server.issueDeviceCertificate('dev-hsm-joined');
        // The token of this test holds the key the test-server's certificate was issued for.
        const tokenEnv = createSoftHsmToken(join(pki.dir, 'joined'), issued.keyFile, 'joined-key');
        delete tokenEnv.OPENSSL_ENGINES;
        const id = `pkcs11:token=${TOKEN_LABEL};object=joined-key;type=private;pin-value=${USER_PIN}`;
        const result = await load(
          issued.certFile,
          'pkcs11',
          id,
          server.mtlsUrl,
          server.ca.certFile,
          tokenEnv,
        );
        expect(result).toEqual({ ok: true, cn: 'dev-hsm-joined' });
        expect(server.device('dev-hsm-joined').joins).toHaveLength(1);
      } finally {
        await server.close();
      }
    });

    it('reports an engine that is not installed', async () => {
      expect((await load(device.certFile, 'no-such-engine', keyId(''))).code).toBe('AUTH_ENGINE_NOT_FOUND');
    });
  },
);
