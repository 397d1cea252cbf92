/**
 * Reading fwup `.fw` archives (zip files) the way fwup does: front to back through the local headers, so a
 * truncated download fails where fwup would. Only stored and deflated entries occur in `.fw` files.
 */
import { open } from 'node:fs/promises';
import { crc32, inflateRawSync } from 'node:zlib';
import { Blake2b } from './blake2b.js';

export interface FwEntry {
  readonly name: string;
  /** 0 stored, 8 deflated. */
  readonly method: number;
  readonly crc32: number;
  readonly compressedSize: number;
  readonly size: number;
  /** Offset of the entry's data in the file. */
  readonly dataOffset: number;
}

export interface FwArchive {
  readonly path: string;
  readonly fileSize: number;
  readonly entries: readonly FwEntry[];
  /** Why the walk stopped early, for a damaged or truncated file (fwup's own wording). */
  readonly problem: string | undefined;
  /** The entry's uncompressed bytes; throws with fwup's wording if it cannot be inflated. */
  read(entry: FwEntry): Promise<Buffer>;
}

const LOCAL_HEADER = 0x04034b50;
const DATA_DESCRIPTOR = 0x08074b50;
const HEAD_BYTES = 1024 * 1024;

/** Walks the local headers of `path`. Never throws for a damaged archive: see `problem`. */
export async function readFwArchive(path: string): Promise<FwArchive> {
  const handle = await open(path, 'r');
  try {
    const { size: fileSize } = await handle.stat();
    const entries: FwEntry[] = [];
    let problem: string | undefined;
    let offset = 0;
    while (offset + 30 <= fileSize) {
      const header = await readAt(handle, offset, 30);
      if (header.readUInt32LE(0) !== LOCAL_HEADER) break;
      const flags = header.readUInt16LE(6);
      const method = header.readUInt16LE(8);
      let crc = header.readUInt32LE(14);
      let compressedSize = header.readUInt32LE(18);
      let size = header.readUInt32LE(22);
      const nameLength = header.readUInt16LE(26);
      const extraLength = header.readUInt16LE(28);
      const name = (await readAt(handle, offset + 30, nameLength)).toString('utf8');
      const dataOffset = offset + 30 + nameLength + extraLength;
      const sizesLater = (flags & 0x08) !== 0 && compressedSize === 0;
      if (sizesLater) {
        if (method !== 8) {
          problem = 'ZIP decompression failed (-5)';
          break;
        }
        // Sizes come after the data: inflate to find where the deflate stream ends.
        const available = await readAt(handle, dataOffset, Math.min(HEAD_BYTES, fileSize - dataOffset));
        try {
          const { buffer, engine } = inflateRawSync(available, { info: true }) as unknown as {
            buffer: Buffer;
            engine: { bytesWritten: number };
          };
          compressedSize = engine.bytesWritten;
          size = buffer.length;
        } catch {
          problem =
            fileSize - dataOffset < 200 ? `Unexpected ${name} size: 0` : 'ZIP decompression failed (-5)';
          break;
        }
      }
      if (dataOffset + compressedSize > fileSize) {
        problem = 'ZIP decompression failed (-5)';
        entries.push({ name, method, crc32: crc, compressedSize, size, dataOffset });
        break;
      }
      offset = dataOffset + compressedSize;
      if ((flags & 0x08) !== 0) {
        // The data descriptor holds the CRC the writer computed; checking against it is what catches damage.
        const descriptor = await readAt(handle, offset, 16);
        const skip = descriptor.length >= 4 && descriptor.readUInt32LE(0) === DATA_DESCRIPTOR ? 4 : 0;
        if (descriptor.length < skip + 12) {
          problem = 'ZIP decompression failed (-5)';
          entries.push({ name, method, crc32: crc, compressedSize, size, dataOffset });
          break;
        }
        crc = descriptor.readUInt32LE(skip);
        offset += skip + 12;
      }
      entries.push({ name, method, crc32: crc, compressedSize, size, dataOffset });
    }
    if (entries.length === 0 && problem === undefined) problem = 'Unrecognized archive format';
    return {
      path,
      fileSize,
      entries,
      problem,
      read: (entry) => readEntry(path, entry),
    };
  } finally {
    await handle.close();
  }
}

async function readEntry(path: string, entry: FwEntry): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const raw = await readAt(handle, entry.dataOffset, entry.compressedSize);
    if (raw.length < entry.compressedSize) throw new Error('ZIP decompression failed (-5)');
    let data: Buffer;
    try {
      data = entry.method === 8 ? inflateRawSync(raw) : raw;
    } catch {
      throw new Error('ZIP decompression failed (-5)');
    }
    const actual = crc32(data) >>> 0;
    if (actual !== entry.crc32 >>> 0) {
      throw new Error(`ZIP bad CRC: 0x${hex32(actual)} should be 0x${hex32(entry.crc32 >>> 0)}`);
    }
    return data;
  } finally {
    await handle.close();
  }
}

async function readAt(handle: import('node:fs/promises').FileHandle, position: number, length: number) {
  const buffer = Buffer.alloc(Math.max(0, length));
  const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
  return buffer.subarray(0, bytesRead);
}

function hex32(value: number): string {
  return value.toString(16).padStart(8, '0');
}

export interface MetaConf {
  /** `meta-*` values, unquoted (`meta-product` → `demo`). */
  readonly meta: Readonly<Record<string, string>>;
  /** `file-resource` blocks: name, length and BLAKE2b-256. */
  readonly resources: readonly { name: string; length: number; blake2b256: string }[];
  /** Task names in file order. */
  readonly tasks: readonly string[];
}

/** Parses the subset of fwup's meta.conf syntax that archives carry. */
export function parseMetaConf(text: string): MetaConf {
  const meta: Record<string, string> = {};
  for (const match of text.matchAll(/^(meta-[a-z-]+)\s*=\s*("((?:[^"\\]|\\.)*)"|(\S*))\s*$/gm)) {
    meta[match[1]!] = match[3] !== undefined ? match[3].replace(/\\(.)/g, '$1') : (match[4] ?? '');
  }
  const resources = [...text.matchAll(/file-resource\s+"?([^"\s{]+)"?\s*\{([^}]*)\}/g)].map((match) => ({
    name: match[1]!,
    length: Number(/length\s*=\s*(\d+)/.exec(match[2]!)?.[1] ?? 0),
    blake2b256: /blake2b-256\s*=\s*"?([0-9a-f]+)/.exec(match[2]!)?.[1] ?? '',
  }));
  const tasks = [...text.matchAll(/^task\s+"?([^"\s{]+)"?\s*\{/gm)].map((match) => match[1]!);
  return { meta, resources, tasks };
}

const UUID_NAMESPACE = Buffer.from('2053dffbd51e4310b93b956da89f9f34', 'hex');

/** fwup's `meta-uuid`: BLAKE2b-256 over a namespace and the exact meta.conf bytes, version nibble 5. */
export function fwupMetaUuid(metaConf: Uint8Array): string {
  const digest = new Blake2b(32).update(UUID_NAMESPACE).update(metaConf).digest().subarray(0, 16);
  digest[6] = (digest[6]! & 0x0f) | 0x50;
  const hex = digest.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
