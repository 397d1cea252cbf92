/**
 * fwup's output: framed messages with `--framing` (u32 BE length = 4 + message, 2-letter type, u16 BE code,
 * message), otherwise text, `fwup: ` before warnings and errors and `\r\e[K` before any message while the progress
 * bar is drawn (fwup src/util.c `fwup_output`, `fwup_warnx`, `fwup_errx` @6f3bf79). Every write goes straight to
 * the file descriptor, in order, as fwup flushes after each: a reader of stdout and stderr together sees them
 * interleaved as the real program writes them. Strings are byte strings (latin1), so `.conf` texts pass through
 * unchanged.
 */
import { writeSync } from 'node:fs';

export type FrameType = 'PR' | 'WN' | 'ER' | 'OK';
export type ProgressMode = 'off' | 'numeric' | 'normal' | 'framing';

/** Thrown to end the program with an exit status once its output is written. */
export class FwupExit extends Error {
  override name = 'FwupExit';
  constructor(readonly status: number) {
    super(`exit ${status}`);
  }
}

export class Output {
  framing = false;
  progressMode: ProgressMode = 'off';

  writeStdout(bytes: Buffer | string): void {
    writeAll(1, typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  }

  writeStderr(text: string): void {
    writeAll(2, Buffer.from(text, 'latin1'));
  }

  /** `fwup_output`: a frame, or the text (after `\r\e[K` while the bar is drawn). */
  emit(type: FrameType, code: number, text: string): void {
    if (this.framing) {
      const body = Buffer.from(text, 'latin1');
      const frame = Buffer.alloc(8 + body.length);
      frame.writeUInt32BE(4 + body.length, 0);
      frame.write(type, 4, 'latin1');
      frame.writeUInt16BE(code, 6);
      body.copy(frame, 8);
      this.writeStdout(frame);
      return;
    }
    if (text.length === 0) return;
    this.writeStdout(this.progressMode === 'normal' ? `\r\x1b[K${text}` : text);
  }

  warn(text: string): void {
    this.emit('WN', 0, this.framing ? text : `fwup: ${text}\n`);
  }

  /** `fwup_errx`: the error, then exit 1. */
  fail(text: string): never {
    this.emit('ER', 0, this.framing ? text : `fwup: ${text}\n`);
    throw new FwupExit(1);
  }

  succeed(text: string): never {
    this.emit('OK', 0, text);
    throw new FwupExit(0);
  }
}

function writeAll(fd: number, bytes: Buffer): void {
  for (let written = 0; written < bytes.length; ) {
    try {
      written += writeSync(fd, bytes, written, bytes.length - written);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      pause(1);
    }
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Blocks the process, like fwup's blocking calls: a signal still ends it at once (no handlers). */
export function pause(ms: number): void {
  if (ms > 0) Atomics.wait(sleeper, 0, 0, ms);
}
