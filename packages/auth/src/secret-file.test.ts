import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSecretFile } from './secret-file.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'auth-secret-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function secretFile(name: string, content: string, mode = 0o600): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  await chmod(path, mode);
  return path;
}

describe('readSecretFile', () => {
  it('removes one trailing newline', async () => {
    const path = await secretFile('lf', 'c2VjcmV0\n');
    expect(await readSecretFile(path)).toEqual({ secret: 'c2VjcmV0', warnings: [] });
  });

  it('removes one trailing CRLF', async () => {
    const path = await secretFile('crlf', 'c2VjcmV0\r\n');
    expect((await readSecretFile(path)).secret).toBe('c2VjcmV0');
  });

  it('removes only one newline and keeps other whitespace', async () => {
    const path = await secretFile('two', ' s e\n\n');
    expect((await readSecretFile(path)).secret).toBe(' s e\n');
  });

  it('reads a file without a newline as is', async () => {
    const path = await secretFile('plain', 'abc');
    expect((await readSecretFile(path)).secret).toBe('abc');
  });

  it('warns when group or others can read the file, without the secret', async () => {
    const path = await secretFile('open', 'very-secret\n', 0o644);
    const warned: string[] = [];
    const result = await readSecretFile(path, { logger: { warn: (message) => warned.push(message) } });
    expect(result.secret).toBe('very-secret');
    expect(result.warnings).toHaveLength(1);
    expect(result.warnings[0]).toContain('chmod 600');
    expect(warned).toEqual(result.warnings);
    expect(warned.join('')).not.toContain('very-secret');
  });

  it('warns for group-readable files', async () => {
    const path = await secretFile('group', 'x', 0o640);
    expect((await readSecretFile(path)).warnings).toHaveLength(1);
  });

  it('fails with `AUTH_SECRET_UNREADABLE` for a missing file', async () => {
    await expect(readSecretFile(join(dir, 'missing'))).rejects.toMatchObject({
      code: 'AUTH_SECRET_UNREADABLE',
    });
  });

  it('fails with `AUTH_SECRET_UNREADABLE` for a directory', async () => {
    await expect(readSecretFile(dir)).rejects.toMatchObject({ code: 'AUTH_SECRET_UNREADABLE' });
  });

  it('fails with `AUTH_SECRET_EMPTY` for an empty file or a lone newline', async () => {
    await expect(readSecretFile(await secretFile('empty', ''))).rejects.toMatchObject({
      code: 'AUTH_SECRET_EMPTY',
    });
    await expect(readSecretFile(await secretFile('nl', '\n'))).rejects.toMatchObject({
      code: 'AUTH_SECRET_EMPTY',
    });
  });

  it('rejects a non-string path with `AUTH_INVALID_ARGUMENT`', async () => {
    await expect(readSecretFile(undefined as unknown as string)).rejects.toMatchObject({
      code: 'AUTH_INVALID_ARGUMENT',
    });
  });
});
