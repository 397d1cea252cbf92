#!/usr/bin/env node
import { createPublicKey, verify } from 'node:crypto';
// A stand-in for fwup 1.16.0 where the real one cannot be installed: the same command line, framed output
// (--framing), messages, exit codes and effects on the target as the recorded transcripts, reading real .fw
// archives (zip CRCs, BLAKE2b-256 resource digests, Ed25519 signatures of meta.conf).
//
// Test knobs (environment): FAKE_FWUP_VERSION (default 1.16.0), FAKE_FWUP_DELAY_MS (pause per progress frame,
// to test signals during an apply), FAKE_FWUP_LOG (append each invocation as a JSON line).
import { appendFileSync, existsSync, readFileSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { blake2b256Hex, fwupMetaUuid, parseMetaConf, readFwArchive } from '../dist/firmware-host/index.js';

const argv = process.argv.slice(2);
if (process.env.FAKE_FWUP_LOG) {
  appendFileSync(process.env.FAKE_FWUP_LOG, `${JSON.stringify({ pid: process.pid, argv })}\n`);
}
const options = { keys: [], framing: false, mode: undefined };
const delayMs = Number(process.env.FAKE_FWUP_DELAY_MS ?? 0);

// --- output -------------------------------------------------------------------------------------------
function frame(type, code, text = '') {
  const body = Buffer.from(text, 'utf8');
  const out = Buffer.alloc(8 + body.length);
  out.writeUInt32BE(4 + body.length, 0);
  out.write(type, 4, 'ascii');
  out.writeUInt16BE(code, 6);
  body.copy(out, 8);
  return out;
}
function write(buffer) {
  return new Promise((resolve) => process.stdout.write(buffer, resolve));
}
async function progress(value) {
  if (options.framing) await write(frame('PR', value));
  else if (options.numeric) await write(`${value}\n`);
  if (delayMs > 0) await sleep(delayMs);
}
async function warn(text) {
  await write(options.framing ? frame('WN', 0, text) : `fwup: ${text}\n`);
}
async function fail(text, { newline = true } = {}) {
  await write(options.framing ? frame('ER', 0, text) : `fwup: ${text}\n`);
  if (newline) process.stderr.write('\n');
  process.exit(1);
}
async function ok(text = '') {
  await write(options.framing ? frame('OK', 0, text) : text);
  process.exit(0);
}

// --- command line -------------------------------------------------------------------------------------
const USAGE =
  'Usage: fwup [options]\n  -a, --apply   -V, --verify   -m, --metadata   -i <file>  -d <devpath>  -t <task>\n';
for (let i = 0; i < argv.length; i++) {
  const arg = argv[i];
  const value = () => argv[++i];
  switch (arg) {
    case '--version':
      process.stdout.write(`${process.env.FAKE_FWUP_VERSION ?? '1.16.0'}\n`);
      process.exit(0);
      break;
    case '-a':
    case '--apply':
      options.mode = 'apply';
      break;
    case '-V':
    case '--verify':
      options.mode = 'verify';
      break;
    case '-m':
    case '--metadata':
      options.mode = 'metadata';
      break;
    case '--metadata-key':
      options.metadataKey = value();
      break;
    case '-F':
    case '--framing':
      options.framing = true;
      break;
    case '-n':
      options.numeric = true;
      break;
    case '-q':
      options.quiet = true;
      break;
    case '-U':
    case '--no-unmount':
      options.noUnmount = true;
      break;
    case '-i':
    case '--input':
      options.input = value();
      break;
    case '-d':
      options.devpath = value();
      break;
    case '-t':
    case '--task':
      options.task = value();
      break;
    case '-p':
    case '--public-key-file': {
      const file = value();
      if (!existsSync(file)) await fail(`Error opening public key file '${file}'`, { newline: false });
      const key = decodeKey(readFileSync(file, 'utf8').trim());
      if (!key) await fail(`Error reading or decoding public key from file '${file}'`, { newline: false });
      options.keys.push(key);
      break;
    }
    case '--public-key': {
      const key = decodeKey(value() ?? '');
      if (!key) await fail('Error decoding public key', { newline: false });
      options.keys.push(key);
      break;
    }
    default:
      process.stdout.write(USAGE);
      process.stderr.write(`${basename(process.argv[1])}: unrecognized option '${arg}'\n`);
      process.exit(1);
  }
}
if (options.keys.length > 10) {
  await warn('Ignoring public key since only 10 supported');
  options.keys.length = 10;
}

function decodeKey(base64) {
  const raw = Buffer.from(base64, 'base64');
  if (raw.length !== 32) return undefined;
  return createPublicKey({
    key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), raw]),
    format: 'der',
    type: 'spki',
  });
}

// --- archive checks shared by verify and apply -----------------------------------------------------------
async function openArchive() {
  if (!options.input) await fail('Specify an input firmware file', { newline: options.mode === 'apply' });
  if (!existsSync(options.input)) await fail(`Failed to open '${options.input}'`);
  const archive = await readFwArchive(options.input);
  const metaEntry = archive.entries.find((entry) => entry.name === 'meta.conf');
  if (!metaEntry) await fail(archive.problem ?? 'Unexpected meta.conf size: 0');
  const metaBytes = await archive.read(metaEntry).catch((error) => fail(error.message));
  return { archive, metaBytes, conf: parseMetaConf(metaBytes.toString('utf8')) };
}

/** Returns 'good', 'unverified' or 'unsigned'; fails the way fwup does for a missing or bad signature. */
async function checkSignature(archive, metaBytes) {
  const signatureEntry = archive.entries.find((entry) => entry.name === 'meta.conf.ed25519');
  if (!signatureEntry) {
    if (options.keys.length > 0) await fail('Expecting signed firmware archive.');
    return 'unsigned';
  }
  if (options.keys.length === 0) return 'unverified';
  const signature = await archive.read(signatureEntry);
  if (!options.keys.some((key) => verify(null, metaBytes, key, signature))) {
    await fail("Firmware archive's meta.conf fails digital signature verification.");
  }
  return 'good';
}

// --- modes --------------------------------------------------------------------------------------------
if (options.mode === 'verify') {
  const { archive, metaBytes, conf } = await openArchive();
  const signed = await checkSignature(archive, metaBytes);
  for (const entry of archive.entries)
    await archive.read(entry).catch((error) => fail(error.message, { newline: false }));
  if (archive.problem) await fail(archive.problem, { newline: false });
  for (const resource of conf.resources) {
    const entry = archive.entries.find((candidate) => candidate.name === `data/${resource.name}`);
    const data = entry ? await archive.read(entry) : Buffer.alloc(0);
    if (blake2b256Hex(data) !== resource.blake2b256) {
      await fail(`Detected blake2b digest mismatch for ${resource.name}`, { newline: false });
    }
  }
  await ok(
    {
      good: 'Valid archive with a good signature\n',
      unverified: 'Valid archive with an unverified signature. Specify a public key to authenticate.\n',
      unsigned: 'Valid archive without a signature\n',
    }[signed],
  );
} else if (options.mode === 'metadata') {
  const { metaBytes, conf } = await openArchive();
  if (options.keys.length > 0) await checkSignature(await readFwArchive(options.input), metaBytes);
  const values = { ...conf.meta, 'meta-uuid': fwupMetaUuid(metaBytes) };
  if (options.metadataKey) {
    process.stdout.write(`${values[options.metadataKey] ?? '(null)'}\n`);
    process.exit(0);
  }
  const quote = (v) => (/^[A-Za-z0-9_.]+$/.test(v) ? v : `"${v.replace(/[\\"]/g, '\\$&')}"`);
  await ok(
    Object.entries(values)
      .map(([k, v]) => `${k}=${quote(v)}\n`)
      .join(''),
  );
} else if (options.mode === 'apply') {
  await apply();
} else {
  process.stdout.write(USAGE);
  process.exit(1);
}

async function apply() {
  if (!options.task) await fail('specify a task (-t)', { newline: false });
  await progress(0);
  if (!options.devpath) await fail('No memory cards found. Try reinserting the card.');
  const { devpath } = options;
  if (!existsSync(dirname(devpath)) || (existsSync(devpath) && statSync(devpath).isDirectory())) {
    await fail(
      existsSync(devpath)
        ? `Cannot open '${devpath}' for output.\nCheck file permissions or the read-only tab if this is an SD Card.`
        : `Cannot create '${devpath}'.\nCheck the path and permissions on the containing directory.`,
    );
  }
  // fwup opens the target (without truncating it) before it reads the archive.
  const target = await open(devpath, existsSync(devpath) ? 'r+' : 'w', 0o644).catch(() =>
    fail(
      `Cannot open '${devpath}' for output.\nCheck file permissions or the read-only tab if this is an SD Card.`,
    ),
  );
  const { archive, metaBytes, conf } = await openArchive();
  await checkSignature(archive, metaBytes);
  const taskName = conf.tasks.find((name) => name.startsWith(options.task));
  if (!taskName) {
    await fail(
      `Couldn't find applicable task '${options.task}'. If task is available, the task's requirements may not be met.`,
    );
  }
  const text = metaBytes.toString('utf8');
  const taskBody = new RegExp(`task\\s+"?${taskName}"?\\s*\\{([\\s\\S]*?)\\n\\}`).exec(text)?.[1] ?? '';
  const infoMessages = [
    ...(/on-finish\s*\{([\s\S]*?)\}/.exec(taskBody)?.[1] ?? '').matchAll(/info,"([^"]*)"/g),
  ].map((match) => match[1]);
  // Progress counts bytes written against all entry bytes, held at 99 until on-finish ran (transcripts).
  const total = archive.entries.reduce((sum, entry) => sum + entry.size, 0);
  let written = 0;
  let last = 0;
  for (const resource of conf.resources) {
    const entry = archive.entries.find((candidate) => candidate.name === `data/${resource.name}`);
    const offsetBlocks = Number(
      new RegExp(`on-resource\\s+"?${resource.name}"?\\s*\\{[^}]*raw_write,(\\d+)`).exec(taskBody)?.[1] ?? 0,
    );
    if (!entry) await fail(archive.problem ?? 'ZIP decompression failed (-5)');
    let data;
    let late;
    try {
      data = await archive.read(entry);
    } catch (error) {
      if (!/CRC/.test(error.message)) await fail(error.message);
      late = error.message;
      data = await rawInflate(archive, entry);
    }
    if (!late && blake2b256Hex(data) !== resource.blake2b256)
      late = `raw_write detected blake2b mismatch on '${resource.name}'`;
    const chunk = 16 * 1024;
    const cacheSegment = 128 * 1024;
    for (let at = 0; at < data.length; at += chunk) {
      const piece = data.subarray(at, Math.min(data.length, at + chunk));
      // A late failure leaves what fwup's 128 KiB write cache had flushed: every segment but the last one.
      const flushedLimit = late ? Math.floor((data.length - 1) / cacheSegment) * cacheSegment : data.length;
      const keep = Math.max(0, Math.min(piece.length, flushedLimit - at));
      if (keep > 0) await target.write(piece, 0, keep, offsetBlocks * 512 + at);
      written += piece.length;
      const value = Math.min(99, Math.floor((written * 100) / total));
      if (value > last) {
        last = value;
        await progress(value);
      }
    }
    if (late) {
      await target.close();
      await fail(late);
    }
  }
  if (archive.problem) await fail(archive.problem);
  await target.close();
  if (last < 99) await progress(99);
  for (const message of infoMessages) await warn(message);
  await progress(100);
  await ok('');
}

/** The entry's bytes without the CRC check (to write them as fwup would before noticing). */
async function rawInflate(archive, entry) {
  const { inflateRawSync } = await import('node:zlib');
  const handle = await open(archive.path, 'r');
  const raw = Buffer.alloc(entry.compressedSize);
  await handle.read(raw, 0, raw.length, entry.dataOffset);
  await handle.close();
  return entry.method === 8 ? inflateRawSync(raw) : raw;
}
