// Connection setup to a joined `device` channel over loopback: mTLS with a key file, mTLS with the key in
// SoftHSM (pkcs11 engine), and the NH1 shared secret (PBKDF2 on every attempt). Each mode in its own process.
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startTestServer } from '@nerves-hub-link/test-server';

const COUNT = Number(process.env.BENCH_CONNECTIONS ?? 50);
const client = fileURLToPath(new URL('./connect-client.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'connect-bench-'));
const server = await startTestServer();
const run = promisify(execFile);
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const results = {};
try {
  const fileDevice = await server.issueDeviceCertificate('bench-file');
  server.addProductKey('nhp_bench', 'bench-secret');
  const base = { url: server.mtlsUrl, caFile: server.ca.certFile };
  results['mtls-file'] = JSON.parse(
    (
      await run(process.execPath, [
        client,
        'mtls-file',
        String(COUNT),
        JSON.stringify({ ...base, ...fileDevice }),
      ])
    ).stdout,
  );

  let hsmEnv;
  try {
    const hsmDevice = await server.issueDeviceCertificate('bench-hsm');
    mkdirSync(join(dir, 'tokens'));
    writeFileSync(
      join(dir, 'softhsm2.conf'),
      `directories.tokendir = ${join(dir, 'tokens')}\nobjectstore.backend = file\n`,
    );
    hsmEnv = { ...process.env, SOFTHSM2_CONF: join(dir, 'softhsm2.conf') };
    const opts = { env: hsmEnv, stdio: 'ignore' };
    execFileSync(
      'softhsm2-util',
      ['--init-token', '--free', '--label', 'bench', '--pin', '1234', '--so-pin', '5678'],
      opts,
    );
    execFileSync(
      'openssl',
      ['pkcs8', '-topk8', '-nocrypt', '-in', hsmDevice.keyFile, '-out', join(dir, 'k.p8')],
      opts,
    );
    execFileSync(
      'softhsm2-util',
      ['--import', join(dir, 'k.p8'), '--token', 'bench', '--label', 'key', '--id', '01', '--pin', '1234'],
      opts,
    );
    const keyId = 'pkcs11:token=bench;object=key;type=private;pin-value=1234';
    results['mtls-hsm'] = JSON.parse(
      (
        await run(
          process.execPath,
          [client, 'mtls-hsm', String(COUNT), JSON.stringify({ ...base, ...hsmDevice, keyId })],
          { env: hsmEnv },
        )
      ).stdout,
    );
  } catch (error) {
    console.log(`mTLS with SoftHSM skipped: ${error.message.split('\n')[0]}`);
  }

  results['shared-secret'] = JSON.parse(
    (
      await run(process.execPath, [
        client,
        'shared-secret',
        String(COUNT),
        JSON.stringify({
          url: server.sharedSecretUrl,
          caFile: server.ca.certFile,
          key: 'nhp_bench',
          secret: 'bench-secret',
        }),
      ])
    ).stdout,
  );
} finally {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
}

const baseline = median(results['mtls-file']);
console.log(`connection setup to a joined "device" channel over loopback TLS 1.2, median of ${COUNT}`);
for (const [mode, times] of Object.entries(results)) {
  const m = median(times);
  console.log(
    `  ${mode.padEnd(15)} ${m.toFixed(1).padStart(7)} ms   ${(m / baseline).toFixed(2)}x mtls-file`,
  );
}
console.log('  goal: shared-secret <= 1.2x mtls-file');
