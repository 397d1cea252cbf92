// The adapter the daemon's commands still use: runProcessGroup's outcome in the words the daemon shows.
import { describe, expect, it } from 'vitest';
import { CommandError, runGroupedCommand } from './grouped-command.js';

describe('runGroupedCommand', () => {
  it('reports the exit status with the last line of stderr, escaped', async () => {
    const error = await runGroupedCommand(['sh', '-c', `echo one >&2; printf 'two\\033[2J\\n' >&2; exit 4`], {
      timeoutMs: 5_000,
    }).catch((e) => e);
    expect(error).toBeInstanceOf(CommandError);
    expect(error).toMatchObject({ code: 'PROC_EXIT_STATUS', message: 'exited with status 4: two\\x1b[2J' });
  });

  it('says a program is not found, a command timed out, or printed too much', async () => {
    await expect(runGroupedCommand(['/nonexistent/reboot'], { timeoutMs: 5_000 })).rejects.toMatchObject({
      code: 'PROC_NOT_FOUND',
      message: 'program not found',
    });
    await expect(runGroupedCommand(['sleep', '10'], { timeoutMs: 100 })).rejects.toMatchObject({
      code: 'PROC_TIMED_OUT',
      message: 'timed out after 0.1 s',
    });
    await expect(
      runGroupedCommand(['sh', '-c', 'yes'], { timeoutMs: 5_000, maxOutputBytes: 1000 }),
    ).rejects.toMatchObject({ code: 'PROC_OUTPUT_LIMIT', message: 'printed more than 1000 bytes' });
  });

  it('resolves with both outputs of a command that succeeds', async () => {
    await expect(
      runGroupedCommand(['sh', '-c', 'echo out; echo err >&2'], { timeoutMs: 5_000 }),
    ).resolves.toEqual({ stdout: 'out\n', stderr: 'err\n' });
  });
});
