// The framing parser against every byte fwup 1.16.0 actually printed, cut into random pieces.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type FwupFrame, FwupFrameParser } from '../src/fwup/frame-parser.js';

const dir = fileURLToPath(new URL('./fixtures/transcripts/', import.meta.url));
const transcripts = readdirSync(dir).filter((name) => name.endsWith('.framed.bin'));

function describeFrame(frame: FwupFrame): string {
  if (frame.type === 'PR') return `PR ${frame.progress}`;
  if (frame.type === 'other') return `${frame.tag} ${frame.code} ${JSON.stringify(frame.message)}`;
  return `${frame.type} ${frame.code} ${JSON.stringify(frame.message)}`;
}

function parseInPieces(bytes: Buffer, seed: number): { frames: string[]; pending: number } {
  const parser = new FwupFrameParser();
  const frames: string[] = [];
  let random = seed;
  for (let at = 0; at < bytes.length; ) {
    random = (random * 1103515245 + 12345) & 0x7fffffff;
    const size = 1 + (random % 11);
    frames.push(...parser.push(bytes.subarray(at, at + size)).map(describeFrame));
    at += size;
  }
  return { frames, pending: parser.pendingBytes };
}

describe('FwupFrameParser', () => {
  it('has transcripts to check', () => {
    expect(transcripts.length).toBeGreaterThan(20);
  });

  for (const name of transcripts) {
    it(`decodes ${name} exactly, however the bytes are split`, () => {
      const bytes = readFileSync(`${dir}${name}`);
      const expected = JSON.parse(readFileSync(`${dir}${name.replace('.framed.bin', '.json')}`, 'utf8'));
      const decoded: string[] = expected.decoded.filter((line: string) => !line.startsWith('UNFRAMED'));
      const trailer = expected.decoded.some((line: string) => line.startsWith('UNFRAMED TRAILER'));
      for (const seed of [1, 2, 3, 42]) {
        const { frames, pending } = parseInPieces(bytes, seed);
        expect(frames).toEqual(decoded);
        // The exit-handshake trailer (1a xx) is never taken for a frame.
        expect(pending).toBe(trailer ? 2 : 0);
      }
      expect(parseInPieces(bytes, 0).frames).toEqual(decoded);
    });
  }

  it('stops parsing on bytes that are not frames and keeps them as text', () => {
    const parser = new FwupFrameParser();
    expect(parser.push(Buffer.from('fwup: unrecognized option\nUsage: ...'))).toEqual([]);
    expect(parser.unframedText).toContain('Usage');
  });
});
