// The download on the networks devices sit on, measured against a direct connection in the same run:
//  1. throughput and CPU through a real HTTP proxy (Debian's tinyproxy, started here) against direct;
//  2. the accuracy of the bandwidth cap (maxBytesPerSecond) over a whole download.
// The test-server serves the files from this process; each download runs in its own client process. curl on the
// same URLs, direct and through the same proxy, shows what the proxy costs any client on this machine.
import { execFile } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startTestServer } from '@nerves-hub-link/test-server';
import { startTinyproxy, tinyproxyPath } from '@nerves-hub-link/test-server/testing';

const run = promisify(execFile);
const MiB = 1024 * 1024;
const PROXY_MIB = Number(process.env.BENCH_PROXY_MIB ?? 128);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
/** [file MiB, cap MiB/s] */
const CAPS = [
  [64, 32],
  [8, 2],
];
const client = fileURLToPath(new URL('./network-client.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'network-bench-'));
// The capped downloads are written to memory when it can: the cap paces the network, and the fsync of 64 MiB to
// a slow disk at the end would otherwise count against it.
const capDir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'network-bench-capped-'));
const TICKS_PER_SECOND = 100;

function makeFile(path, bytes) {
  const fd = openSync(path, 'w');
  const block = Buffer.alloc(4 * MiB);
  for (let written = 0; written < bytes; written += block.length)
    writeSync(fd, randomFillSync(block), 0, Math.min(block.length, bytes - written));
  closeSync(fd);
}

/** User + system CPU seconds a process has used so far (Linux /proc). */
function processCpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

async function download(options, into = dir) {
  const out = join(into, 'out');
  rmSync(out, { recursive: true, force: true });
  const { stdout } = await run(process.execPath, [client, JSON.stringify({ ...options, directory: out })], {
    maxBuffer: MiB,
  });
  rmSync(out, { recursive: true, force: true });
  return JSON.parse(stdout.trim().split('\n').at(-1));
}

/** curl's download speed in MB/s. */
async function curl(url, caFile, proxyUrl) {
  const { stdout } = await run('curl', [
    '-sS',
    '--fail',
    '-o',
    '/dev/null',
    '-w',
    '%{speed_download}',
    '--cacert',
    caFile,
    ...(proxyUrl ? ['--proxy', proxyUrl] : []),
    url,
  ]);
  return Number(stdout) / 1e6;
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const server = await startTestServer();
const proxy = tinyproxyPath() ? await startTinyproxy() : undefined;
const report = [];
try {
  if (!proxy) {
    report.push('proxy: skipped, tinyproxy is not installed (apt-get install tinyproxy)');
  } else {
    const file = join(dir, 'proxy.fw');
    makeFile(file, PROXY_MIB * MiB);
    const { id } = await server.addFirmware(file);
    const base = { url: server.firmwareUrl(id), caFile: server.ca.certFile };
    const direct = [];
    const proxied = [];
    const curlDirect = [];
    const curlProxied = [];
    for (let i = 0; i < RUNS; i++) {
      // Alternated, so that both see the same machine.
      curlDirect.push(await curl(base.url, base.caFile));
      curlProxied.push(await curl(base.url, base.caFile, proxy.url));
      direct.push(await download(base));
      const before = processCpuSeconds(proxy.pid);
      const result = await download({ ...base, proxy: proxy.url });
      proxied.push({ ...result, proxyCpuSeconds: processCpuSeconds(proxy.pid) - before });
    }
    const mbs = (runs) => (PROXY_MIB * MiB) / 1e6 / median(runs.map((r) => r.seconds));
    const cpu = (runs) => median(runs.map((r) => r.cpuSeconds));
    report.push(
      `proxy: ${PROXY_MIB} MiB over loopback HTTPS, median of ${RUNS} runs, each client in its own process`,
      `  direct              ${mbs(direct).toFixed(0).padStart(5)} MB/s   client CPU ${cpu(direct).toFixed(2)} s`,
      `  through tinyproxy   ${mbs(proxied).toFixed(0).padStart(5)} MB/s   client CPU ${cpu(proxied).toFixed(2)} s   tinyproxy CPU ${median(proxied.map((r) => r.proxyCpuSeconds)).toFixed(2)} s`,
      `  throughput proxy/direct ${(mbs(proxied) / mbs(direct)).toFixed(2)}x (goal >= 0.9x); client CPU proxy/direct ${(cpu(proxied) / cpu(direct)).toFixed(2)}x`,
      `  curl: direct ${median(curlDirect).toFixed(0)} MB/s, through tinyproxy ${median(curlProxied).toFixed(0)} MB/s (${(median(curlProxied) / median(curlDirect)).toFixed(2)}x)`,
    );
    rmSync(file, { force: true });
  }
  report.push(
    `rate cap: written to ${dirname(capDir)}, median of 3 runs; body: from its first bytes to the end of the call, whole call: with connection and TLS set-up`,
  );
  for (const [mib, capMib] of CAPS) {
    const file = join(dir, `capped-${mib}.fw`);
    makeFile(file, mib * MiB);
    const { id } = await server.addFirmware(file);
    const runs = [];
    for (let i = 0; i < 3; i++) {
      runs.push(
        await download(
          {
            url: server.firmwareUrl(id),
            caFile: server.ca.certFile,
            maxBytesPerSecond: capMib * MiB,
          },
          capDir,
        ),
      );
    }
    const whole = (mib * MiB) / median(runs.map((r) => r.seconds)) / MiB;
    const body = (mib * MiB) / median(runs.map((r) => r.bodySeconds)) / MiB;
    const off = (rate) => `${rate >= capMib ? '+' : ''}${((rate / capMib - 1) * 100).toFixed(1)} %`;
    report.push(
      `  ${mib} MiB at ${capMib} MiB/s: body ${body.toFixed(2)} MiB/s (${off(body)}), whole call ${whole.toFixed(2)} MiB/s (${off(whole)}); goal within ±5 %`,
    );
    rmSync(file, { force: true });
  }
} finally {
  await proxy?.stop();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
  rmSync(capDir, { recursive: true, force: true });
}
console.log(report.join('\n'));
