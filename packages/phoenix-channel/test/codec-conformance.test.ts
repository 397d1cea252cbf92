// The codec against the official `phoenix` client's serializer: the recorded frames and random ones.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { Serializer } from 'phoenix';
import { describe, expect, it } from 'vitest';
import { decode, encode, type Message } from '../src/codec.js';

interface FrameVector {
  name: string;
  direction: string;
  frame: unknown[];
}

const vectors = JSON.parse(readFileSync(new URL('./fixtures/frames.json', import.meta.url), 'utf8')) as {
  frames: FrameVector[];
};

function phoenixEncode(message: Message): string {
  let out = '';
  Serializer.encode(
    {
      join_ref: message.joinRef,
      ref: message.ref,
      topic: message.topic,
      event: message.event,
      payload: message.payload,
    },
    (encoded) => {
      out = encoded;
    },
  );
  return out;
}

function phoenixDecode(text: string): Message {
  let out: Message | undefined;
  Serializer.decode(text, (m) => {
    out = { joinRef: m.join_ref, ref: m.ref, topic: m.topic, event: m.event, payload: m.payload } as Message;
  });
  return out!;
}

const messageArbitrary = fc.record({
  joinRef: fc.option(fc.string({ unit: 'grapheme' }), { nil: null }),
  ref: fc.option(fc.oneof(fc.nat().map(String), fc.string()), { nil: null }),
  topic: fc.string({ unit: 'binary' }),
  event: fc.string({ unit: 'grapheme-ascii' }),
  // phoenix's encode reads `payload.constructor`, so it throws on a null payload: outside its domain.
  payload: fc.jsonValue().filter((value) => value !== null),
});

describe('codec conformance with phoenix 1.8.16 Serializer', () => {
  it('has frames to check', () => {
    expect(vectors.frames.length).toBeGreaterThan(20);
  });

  it.each(vectors.frames.map((v) => [v.name, v] as const))('decodes and encodes %s like phoenix', (_n, v) => {
    const text = JSON.stringify(v.frame);
    const ours = decode(text);
    expect(ours).toEqual(phoenixDecode(text));
    expect(encode(ours)).toBe(phoenixEncode(ours));
    expect(encode(ours)).toBe(text);
  });

  it('encodes random messages to the same text as phoenix', () => {
    fc.assert(
      fc.property(messageArbitrary, (message) => {
        expect(encode(message)).toBe(phoenixEncode(message));
      }),
      { numRuns: 2000 },
    );
  });

  it('decodes random valid frames to the same message as phoenix, and round-trips them', () => {
    fc.assert(
      fc.property(messageArbitrary, (message) => {
        const text = phoenixEncode(message);
        const ours = decode(text, { maxBytes: Number.POSITIVE_INFINITY });
        expect(ours).toEqual(phoenixDecode(text));
        expect(ours).toEqual(JSON.parse(JSON.stringify(message)));
      }),
      { numRuns: 2000 },
    );
  });

  it('agrees with phoenix on random JSON values, refusing exactly the non-frames', () => {
    const isFrame = (value: unknown): boolean =>
      Array.isArray(value) &&
      value.length === 5 &&
      (value[0] === null || typeof value[0] === 'string') &&
      (value[1] === null || typeof value[1] === 'string') &&
      typeof value[2] === 'string' &&
      typeof value[3] === 'string';
    const almostFrame = fc.tuple(
      fc.oneof(fc.constant(null), fc.string(), fc.integer()),
      fc.oneof(fc.constant(null), fc.string(), fc.boolean()),
      fc.oneof(fc.string(), fc.constant(null)),
      fc.oneof(fc.string(), fc.constant(1)),
      fc.jsonValue(),
    );
    const candidate = fc.oneof(almostFrame, fc.jsonValue(), fc.array(fc.jsonValue(), { maxLength: 7 }));
    fc.assert(
      fc.property(candidate, (value) => {
        const text = JSON.stringify(value);
        if (isFrame(value)) {
          expect(decode(text)).toEqual(phoenixDecode(text));
        } else {
          expect(() => decode(text)).toThrow(expect.objectContaining({ code: 'PHX_DECODE_FAILED' }));
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('throws only PHX_DECODE_FAILED on arbitrary text where phoenix throws or accepts', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        let ours: Message | undefined;
        try {
          ours = decode(text);
        } catch (error) {
          expect(error).toMatchObject({ code: 'PHX_DECODE_FAILED' });
          return;
        }
        expect(ours).toEqual(phoenixDecode(text));
      }),
      { numRuns: 2000 },
    );
  });
});
