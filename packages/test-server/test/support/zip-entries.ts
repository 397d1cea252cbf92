// Reading a .fw's entries the way fwup walks them, for tests: local header, data to the end of its deflate
// stream, data descriptor.
import { inflateRawSync } from 'node:zlib';

export interface LocalEntry {
  readonly name: string;
  readonly header: Buffer;
  readonly method: number;
  readonly data: Buffer;
  readonly descriptor: Buffer;
}

/** The entries as fwup reads them: local header, data (to the end of the deflate stream), data descriptor. */
export function localEntries(archive: Buffer): { entries: LocalEntry[]; directoryAt: number } {
  const entries: LocalEntry[] = [];
  let at = 0;
  while (archive.readUInt32LE(at) === 0x04034b50) {
    const nameLength = archive.readUInt16LE(at + 26);
    const dataAt = at + 30 + nameLength + archive.readUInt16LE(at + 28);
    const method = archive.readUInt16LE(at + 8);
    const dataLength =
      method === 0
        ? archive.readUInt32LE(at + 22)
        : (
            inflateRawSync(archive.subarray(dataAt), { info: true }) as unknown as {
              engine: { bytesWritten: number };
            }
          ).engine.bytesWritten;
    entries.push({
      name: archive.toString('latin1', at + 30, at + 30 + nameLength),
      header: archive.subarray(at, dataAt),
      method,
      data: archive.subarray(dataAt, dataAt + dataLength),
      descriptor: archive.subarray(dataAt + dataLength, dataAt + dataLength + 16),
    });
    at = dataAt + dataLength + 16;
  }
  return { entries, directoryAt: at };
}

/** An entry's uncompressed bytes. */
export function entryData(archive: Buffer, name: string): Buffer {
  const entry = localEntries(archive).entries.find((candidate) => candidate.name === name);
  if (!entry) throw new Error(`no entry ${name}`);
  return entry.method === 8 ? inflateRawSync(entry.data) : Buffer.from(entry.data);
}
