/**
 * The routing fields of a frame that is too large to decode: `[join_ref, ref, topic, event, …` read from its first
 * bytes only, so that the push waiting for an oversized reply can be failed at once instead of at its timeout.
 */

export interface FramePrefix {
  readonly joinRef: string | null;
  readonly ref: string | null;
  readonly topic: string;
  readonly event: string;
}

/** Bytes read from the start of a frame; refs, topics and event names are far shorter. */
const PREFIX_BYTES = 1024;

const STRING = '"(?:[^"\\\\]|\\\\.)*"';
const PREFIX = new RegExp(
  `^\\s*\\[\\s*(null|${STRING})\\s*,\\s*(null|${STRING})\\s*,\\s*(${STRING})\\s*,\\s*(${STRING})\\s*,`,
);

/** Byte length of a frame as ws hands it over. */
export function frameByteLength(data: Buffer | ArrayBuffer | readonly Buffer[]): number {
  if (Array.isArray(data)) return data.reduce((sum: number, chunk: Buffer) => sum + chunk.byteLength, 0);
  return (data as Buffer | ArrayBuffer).byteLength;
}

/** The first four fields of a V2 frame, or undefined when its start is not `[join_ref, ref, topic, event,`. */
export function readFramePrefix(data: Buffer | ArrayBuffer | readonly Buffer[]): FramePrefix | undefined {
  const head = firstBytes(data, PREFIX_BYTES).toString('utf8');
  const match = PREFIX.exec(head);
  if (!match) return undefined;
  try {
    const [joinRef, ref, topic, event] = match.slice(1, 5).map((field) => JSON.parse(field!) as unknown);
    if (typeof topic !== 'string' || typeof event !== 'string') return undefined;
    return {
      joinRef: typeof joinRef === 'string' ? joinRef : null,
      ref: typeof ref === 'string' ? ref : null,
      topic,
      event,
    };
  } catch {
    return undefined;
  }
}

function firstBytes(data: Buffer | ArrayBuffer | readonly Buffer[], count: number): Buffer {
  if (data instanceof ArrayBuffer) return Buffer.from(data, 0, Math.min(count, data.byteLength));
  if (!Array.isArray(data)) return (data as Buffer).subarray(0, count);
  const chunks: Buffer[] = [];
  let total = 0;
  for (const chunk of data as readonly Buffer[]) {
    if (total >= count) break;
    chunks.push(chunk.subarray(0, count - total));
    total += chunks.at(-1)!.byteLength;
  }
  return Buffer.concat(chunks, total);
}
