// The root README's "Try it by hand" section, run as written: its commands are read from README.md here, so the
// README cannot drift from what works. The one change: the `--dir` folder is a fresh temporary one. The setup
// block (pnpm install, pnpm build) is what the test run itself stands on, so it is checked, not run.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Output } from './support/output.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const scratch = mkdtempSync(join(tmpdir(), 'readme-by-hand-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The `sh` blocks of the section, in order. */
function sectionBlocks(heading: string): string[] {
  const start = readme.indexOf(`\n${heading}\n`);
  if (start === -1) throw new Error(`README.md has no "${heading}" section`);
  const rest = readme.slice(start + heading.length + 2);
  const section = rest.slice(0, rest.search(/\n#{1,3} /) === -1 ? undefined : rest.search(/\n#{1,3} /));
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1]!);
}

/** The command lines of a block: no blank lines, no comments. */
const commandLines = (block: string) =>
  block
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));

interface Run {
  readonly code: number | null;
  readonly output: string;
}

function sh(command: string, onStart?: (child: ChildProcess) => void): Promise<Run> {
  // Its own process group, so that stopping it stops whatever the shell started.
  const child = spawn('sh', ['-c', command], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk;
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  onStart?.(child);
  return once(child, 'exit').then(([code]) => ({ code: code as number | null, output }));
}

describe('README: Try it by hand', () => {
  it('completes an update with mTLS and with a shared secret, exactly as written', async () => {
    const blocks = sectionBlocks('### Try it by hand');
    expect(blocks).toHaveLength(3);
    const [setup, serverBlock, daemonBlock] = blocks.map(commandLines) as [string[], string[], string[]];
    expect(setup.join('\n')).toMatch(/pnpm install --frozen-lockfile && pnpm build/);

    expect(serverBlock).toHaveLength(1);
    const dirOption = /--dir (\S+)/.exec(serverBlock[0]!)?.[1];
    expect(dirOption, 'the server command names its --dir').toBeDefined();
    const dir = join(scratch, 'try');
    const local = (line: string) => line.replaceAll(dirOption!, dir);
    expect(daemonBlock).toHaveLength(2);
    expect(daemonBlock.every((line) => line.includes(dirOption!))).toBe(true);

    let server: ChildProcess | undefined;
    const printed = new Output();
    const serverExit = sh(local(serverBlock[0]!), (child) => {
      server = child;
      child.stdout!.on('data', (chunk: Buffer) => printed.append(chunk.toString()));
    });
    try {
      await printed.waitFor(/device pages are kept in/);
      // The commands the server prints are the README's.
      for (const line of daemonBlock) expect(printed.text()).toContain(`  ${local(line)}\n`);

      for (const [index, line] of daemonBlock.entries()) {
        const run = await sh(local(line));
        expect(run.code, run.output).toBe(0);
        expect(run.output).toContain('would reboot now');
        expect(run.output).toMatch(/download finished .*percent=100/);
        // The printed config's download.max_rate keeps the live progress line on screen for a few seconds, and
        // the rate shown never goes above it.
        const finished = /download finished .* rate=(\d+)(?: capped=true)? seconds=([\d.]+)/.exec(run.output);
        expect(finished, run.output).not.toBeNull();
        expect(Number(finished![1])).toBeLessThanOrEqual(64 * 1024);
        expect(Number(finished![2])).toBeGreaterThanOrEqual(2);
        expect(run.output).toMatch(/apply finished .*percent=100/);
        const config = readFileSync(/--config (\S+)/.exec(local(line))![1]!, 'utf8');
        expect(config).toContain(index === 0 ? 'method = "mtls"' : 'method = "shared_secret"');
        const identifier = /^serial = "(.*)"$/m.exec(config)![1]!;
        const statuses = readFileSync(join(dir, 'events.jsonl'), 'utf8')
          .trim()
          .split('\n')
          .map((entry) => JSON.parse(entry))
          .filter((entry) => entry.identifier === identifier && entry.event === 'status_update')
          .map((entry) => entry.payload.status);
        expect(statuses).toEqual(['received', 'started', 'completed']);
      }
    } finally {
      if (server?.pid) process.kill(-server.pid, 'SIGTERM');
      await serverExit;
    }
  }, 90_000);
});
