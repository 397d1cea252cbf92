// fwup's framed output decoded the way the transcripts' sidecars write it: `PR <value>`, `<TYPE> <code> "<text>"`.
export function decodeFrames(stdout: Buffer): string[] {
  const frames: string[] = [];
  for (let at = 0; at + 8 <= stdout.length; ) {
    const length = stdout.readUInt32BE(at);
    const type = stdout.toString('latin1', at + 4, at + 6);
    const code = stdout.readUInt16BE(at + 6);
    const text = stdout.toString('utf8', at + 8, at + 4 + length);
    frames.push(type === 'PR' ? `PR ${code}` : `${type} ${code} ${JSON.stringify(text)}`);
    at += 4 + length;
  }
  return frames;
}
