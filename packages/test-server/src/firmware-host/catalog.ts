/** Firmware files known to the host: hashes and metadata computed once when added. */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { fwupMetaUuid, parseMetaConf, readFwArchive } from './fw-archive.js';
import type { FirmwareFile, FirmwareMeta } from './types.js';

const PART_BYTES = 1024 * 1024;

/** Reads `path`: SHA-256 and 1 MiB part hashes in one streaming pass, meta from the archive's meta.conf. */
export async function describeFirmware(path: string): Promise<FirmwareFile> {
  const { size } = await stat(path);
  const whole = createHash('sha256');
  const parts: string[] = [];
  let part = createHash('sha256');
  let inPart = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: PART_BYTES })) {
    const data = chunk as Buffer;
    whole.update(data);
    let offset = 0;
    while (offset < data.length) {
      const take = Math.min(PART_BYTES - inPart, data.length - offset);
      part.update(data.subarray(offset, offset + take));
      inPart += take;
      offset += take;
      if (inPart === PART_BYTES) {
        parts.push(part.digest('hex').toUpperCase());
        part = createHash('sha256');
        inPart = 0;
      }
    }
  }
  if (inPart > 0) parts.push(part.digest('hex').toUpperCase());
  const meta = await readMeta(path);
  const checksum = whole.digest('hex').toUpperCase();
  return {
    // Two files may carry the same meta.conf (a corrupt copy, a re-signed archive): the content names the file.
    id: checksum.slice(0, 16).toLowerCase(),
    path,
    size,
    checksum,
    partialsChecksums: parts,
    meta,
  };
}

/** The target metadata NervesHub would send, from meta.conf; a file that is not a .fw gets placeholders. */
async function readMeta(path: string): Promise<FirmwareMeta> {
  const archive = await readFwArchive(path).catch(() => undefined);
  const entry = archive?.entries.find((candidate) => candidate.name === 'meta.conf');
  if (archive && entry) {
    const bytes = await archive.read(entry);
    const { meta } = parseMetaConf(bytes.toString('utf8'));
    return {
      architecture: meta['meta-architecture'] ?? '',
      author: meta['meta-author'] ?? '',
      description: meta['meta-description'] ?? '',
      misc: meta['meta-misc'] ?? '',
      platform: meta['meta-platform'] ?? '',
      product: meta['meta-product'] ?? '',
      uuid: fwupMetaUuid(bytes),
      vcs_identifier: meta['meta-vcs-identifier'] ?? '',
      version: meta['meta-version'] ?? '',
    };
  }
  return {
    architecture: 'unknown',
    author: '',
    description: `not a fwup archive: ${basename(path)}`,
    misc: '',
    platform: 'unknown',
    product: 'unknown',
    uuid: randomUUID(),
    vcs_identifier: '',
    version: '0.0.0',
  };
}
