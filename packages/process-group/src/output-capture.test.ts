import { describe, expect, it } from 'vitest';
import { OutputCapture } from './output-capture.js';

describe('OutputCapture', () => {
  it('keeps everything up to the bound', () => {
    const capture = new OutputCapture(10);
    capture.add(Buffer.from('hello '));
    capture.add(Buffer.from('you'));
    expect(capture.result()).toEqual({ text: 'hello you', totalBytes: 9, truncated: false });
  });

  it('keeps the last bytes of a longer stream and counts all of them', () => {
    const capture = new OutputCapture(8);
    for (let i = 0; i < 1000; i++) capture.add(Buffer.from(`line ${i}\n`));
    expect(capture.result()).toEqual({ text: 'line 999\n'.slice(-8), totalBytes: 8890, truncated: true });
  });

  it('drops a UTF-8 sequence the cut fell into rather than decode half of it', () => {
    const capture = new OutputCapture(5);
    capture.add(Buffer.from('aé€🚀'));
    // The last five bytes are the €'s last byte and the rocket's four: only the rocket is whole.
    expect(capture.result().text).toBe('🚀');
  });
});
