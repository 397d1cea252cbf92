/**
 * `fwup -V` (fwup src/fwup_verify.c @6f3bf79): reads the whole archive front to back, checking the signature
 * (with -p), every entry's zip CRC and sizes, and every resource's length and BLAKE2b-256; writes nothing, no
 * progress; one OK or ER message, no newline on stderr.
 */
import type { KeyObject } from 'node:crypto';
import { Blake2b } from '../firmware-host/blake2b.js';
import { openFwArchive } from './archive.js';
import { FwupError } from './functions.js';
import type { Output } from './output.js';
import type { ZipStream } from './zip-stream.js';

export function verifyArchive(input: string | undefined, keys: readonly KeyObject[], out: Output): never {
  try {
    if (input === undefined) throw new FwupError('Specify an input firmware file');
    const { zip, config, signed } = openFwArchive(input, keys);
    const processed = new Set<string>();
    for (;;) {
      let entry: ReturnType<ZipStream['nextHeader']>;
      try {
        entry = zip.nextHeader();
      } catch {
        break;
      }
      if (!entry) break;
      const name = entry.name.startsWith('data/') ? entry.name.slice(5) : `/${entry.name}`;
      if (name === '') continue;
      const resource = config.resources.get(name);
      if (!resource) throw new FwupError(`Can't find file-resource for ${name}`);
      if (processed.has(name)) throw new FwupError(`Processing ${name} twice. Archive is corrupt.`);
      processed.add(name);
      const expected = resource.lengths.reduce(
        (sum, length, index) => (index % 2 === 0 ? sum + length : sum),
        0,
      );
      if (entry.sizeIsSet && entry.size !== expected) {
        throw new FwupError(
          resource.lengths.length === 1
            ? `fake fwup: '${name}' looks like an xdelta3 patch, which is not implemented`
            : `ZIP local header length mismatch for ${name}`,
        );
      }
      const hash = new Blake2b(32);
      let length = 0;
      for (;;) {
        let data: Buffer | undefined;
        try {
          data = zip.readDataBlock();
        } catch (error) {
          throw new FwupError((error as Error).message);
        }
        if (data === undefined) break;
        hash.update(data);
        length += data.length;
      }
      if (length !== expected) throw new FwupError(`ZIP data length mismatch for ${name}`);
      if (resource.blake2b256?.length !== 64) throw new FwupError(`invalid blake2b-256 hash for '${name}'`);
      if (hash.digest().toString('hex') !== resource.blake2b256) {
        throw new FwupError(`Detected blake2b digest mismatch for ${name}`);
      }
    }
    for (const name of config.resources.keys()) {
      if (!processed.has(name)) throw new FwupError(`Resource ${name} not found in archive`);
    }
    out.succeed(
      keys.length > 0 && signed
        ? 'Valid archive with a good signature\n'
        : signed
          ? 'Valid archive with an unverified signature. Specify a public key to authenticate.\n'
          : 'Valid archive without a signature\n',
    );
  } catch (error) {
    if (error instanceof FwupError) out.fail(error.message);
    throw error;
  }
}
