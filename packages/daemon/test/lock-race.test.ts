// Many daemons starting at once on one data_dir: exactly one may get the lock, whether there is no lock, a
// stale one left by a dead process, or one that holds no pid. Forty processes, each a script named
// nerves-hub-link.mjs (so each takes the others for live daemons), run the built lock code; every trial they
// are told to go at the same moment, and each says whether it won. Needs the build (dist/).
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const LOCK_MODULE = fileURLToPath(new URL('../dist/local/lock.js', import.meta.url));
const RACERS = 40;
const TRIALS = 15;

// One racer: for each "go <dir>" line it takes the lock of <dir> and says "won" or "lost <code>"; on "release"
// it lets go and says "released".
const RACER = `
import { createInterface } from 'node:readline';
const { acquireLock } = await import(${JSON.stringify(pathToFileURL(LOCK_MODULE).href)});
let lock;
const lines = createInterface({ input: process.stdin });
console.log('ready');
for await (const line of lines) {
  if (line.startsWith('go ')) {
    try {
      lock = acquireLock(line.slice(3), { warn() {} });
      console.log('won');
    } catch (error) {
      console.log('lost ' + (error.code ?? error.message));
    }
  } else if (line === 'release') {
    lock?.release();
    lock = undefined;
    console.log('released');
  }
}
`;

interface Racer {
  readonly child: ChildProcess;
  next(): Promise<string>;
}

let root: string;
const racers: Racer[] = [];

function startRacer(script: string): Racer {
  const child = spawn(process.execPath, [script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const queue: string[] = [];
  const waiting: Array<(line: string) => void> = [];
  lines.on('line', (line) => {
    const waiter = waiting.shift();
    if (waiter) waiter(line);
    else queue.push(line);
  });
  return {
    child,
    next: () =>
      queue.length > 0 ? Promise.resolve(queue.shift()!) : new Promise((resolve) => waiting.push(resolve)),
  };
}

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await once(child, 'exit');
  return child.pid!;
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'nhl-lock-race-'));
  const script = join(root, 'nerves-hub-link.mjs');
  writeFileSync(script, RACER);
  for (let i = 0; i < RACERS; i++) racers.push(startRacer(script));
  for (const racer of racers) expect(await racer.next()).toBe('ready');
}, 60_000);

afterAll(async () => {
  for (const racer of racers) racer.child.stdin!.end();
  await Promise.all(racers.map((racer) => once(racer.child, 'exit')));
  rmSync(root, { recursive: true, force: true });
});

describe(`${RACERS} daemons starting at once on one data_dir`, () => {
  it(`exactly one gets the lock, in each of ${TRIALS} trials`, async () => {
    const outcomes: string[] = [];
    for (let trial = 0; trial < TRIALS; trial++) {
      const dataDir = join(root, `trial-${trial}`);
      mkdirSync(dataDir);
      // No lock; a stale lock of a dead process; a lock that holds no pid.
      if (trial % 3 === 1) writeFileSync(join(dataDir, 'nerves-hub-link.lock'), `${await deadPid()}\n`);
      if (trial % 3 === 2) writeFileSync(join(dataDir, 'nerves-hub-link.lock'), '');
      for (const racer of racers) racer.child.stdin!.write(`go ${dataDir}\n`);
      const answers = await Promise.all(racers.map((racer) => racer.next()));
      const winners = racers.filter((_, index) => answers[index] === 'won');
      outcomes.push(`trial ${trial}: ${winners.length} won`);
      expect(answers.filter((answer) => answer !== 'won')).toEqual(
        Array.from({ length: RACERS - winners.length }, () => 'lost DAEMON_LOCKED'),
      );
      if (winners.length === 1) {
        expect(readFileSync(join(dataDir, 'nerves-hub-link.lock'), 'utf8')).toBe(
          `${winners[0]!.child.pid}\n`,
        );
      }
      for (const racer of racers) racer.child.stdin!.write('release\n');
      expect(await Promise.all(racers.map((racer) => racer.next()))).toEqual(racers.map(() => 'released'));
    }
    expect(outcomes).toEqual(Array.from({ length: TRIALS }, (_, trial) => `trial ${trial}: 1 won`));
  }, 120_000);
});
