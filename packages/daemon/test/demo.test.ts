// `pnpm demo` as a newcomer runs it, piped into a file or a pager: plain text, a whole cycle, nothing left behind.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const DEMO = fileURLToPath(new URL('../scripts/demo.mjs', import.meta.url));

const demo = (env: Record<string, string>) => run(process.execPath, [DEMO], env);

async function run(
  command: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  const child = spawn(command, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    output += chunk;
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    output += chunk;
  });
  const [code] = await once(child, 'exit');
  return { code: code as number | null, output };
}

it('piped: plain text, the whole cycle, and its temporary folder named only as removed', async () => {
  const { code, output } = await demo({});
  expect(code, output).toBe(0);
  expect(output).not.toContain('\x1b');
  expect(output).toContain(
    '[demo] statuses the server saw: received → rescheduled → received → started → completed',
  );
  // After the reboot the new slot joins unvalidated, passes its health check and is validated: the page says so.
  expect(output).toMatch(
    /\[demo\] rebooted: the bootloader .* starts slot b, firmware 2\.0\.0, not validated yet/,
  );
  expect(output).toContain('is validated (validation.command); told NervesHub');
  expect(output).toMatch(
    /\[demo\] NervesHub's record after the join: firmware b1d19973… 2\.0\.0 \(Validated\)/,
  );
  const lines = output.trimEnd().split('\n');
  const removed = /^\[demo\] removed (\S+), where everything above was written/.exec(lines.at(-1)!);
  expect(removed, lines.at(-1)).not.toBeNull();
  const folder = removed![1]!;
  expect(existsSync(folder)).toBe(false);
  // The demo's own lines name no file in it; only the daemon's log does, and the last line says it is gone.
  expect(lines.slice(0, -1).filter((line) => line.startsWith('[demo]') && line.includes(folder))).toEqual([]);
}, 60_000);

// On a terminal (a pseudo-terminal from util-linux's `script`), bold; under NO_COLOR, not.
const script = spawnSync('script', ['--version']).error === undefined;
it.skipIf(!script)(
  'on a terminal: bold [demo] tags, none under NO_COLOR',
  async () => {
    const onTerminal = (env: Record<string, string>) =>
      run('script', ['-qec', `${process.execPath} ${DEMO}`, '/dev/null'], env);
    const bold = await onTerminal({});
    expect(bold.code, bold.output).toBe(0);
    expect(bold.output).toContain('\x1b[1m[demo]\x1b[0m');
    const plain = await onTerminal({ NO_COLOR: '1' });
    expect(plain.code, plain.output).toBe(0);
    expect(plain.output).not.toContain('\x1b[1m');
    expect(plain.output).toContain('[demo] statuses the server saw:');
  },
  60_000,
);
