// Device keys inside an HSM, through OpenSSL's pkcs11 engine and SoftHSM. CI installs softhsm2 and
// libengine-pkcs11-openssl; elsewhere the suite is skipped with the reason printed.
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startTestServer, type TestServer } from '@nerves-hub-link/test-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPki, type Pki } from './support/pki.js';
import {
  createSoftHsmToken,
  softHsmModule,
  softHsmUnavailable,
  TOKEN_LABEL,
  USER_PIN,
} from './support/softhsm.js';

const unavailable = softHsmUnavailable();
if (unavailable && !process.env.CI) console.warn(`skipping HSM tests: ${unavailable}`);
const probe = fileURLToPath(new URL('./support/engine-probe.mjs', import.meta.url));
const pkcs11Tool = spawnSync('pkcs11-tool', ['--help']).error === undefined;

interface ProbeRun {
  /** The outcome the probe printed last. */
  readonly result: { ok: boolean; code?: string; message?: string; cn?: string; pinDescriptors: string[] };
  /** Every byte the process wrote, stdout then stderr: OpenSSL and the engine write to stderr themselves. */
  readonly output: Buffer;
  readonly stderr: string;
}

/** Runs the probe in a child process, as under systemd: no terminal to prompt for a PIN on. */
async function runProbe(args: string[], env: NodeJS.ProcessEnv): Promise<ProbeRun> {
  const running = promisify(execFile)(process.execPath, [probe, ...args], { env, encoding: 'buffer' });
  running.child.stdin?.end();
  const { stdout, stderr } = await running;
  return {
    result: JSON.parse(stdout.toString('utf8').trim().split('\n').at(-1)!),
    output: Buffer.concat([stdout, stderr]),
    stderr: stderr.toString('utf8'),
  };
}

/**
 * Temporary PIN folders left behind in the places the package writes them. Only folders still there a moment
 * later count: another test process may be between creating and removing its own.
 */
async function pinFilesLeft(...folders: string[]): Promise<string[]> {
  const list = () =>
    ['/dev/shm', tmpdir(), ...folders].flatMap((folder) => {
      try {
        return readdirSync(folder)
          .filter((name) => name.startsWith('nerves-hub-link-pin-'))
          .map((name) => join(folder, name));
      } catch {
        return [];
      }
    });
  const first = list();
  if (first.length === 0) return [];
  await new Promise((resolve) => setTimeout(resolve, 100));
  const second = new Set(list());
  return first.filter((path) => second.has(path));
}

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
      const args = [certFile, engine, id, ...(url && caFile ? [url, caFile] : [])];
      const { result } = await runProbe(args, processEnv);
      const { pinDescriptors, ...outcome } = result;
      expect(pinDescriptors).toEqual([]);
      return outcome;
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

    it.skipIf(!pkcs11Tool)(
      'says the token lacks the public-key object, with a command that adds it',
      async () => {
        const tokenEnv = createSoftHsmToken(join(pki.dir, 'no-pubkey'), device.keyFile, 'device-key', {
          privateKeyOnly: true,
        });
        delete tokenEnv.OPENSSL_ENGINES;
        const id = keyId(`;id=%01;pin-value=${USER_PIN}`);
        const result = await load(device.certFile, 'pkcs11', id, undefined, undefined, tokenEnv);
        expect(result.code).toBe('AUTH_TOKEN_PUBLIC_KEY_MISSING');
        expect(result.message).toContain('no public-key object');
        expect(result.message).not.toContain('does not belong');
        const command = /`(openssl x509 .*--type pubkey --id 01 --label device-key)`/.exec(
          result.message!,
        )?.[1];
        expect(command).toBeDefined();

        // The advice works: run it (module path and PIN filled in) and the key loads.
        const filled = command!
          .replace('MODULE.so', softHsmModule()!)
          .replace('--login', `--login --pin ${USER_PIN}`);
        execFileSync('sh', ['-c', filled], { cwd: join(pki.dir, 'no-pubkey'), env: tokenEnv, stdio: 'pipe' });
        expect(await load(device.certFile, 'pkcs11', id, undefined, undefined, tokenEnv)).toEqual({
          ok: true,
          cn: 'dev-hsm',
        });
      },
    );

    describe('the PIN never reaches any output', () => {
      // Distinctive PINs, so that finding one in the output cannot be a coincidence.
      const PIN = '40981736';
      const WRONG_PIN = '57261934';
      let leakEnv: NodeJS.ProcessEnv;
      let leakTmp: string;

      beforeAll(() => {
        leakEnv = createSoftHsmToken(join(pki.dir, 'leak'), device.keyFile, 'device-key', { pin: PIN });
        delete leakEnv.OPENSSL_ENGINES;
        leakTmp = join(pki.dir, 'leak-tmp');
        mkdirSync(leakTmp);
        leakEnv.TMPDIR = leakTmp;
      });

      const uri = (token: string, object: string, pin: string) =>
        `pkcs11:token=${token};object=${object};type=private;pin-value=${pin}`;
      interface FailureCase {
        readonly name: string;
        readonly certFile: () => string;
        readonly engine: string;
        readonly keyId: string;
        readonly code: string;
        /** The pkcs11 engine itself writes to stderr in this case. */
        readonly engineSpeaks: boolean;
      }
      const cases: FailureCase[] = [
        {
          name: 'a wrong PIN',
          certFile: () => device.certFile,
          engine: 'pkcs11',
          keyId: uri(TOKEN_LABEL, 'device-key', WRONG_PIN),
          code: 'AUTH_PIN_INCORRECT',
          engineSpeaks: true,
        },
        {
          name: 'a wrong object',
          certFile: () => device.certFile,
          engine: 'pkcs11',
          keyId: uri(TOKEN_LABEL, 'nosuch', PIN),
          code: 'AUTH_KEY_NOT_FOUND',
          engineSpeaks: true,
        },
        {
          name: 'a wrong token',
          certFile: () => device.certFile,
          engine: 'pkcs11',
          keyId: uri('nosuch', 'device-key', PIN),
          code: 'AUTH_KEY_NOT_FOUND',
          engineSpeaks: true,
        },
        {
          name: 'a missing engine',
          certFile: () => device.certFile,
          engine: 'no-such-engine',
          keyId: uri(TOKEN_LABEL, 'device-key', PIN),
          code: 'AUTH_ENGINE_NOT_FOUND',
          engineSpeaks: false,
        },
        {
          name: 'a key of another certificate',
          certFile: () => other.certFile,
          engine: 'pkcs11',
          keyId: uri(TOKEN_LABEL, 'device-key', PIN),
          code: 'AUTH_KEY_MISMATCH',
          engineSpeaks: false,
        },
        {
          name: 'a wrong PIN given as a query attribute',
          certFile: () => device.certFile,
          engine: 'pkcs11',
          keyId: `pkcs11:token=${TOKEN_LABEL};object=device-key;type=private?pin-value=${WRONG_PIN}`,
          code: 'AUTH_PIN_INCORRECT',
          engineSpeaks: true,
        },
      ];

      it.each(cases)('with $name', async ({ certFile, engine, keyId: id, code, engineSpeaks }) => {
        const run = await runProbe([certFile(), engine, id], leakEnv);
        expect(run.result.code).toBe(code);
        if (engineSpeaks) {
          // The engine did write to stderr, and that output was captured: the check below is not vacuous.
          expect(run.stderr).toMatch(/PKCS11_get_private_key|Login failed|not found at: pkcs11:/);
        }
        for (const pin of [PIN, WRONG_PIN]) expect(run.output.includes(pin)).toBe(false);
        expect(run.result.pinDescriptors).toEqual([]);
        expect(await pinFilesLeft(leakTmp)).toEqual([]);
      });

      it('loads the key with a percent-encoded PIN, and leaves no PIN file behind', async () => {
        const encoded = `%${PIN.charCodeAt(0).toString(16)}${PIN.slice(1)}`;
        const run = await runProbe(
          [device.certFile, 'pkcs11', uri(TOKEN_LABEL, 'device-key', encoded)],
          leakEnv,
        );
        expect(run.result).toMatchObject({ ok: true, cn: 'dev-hsm', pinDescriptors: [] });
        expect(run.output.includes(PIN)).toBe(false);
        expect(await pinFilesLeft(leakTmp)).toEqual([]);
      });
    });
  },
);
