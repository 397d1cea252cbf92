/**
 * Phoenix Channels V2 JSON serializer (`vsn=2.0.0`): one text frame holds `[join_ref, ref, topic, event, payload]`.
 * Pure: no sockets, no timers, no side effects on import.
 */
import { isUtf8 } from 'node:buffer';
import { DEFAULT_MAX_FRAME_BYTES } from './constants.js';
import { PhoenixChannelError } from './errors.js';

/** One Phoenix message. `joinRef` and `ref` are strings or `null`; `payload` is any JSON value. */
export interface Message {
  joinRef: string | null;
  ref: string | null;
  topic: string;
  event: string;
  payload: unknown;
}

export interface DecodeOptions {
  /**
   * Frames longer than this many UTF-8 bytes are refused with `PHX_DECODE_FAILED`.
   * @default 1048576
   */
  readonly maxBytes?: number;
}

/** Encodes a message into the text of one WebSocket frame. Throws `PHX_ENCODE_FAILED` on a bad field or payload. */
export function encode(message: Message): string {
  checkFields(message.joinRef, message.ref, message.topic, message.event);
  let text: string;
  try {
    // One stringify of the whole array is faster than stringifying the five parts and joining them.
    text = JSON.stringify([message.joinRef, message.ref, message.topic, message.event, message.payload]);
  } catch (error) {
    throw new PhoenixChannelError('PHX_ENCODE_FAILED', 'payload cannot be encoded as JSON', { cause: error });
  }
  return text;
}

/**
 * JSON text of a payload, for `encodeFrame`. `undefined` (and anything else JSON has no value for) becomes `null`,
 * as inside a JSON array. Throws `PHX_ENCODE_FAILED` for values JSON cannot hold (BigInt, cycles).
 */
export function encodePayload(payload: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(payload);
  } catch (error) {
    throw new PhoenixChannelError('PHX_ENCODE_FAILED', 'payload cannot be encoded as JSON', { cause: error });
  }
  return json === undefined ? 'null' : json;
}

/** Frame text from its fields and an already encoded payload (see `encodePayload`). */
export function encodeFrame(
  joinRef: string | null,
  ref: string | null,
  topic: string,
  event: string,
  payloadJson: string,
): string {
  checkFields(joinRef, ref, topic, event);
  return `[${joinRef === null ? 'null' : JSON.stringify(joinRef)},${ref === null ? 'null' : JSON.stringify(ref)},${JSON.stringify(topic)},${JSON.stringify(event)},${payloadJson}]`;
}

/**
 * Decodes the data of one text frame. Throws `PHX_DECODE_FAILED` if it is too large, not UTF-8, not JSON,
 * not a 5-element array, or has a field of the wrong type. The message never quotes the frame.
 */
export function decode(
  data: string | Buffer | ArrayBuffer | Uint8Array | readonly Uint8Array[],
  options?: DecodeOptions,
): Message {
  const maxBytes = options?.maxBytes ?? DEFAULT_MAX_FRAME_BYTES;
  const text = frameText(data, maxBytes);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // The SyntaxError quotes the frame, which may hold secrets (signed URLs): it is not kept as `cause`.
    throw decodeError('frame is not valid JSON');
  }
  if (!Array.isArray(parsed) || parsed.length !== 5) {
    throw decodeError('frame is not a 5-element array');
  }
  const joinRef: unknown = parsed[0];
  const ref: unknown = parsed[1];
  const topic: unknown = parsed[2];
  const event: unknown = parsed[3];
  if (joinRef !== null && typeof joinRef !== 'string') throw decodeError('join_ref is not a string or null');
  if (ref !== null && typeof ref !== 'string') throw decodeError('ref is not a string or null');
  if (typeof topic !== 'string') throw decodeError('topic is not a string');
  if (typeof event !== 'string') throw decodeError('event is not a string');
  return { joinRef, ref, topic, event, payload: parsed[4] };
}

function frameText(
  data: string | Buffer | ArrayBuffer | Uint8Array | readonly Uint8Array[],
  maxBytes: number,
): string {
  if (typeof data === 'string') {
    // A UTF-16 code unit takes 1 to 3 UTF-8 bytes: only count bytes when the length leaves it open.
    if (data.length > maxBytes || (data.length * 3 > maxBytes && Buffer.byteLength(data) > maxBytes)) {
      throw oversized(Buffer.byteLength(data), maxBytes);
    }
    return data;
  }
  let bytes: Uint8Array;
  if (data instanceof Uint8Array) {
    bytes = data;
  } else if (data instanceof ArrayBuffer) {
    bytes = new Uint8Array(data);
  } else if (Array.isArray(data)) {
    let total = 0;
    for (const chunk of data) {
      if (!(chunk instanceof Uint8Array)) throw decodeError('frame fragment is not a Buffer');
      total += chunk.byteLength;
    }
    if (total > maxBytes) throw oversized(total, maxBytes);
    bytes = Buffer.concat(data as Uint8Array[], total);
  } else {
    throw decodeError('frame data is not a string or bytes');
  }
  if (bytes.byteLength > maxBytes) throw oversized(bytes.byteLength, maxBytes);
  if (!isUtf8(bytes)) throw decodeError('frame is not valid UTF-8');
  const buffer = Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return buffer.toString('utf8');
}

function checkFields(joinRef: unknown, ref: unknown, topic: unknown, event: unknown): void {
  if (joinRef !== null && typeof joinRef !== 'string') throw fieldError('joinRef', 'a string or null');
  if (ref !== null && typeof ref !== 'string') throw fieldError('ref', 'a string or null');
  if (typeof topic !== 'string') throw fieldError('topic', 'a string');
  if (typeof event !== 'string') throw fieldError('event', 'a string');
}

function oversized(size: number, maxBytes: number): PhoenixChannelError {
  return decodeError(`frame of ${size} bytes exceeds the limit of ${maxBytes} bytes`);
}

function decodeError(message: string): PhoenixChannelError {
  return new PhoenixChannelError('PHX_DECODE_FAILED', message);
}

function fieldError(field: string, expected: string): PhoenixChannelError {
  return new PhoenixChannelError('PHX_ENCODE_FAILED', `message ${field} must be ${expected}`);
}
