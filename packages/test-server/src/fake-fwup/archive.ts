/**
 * Opening a `.fw` the way apply and verify do (fwup src/fwup_apply.c `fwup_apply`, src/fwup_verify.c,
 * src/cfgfile.c `cfgfile_parse_fw_ae`, `archive_read_all_data` @6f3bf79): optional `meta.conf.ed25519` first,
 * then `meta.conf` (10 to 49,999 bytes), its signature checked against the given keys, its uuid computed from its
 * exact bytes, then parsed with `${FWUP_META_UUID}` defined. The stream is left at the first resource.
 */
import { type KeyObject, verify } from 'node:crypto';
import { openSync } from 'node:fs';
import { fwupMetaUuid } from '../firmware-host/fw-archive.js';
import { ConfSyntaxError } from './conf.js';
import { FwupError } from './functions.js';
import { type FwConfig, parseFwConfig } from './fw-config.js';
import { BlockSource, ReadAhead } from './read-ahead.js';
import { ArchiveError, type ZipEntry, ZipStream } from './zip-stream.js';

const SIGNATURE_BYTES = 64;
const MAX_META_CONF_BYTES = 50000;

export interface OpenedArchive {
  readonly zip: ZipStream;
  readonly metaConf: Buffer;
  readonly metaEntry: ZipEntry;
  readonly signed: boolean;
  readonly uuid: string;
  readonly config: FwConfig;
}

export function openFwArchive(
  path: string,
  keys: readonly KeyObject[],
  onRead?: (totalBytes: number) => void,
): OpenedArchive {
  let fd: number;
  try {
    fd = openSync(Buffer.from(path, 'latin1'), 'r');
  } catch {
    throw new FwupError(`Failed to open '${path}'`);
  }
  const zip = archiveStep(() => ZipStream.open(new ReadAhead(new BlockSource(fd, onRead))));
  let entry = archiveStep(() => zip.nextHeader());
  let signature: Buffer | undefined;
  if (entry?.name === 'meta.conf.ed25519') {
    signature = readAllData(zip, entry, SIGNATURE_BYTES);
    if (signature.length !== SIGNATURE_BYTES) {
      throw new FwupError(`Unexpected meta.conf.ed25519 size: ${signature.length}`);
    }
    try {
      entry = zip.nextHeader();
    } catch {
      entry = undefined;
    }
    if (!entry) throw new FwupError('Expecting more than meta.conf.ed25519 in archive');
  }
  if (entry?.name !== 'meta.conf')
    throw new FwupError(`Expecting meta.conf to be at the beginning of ${path}`);
  const metaConf = readAllData(zip, entry, MAX_META_CONF_BYTES);
  if (metaConf.length < 10 || metaConf.length >= MAX_META_CONF_BYTES) {
    throw new FwupError(`Unexpected meta.conf size: ${metaConf.length}`);
  }
  if (keys.length > 0) {
    if (!signature) throw new FwupError('Expecting signed firmware archive.');
    if (!keys.some((key) => verify(null, metaConf, key, signature))) {
      throw new FwupError("Firmware archive's meta.conf fails digital signature verification.");
    }
  }
  const uuid = fwupMetaUuid(metaConf);
  let config: FwConfig;
  try {
    config = parseFwConfig(metaConf.toString('latin1'), (name) => {
      if (name === 'FWUP_META_UUID') return uuid;
      if (name === 'FWUP_META_NICKNAME')
        throw new FwupError("fake fwup: FWUP_META_NICKNAME is not implemented (it needs fwup's word list)");
      const value = process.env[name];
      return value === undefined ? undefined : Buffer.from(value, 'utf8').toString('latin1');
    });
  } catch (error) {
    if (error instanceof ConfSyntaxError) throw new FwupError('Unexpected error parsing meta.conf');
    throw error;
  }
  if (config.meta['meta-uuid'] !== undefined && config.meta['meta-uuid'] !== uuid) {
    throw new FwupError(
      "meta.conf isn't allowed to change 'meta-uuid', 'meta-nickname', '$FWUP_META_UUID' or '$FWUP_META_NICKNAME'",
    );
  }
  return { zip, metaConf, metaEntry: entry, signed: signature !== undefined, uuid, config };
}

/**
 * `archive_read_all_data`: up to `maxBytes` (or the size in the local header, if smaller), through one
 * `archive_read_data` call that returns nothing at all when any read in it fails.
 */
export function readAllData(zip: ZipStream, entry: ZipEntry, maxBytes: number): Buffer {
  const wanted = entry.sizeIsSet ? Math.min(maxBytes, entry.size) : maxBytes;
  const pieces: Buffer[] = [];
  let have = 0;
  try {
    while (have < wanted) {
      const block = zip.readDataBlock();
      if (block === undefined) break;
      const used = block.subarray(0, wanted - have);
      pieces.push(Buffer.from(used));
      have += used.length;
    }
  } catch (error) {
    if (error instanceof ArchiveError) return Buffer.alloc(0);
    throw error;
  }
  return Buffer.concat(pieces, have);
}

/** Runs a libarchive step, turning its failure into fwup's message (fwup prints `archive_error_string`). */
export function archiveStep<T>(step: () => T): T {
  try {
    return step();
  } catch (error) {
    if (error instanceof ArchiveError) throw new FwupError(error.message);
    throw error;
  }
}
