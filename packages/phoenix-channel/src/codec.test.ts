import { describe, expect, it } from 'vitest';
import { decode, encode, encodeFrame, encodePayload, type Message } from './codec.js';
import { PhoenixChannelError } from './errors.js';

function decodeError(run: () => unknown): PhoenixChannelError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(PhoenixChannelError);
    return error as PhoenixChannelError;
  }
  throw new Error('expected a PhoenixChannelError');
}

const join: Message = { joinRef: '1', ref: '1', topic: 'device', event: 'phx_join', payload: { a: 1 } };

describe('encode', () => {
  it('writes the five fields as a JSON array', () => {
    expect(encode(join)).toBe('["1","1","device","phx_join",{"a":1}]');
    expect(encode({ joinRef: null, ref: '7', topic: 'phoenix', event: 'heartbeat', payload: {} })).toBe(
      '[null,"7","phoenix","heartbeat",{}]',
    );
  });

  it('escapes strings exactly as JSON.stringify does', () => {
    const message = { joinRef: 'a"b', ref: '\u2028', topic: 't\n', event: '\u{1F600}', payload: 'x\\y' };
    expect(encode(message)).toBe(
      JSON.stringify([message.joinRef, message.ref, message.topic, message.event, message.payload]),
    );
  });

  it('encodes an undefined payload as null', () => {
    expect(encode({ ...join, payload: undefined })).toBe('["1","1","device","phx_join",null]');
  });

  it('throws `PHX_ENCODE_FAILED` for a payload JSON cannot hold', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(decodeError(() => encode({ ...join, payload: cyclic })).code).toBe('PHX_ENCODE_FAILED');
    expect(decodeError(() => encode({ ...join, payload: { n: 1n } })).code).toBe('PHX_ENCODE_FAILED');
  });

  it('throws `PHX_ENCODE_FAILED` for fields of the wrong type', () => {
    const bad = [
      { ...join, joinRef: 1 },
      { ...join, ref: undefined },
      { ...join, topic: null },
      { ...join, event: 5 },
    ] as unknown as Message[];
    for (const message of bad) {
      expect(decodeError(() => encode(message)).code).toBe('PHX_ENCODE_FAILED');
    }
  });
});

describe('encodeFrame', () => {
  it('uses a payload that is already JSON text', () => {
    expect(encodeFrame('1', '2', 'device', 'status_update', encodePayload({ status: 'completed' }))).toBe(
      '["1","2","device","status_update",{"status":"completed"}]',
    );
  });
});

describe('decode', () => {
  const text = '["1","1","device","phx_reply",{"status":"ok","response":{}}]';
  const expected: Message = {
    joinRef: '1',
    ref: '1',
    topic: 'device',
    event: 'phx_reply',
    payload: { status: 'ok', response: {} },
  };

  it('reads a string, a Buffer, an ArrayBuffer, a Uint8Array and Buffer fragments', () => {
    const buffer = Buffer.from(text);
    const arrayBuffer = new ArrayBuffer(buffer.byteLength);
    new Uint8Array(arrayBuffer).set(buffer);
    expect(decode(text)).toEqual(expected);
    expect(decode(buffer)).toEqual(expected);
    expect(decode(arrayBuffer)).toEqual(expected);
    expect(decode(new Uint8Array(buffer))).toEqual(expected);
    expect(decode([buffer.subarray(0, 10), buffer.subarray(10)])).toEqual(expected);
  });

  it('accepts null refs and any JSON payload', () => {
    expect(decode('[null,null,"device","update",[1,"x",null]]')).toEqual({
      joinRef: null,
      ref: null,
      topic: 'device',
      event: 'update',
      payload: [1, 'x', null],
    });
  });

  it.each([
    ['not JSON', 'hello'],
    ['truncated JSON', '["1","1","device"'],
    ['an object', '{"topic":"device"}'],
    ['a 4-element array', '["1","1","device","phx_join"]'],
    ['a 6-element array', '["1","1","device","phx_join",{},{}]'],
    ['a numeric join_ref', '[1,"1","device","phx_join",{}]'],
    ['a numeric ref', '["1",1,"device","phx_join",{}]'],
    ['a null topic', '["1","1",null,"phx_join",{}]'],
    ['an object event', '["1","1","device",{},{}]'],
    ['a JSON string', '"x"'],
    ['JSON null', 'null'],
    ['an empty frame', ''],
  ])('refuses %s with `PHX_DECODE_FAILED`', (_name, frame) => {
    expect(decodeError(() => decode(frame)).code).toBe('PHX_DECODE_FAILED');
  });

  it('refuses bytes that are not UTF-8', () => {
    const bytes = Buffer.concat([
      Buffer.from('["1","1","t","e","'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"]'),
    ]);
    expect(decodeError(() => decode(bytes)).code).toBe('PHX_DECODE_FAILED');
  });

  it('refuses data that is neither text nor bytes', () => {
    expect(decodeError(() => decode(42 as unknown as string)).code).toBe('PHX_DECODE_FAILED');
    expect(decodeError(() => decode(['x'] as unknown as Buffer[])).code).toBe('PHX_DECODE_FAILED');
  });

  it('honors the `maxBytes` option for text, bytes and fragments', () => {
    const frame = `["1","1","t","e","${'x'.repeat(100)}"]`;
    const buffer = Buffer.from(frame);
    expect(decode(frame, { maxBytes: frame.length }).payload).toBe('x'.repeat(100));
    for (const data of [frame, buffer, [buffer.subarray(0, 5), buffer.subarray(5)]]) {
      expect(decodeError(() => decode(data, { maxBytes: frame.length - 1 })).code).toBe('PHX_DECODE_FAILED');
    }
  });

  it('counts UTF-8 bytes, not UTF-16 units, against `maxBytes`', () => {
    const frame = `["1","1","t","e","${'é'.repeat(10)}"]`; // 10 characters, 20 bytes
    const bytes = Buffer.byteLength(frame);
    expect(decode(frame, { maxBytes: bytes }).payload).toBe('é'.repeat(10));
    expect(decodeError(() => decode(frame, { maxBytes: bytes - 1 })).code).toBe('PHX_DECODE_FAILED');
  });

  it('refuses frames over 1 MiB by default', () => {
    const frame = `["1","1","t","e","${'x'.repeat(1024 * 1024)}"]`;
    expect(decodeError(() => decode(frame)).code).toBe('PHX_DECODE_FAILED');
  });

  it('never quotes the frame in the error', () => {
    const secret = 'X-Amz-Signature=deadbeef';
    const error = decodeError(() => decode(`["1","1","t","e",{"url":"${secret}"`));
    expect(error.message).not.toContain(secret);
    expect(String(error.cause ?? '')).not.toContain(secret);
  });
});
