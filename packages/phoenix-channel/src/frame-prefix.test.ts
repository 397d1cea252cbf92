import { describe, expect, it } from 'vitest';
import { frameByteLength, readFramePrefix } from './frame-prefix.js';

describe('readFramePrefix', () => {
  it('reads join_ref, ref, topic and event from the start of a frame, whatever follows', () => {
    const frame = Buffer.from(`["1","7","room:1","phx_reply",{"status":"ok","response":"${'x'.repeat(5000)}`);
    expect(readFramePrefix(frame)).toEqual({ joinRef: '1', ref: '7', topic: 'room:1', event: 'phx_reply' });
    expect(readFramePrefix(Buffer.from('[null, null ,"t\\"q","ev",{}]'))).toEqual({
      joinRef: null,
      ref: null,
      topic: 't"q',
      event: 'ev',
    });
  });

  it('reads fragmented and ArrayBuffer frames', () => {
    const text = '["1","2","device","phx_reply",{}]';
    const bytes = Buffer.from(text);
    expect(readFramePrefix([bytes.subarray(0, 5), bytes.subarray(5)])).toMatchObject({ ref: '2' });
    const copy = new ArrayBuffer(bytes.byteLength);
    new Uint8Array(copy).set(bytes);
    expect(readFramePrefix(copy)).toMatchObject({ topic: 'device' });
    expect(frameByteLength([bytes, bytes])).toBe(bytes.byteLength * 2);
    expect(frameByteLength(copy)).toBe(bytes.byteLength);
  });

  it('gives up on anything that does not start like a V2 frame', () => {
    for (const text of ['not json', '{"a":1}', '[1,"2","t","e",{}]', '["1","2",3,"e",{}]', '["1","2","t"']) {
      expect(readFramePrefix(Buffer.from(text))).toBeUndefined();
    }
  });
});
