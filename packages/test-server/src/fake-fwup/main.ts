/**
 * The fake fwup's command line (fwup src/fwup.c @6f3bf79): options processed left to right (a key-file error is
 * framed only once `--framing` was seen), then the command. Test knobs from the environment:
 * FAKE_FWUP_VERSION (what `--version` prints, default 1.16.0), FAKE_FWUP_DELAY_MS (a pause after each progress
 * report, to signal the process mid-apply), FAKE_FWUP_LOG (a file that gets each invocation as a JSON line).
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { appendFileSync, readFileSync, readSync } from 'node:fs';
import { apply } from './apply.js';
import { printMetadata } from './metadata.js';
import { FwupExit, Output, pause } from './output.js';
import { verifyArchive } from './verify.js';

const MAX_PUBLIC_KEYS = 10;
const USAGE =
  'Usage: fwup [options]\n  -a, --apply   -V, --verify   -m, --metadata   -i <file>  -d <devpath>  -t <task>\n';
const WITH_VALUE = new Set([
  '-i',
  '--input',
  '-d',
  '-t',
  '--task',
  '-p',
  '--public-key-file',
  '--public-key',
  '--metadata-key',
  '--progress-low',
  '--progress-high',
]);

interface Options {
  command: 'apply' | 'verify' | 'metadata' | undefined;
  input: string | undefined;
  devpath: string | undefined;
  task: string | undefined;
  metadataKey: string | undefined;
  keys: KeyObject[];
  quiet: boolean;
  numeric: boolean;
  progressLow: number;
  progressHigh: number;
}

/** Runs one invocation; returns the exit status (a signal ends the process without returning). */
export function main(argv: readonly string[], argv0: string, env: NodeJS.ProcessEnv): number {
  if (env.FAKE_FWUP_LOG) appendFileSync(env.FAKE_FWUP_LOG, `${JSON.stringify({ pid: process.pid, argv })}\n`);
  const out = new Output();
  const handshake = { enabled: false };
  try {
    const options = parse(argv.map(toByteString), argv0, env, out, handshake);
    if (options.quiet && options.numeric) out.fail('pick either -n or -q, but not both');
    switch (options.command) {
      case 'apply':
        return apply({ ...options, delayMs: Number(env.FAKE_FWUP_DELAY_MS ?? 0) }, out);
      case 'verify':
        return verifyArchive(options.input, options.keys, out);
      case 'metadata':
        return printMetadata(options.input, options.keys, options.metadataKey, out);
      default:
        return out.fail('specify one of -a, -c, -l, -m, -S, -V, or -z');
    }
  } catch (error) {
    if (!(error instanceof FwupExit)) throw error;
    if (handshake.enabled) exitHandshake(error.status, out);
    return error.status;
  }
}

/**
 * `--exit-handshake` (fwup src/util.c `handshake_exit`): 0x1a and the exit status as two unframed bytes, then
 * stdin read to its end before exiting, for Erlang ports.
 */
function exitHandshake(status: number, out: Output): void {
  out.writeStdout(Buffer.from([0x1a, status]));
  const buffer = Buffer.alloc(4096);
  for (;;) {
    try {
      if (readSync(0, buffer, 0, buffer.length, null) === 0) return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') return;
      pause(10);
    }
  }
}

function parse(
  argv: readonly string[],
  argv0: string,
  env: NodeJS.ProcessEnv,
  out: Output,
  handshake: { enabled: boolean },
): Options {
  const options: Options = {
    command: undefined,
    input: undefined,
    devpath: undefined,
    task: undefined,
    metadataKey: undefined,
    keys: [],
    quiet: false,
    numeric: false,
    progressLow: 0,
    progressHigh: 100,
  };
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i]!;
    let value: string | undefined;
    const equals = arg.startsWith('--') ? arg.indexOf('=') : -1;
    if (equals > 0) {
      value = arg.slice(equals + 1);
      arg = arg.slice(0, equals);
    }
    if (WITH_VALUE.has(arg) && value === undefined) {
      value = argv[++i];
      if (value === undefined)
        usage(`${argv0}: option requires an argument -- '${arg.replace(/^-+/, '')}'\n`, out);
    }
    switch (arg) {
      case '--version':
        // The handshake bytes bypass stdio buffering: seen before the version when the option came first.
        if (handshake.enabled) out.writeStdout(Buffer.from([0x1a, 0]));
        out.writeStdout(`${env.FAKE_FWUP_VERSION ?? '1.16.0'}\n`);
        handshake.enabled = false;
        throw new FwupExit(0);
      case '--exit-handshake':
        handshake.enabled = true;
        break;
      case '-a':
      case '--apply':
        options.command = 'apply';
        break;
      case '-V':
      case '--verify':
        options.command = 'verify';
        break;
      case '-m':
      case '--metadata':
        options.command = 'metadata';
        break;
      case '--metadata-key':
        options.metadataKey = value;
        break;
      case '-F':
      case '--framing':
        out.framing = true;
        break;
      case '-n':
        options.numeric = true;
        break;
      case '-q':
        options.quiet = true;
        break;
      case '-U':
      case '--no-unmount':
        break;
      case '-i':
      case '--input':
        options.input = value === '-' ? undefined : value;
        break;
      case '-d':
        options.devpath = value;
        break;
      case '-t':
      case '--task':
        options.task = value;
        break;
      case '--progress-low':
        options.progressLow = Number.parseInt(value!, 10) || 0;
        break;
      case '--progress-high':
        options.progressHigh = Number.parseInt(value!, 10) || 0;
        break;
      case '-p':
      case '--public-key-file':
        addKey(options, readKeyFile(value!, out), out);
        break;
      case '--public-key': {
        const key = decodeKey(value!);
        if (!key) out.fail('Error decoding public key');
        addKey(options, key, out);
        break;
      }
      default:
        if (arg.startsWith('-') && arg !== '-') usage(`${argv0}: unrecognized option '${arg}'\n`, out);
        positional.push(arg);
    }
  }
  if (positional.length > 0) out.fail(`unexpected parameter: ${positional[0]}`);
  return options;
}

function usage(complaint: string, out: Output): never {
  out.writeStderr(complaint);
  out.writeStdout(USAGE);
  throw new FwupExit(1);
}

function addKey(options: Options, key: KeyObject, out: Output): void {
  if (options.keys.length < MAX_PUBLIC_KEYS) options.keys.push(key);
  else out.warn(`Ignoring public key since only ${MAX_PUBLIC_KEYS} supported`);
}

function readKeyFile(path: string, out: Output): KeyObject {
  let text: string;
  try {
    text = readFileSync(Buffer.from(path, 'latin1'), 'latin1');
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'EACCES' ? 'Permission denied' : 'No such file or directory';
    // Framed errors leave out the OS reason (fwup src/util.c `fwup_err`).
    return out.fail(`Error opening public key file '${path}'${out.framing ? '' : `: ${reason}`}`);
  }
  const key = decodeKey(text.trim());
  if (!key) out.fail(`Error reading or decoding public key from file '${path}'`);
  return key;
}

function decodeKey(base64: string): KeyObject | undefined {
  const raw = Buffer.from(base64, 'base64');
  if (raw.length !== 32) return undefined;
  return createPublicKey({
    key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), raw]),
    format: 'der',
    type: 'spki',
  });
}

/** fwup handles its arguments as bytes; so does this fake (latin1 keeps every byte as one character). */
function toByteString(arg: string): string {
  return Buffer.from(arg, 'utf8').toString('latin1');
}
