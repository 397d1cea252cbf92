/** The files named on the command line, checked before the server starts, each problem in one sentence. */
import { readFile, stat } from 'node:fs/promises';
import { readFwArchive } from '../firmware-host/fw-archive.js';
import { CliError } from './cli-error.js';

/** Throws a CliError unless `path` is a fwup archive: a zip whose entries start with `meta.conf`. */
export async function checkFirmwareFile(path: string): Promise<void> {
  await checkRegularFile(path, 'firmware');
  const archive = await readFwArchive(path).catch(() => undefined);
  const hasMeta = archive?.entries.some((entry) => entry.name === 'meta.conf') ?? false;
  if (!hasMeta) {
    throw new CliError(
      `${path} is not a fwup archive (.fw): it has no meta.conf${archive?.problem ? ` (fwup: ${archive.problem})` : ''}. ` +
        'Build one with fwup -c, or start without a file to serve the bundled example',
    );
  }
}

/** The base64 Ed25519 key of an fwup `.pub` file; a CliError names the file and what is wrong with it. */
export async function readPublicKeyFile(path: string): Promise<string> {
  await checkRegularFile(path, 'public key');
  const key = (await readFile(path, 'utf8')).trim();
  if (!/^[A-Za-z0-9+/]{43}=$/.test(key) || Buffer.from(key, 'base64').length !== 32) {
    throw new CliError(
      `${path} is not an fwup public key: expected the one line of a .pub file made by fwup -g ` +
        '(the base64 of a 32-byte Ed25519 key)',
    );
  }
  return key;
}

async function checkRegularFile(path: string, what: string): Promise<void> {
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
    throw new CliError(
      error.code === 'ENOENT'
        ? `${what} file ${path}: no such file`
        : `${what} file ${path} cannot be read (${error.code ?? error.message})`,
    );
  });
  if (!info.isFile()) throw new CliError(`${what} file ${path} is not a regular file`);
}
