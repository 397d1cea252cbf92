// Memory per idle connected socket: 1,000 connections in one process against a ws server in another process,
// compared with 1,000 bare ws clients doing the same join, measured in the same run.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const COUNT = Number(process.env.BENCH_SOCKETS ?? 1000);
const GOAL_BYTES = 20 * 1024;
const here = (file) => fileURLToPath(new URL(file, import.meta.url));

const server = spawn(process.execPath, [here('./support/idle-server.mjs')], {
  stdio: ['pipe', 'pipe', 'inherit'],
});
const [portLine] = await once(server.stdout, 'data');
const port = String(portLine).trim();

async function runClients(mode) {
  const child = spawn(
    process.execPath,
    ['--expose-gc', here('./support/idle-clients.mjs'), mode, String(COUNT), port],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  child.stdout.on('data', (chunk) => {
    out += chunk;
  });
  const [code] = await once(child, 'exit');
  if (code !== 0) throw new Error(`${mode} clients exited with ${code}`);
  return JSON.parse(out.trim().split('\n').at(-1));
}

try {
  const results = [];
  for (const mode of ['ws', 'socket', 'socket-deflate']) results.push(await runClients(mode));
  const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`.padStart(9);
  console.log(`memory: ${COUNT} idle joined connections per process (server in another process)`);
  console.log('  per connection beyond the first:   rss       heap   external   heap+ext');
  for (const r of results) {
    const p = r.perExtra;
    const label = {
      ws: 'bare ws client (baseline)',
      socket: 'Socket + joined Channel',
      'socket-deflate': 'same, perMessageDeflate: true',
    }[r.mode];
    console.log(
      `  ${label.padEnd(32)} ${kb(p.rss)} ${kb(p.heapUsed)} ${kb(p.external)} ${kb(p.heapUsed + p.external)}`,
    );
  }
  const [bare, ours] = results;
  const oursTotal = ours.perExtra.heapUsed + ours.perExtra.external;
  const bareTotal = bare.perExtra.heapUsed + bare.perExtra.external;
  console.log(`  ratio Socket/bare ws (heap+ext)  ${(oursTotal / bareTotal).toFixed(2)}x`);
  console.log(`  overhead of Socket over bare ws  ${kb(oursTotal - bareTotal).trim()} heap+ext`);
  console.log(
    `  goal <= 20 KB per socket: rss ${ours.perExtra.rss <= GOAL_BYTES ? 'met' : 'NOT met'}, heap+ext ${oursTotal <= GOAL_BYTES ? 'met' : 'NOT met'}`,
  );
} finally {
  server.stdin.end();
  server.kill();
}
