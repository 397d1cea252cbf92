// Encode + decode throughput of our codec against the official phoenix serializer, measured in the same run.
// Run after a build: `pnpm --filter @nerves-hub-link/phoenix-channel bench`.
import { readFileSync } from 'node:fs';
import { Serializer } from 'phoenix';
import { decode, encode } from '../dist/codec.js';

const vectors = JSON.parse(
  readFileSync(new URL('../test/fixtures/frames.json', import.meta.url), 'utf8'),
).frames;
const texts = vectors.map((v) => JSON.stringify(v.frame));
const buffers = texts.map((t) => Buffer.from(t));
const ours = vectors.map(({ frame: [joinRef, ref, topic, event, payload] }) => ({
  joinRef,
  ref,
  topic,
  event,
  payload,
}));
const theirs = vectors.map(({ frame: [join_ref, ref, topic, event, payload] }) => ({
  join_ref,
  ref,
  topic,
  event,
  payload,
}));
const bytesPerPass = buffers.reduce((sum, b) => sum + b.byteLength, 0);

let sink = 0;
const keep = (value) => {
  sink ^= typeof value === 'string' ? value.length : value.event.length;
};
const phoenixCallback = keep;

const cases = {
  'ours encode': () => {
    for (let i = 0; i < ours.length; i++) keep(encode(ours[i]));
  },
  'phoenix encode': () => {
    for (let i = 0; i < theirs.length; i++) Serializer.encode(theirs[i], phoenixCallback);
  },
  'ours decode': () => {
    for (let i = 0; i < texts.length; i++) keep(decode(texts[i]));
  },
  'phoenix decode': () => {
    for (let i = 0; i < texts.length; i++) Serializer.decode(texts[i], phoenixCallback);
  },
  'ours encode+decode': () => {
    for (let i = 0; i < ours.length; i++) keep(decode(encode(ours[i])));
  },
  'phoenix encode+decode': () => {
    for (let i = 0; i < theirs.length; i++) {
      Serializer.encode(theirs[i], (text) => Serializer.decode(text, phoenixCallback));
    }
  },
  'ours decode (Buffer, as the socket does)': () => {
    for (let i = 0; i < buffers.length; i++) keep(decode(buffers[i].toString('utf8')));
  },
  'ours decode (Buffer, UTF-8 checked)': () => {
    for (let i = 0; i < buffers.length; i++) keep(decode(buffers[i]));
  },
};

/** Passes per second over `ms` of wall time. */
function measure(fn, ms) {
  const end = performance.now() + ms;
  let passes = 0;
  let now = performance.now();
  const start = now;
  while (now < end) {
    for (let i = 0; i < 50; i++) fn();
    passes += 50;
    now = performance.now();
  }
  return passes / ((now - start) / 1000);
}

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 300);
for (const fn of Object.values(cases)) measure(fn, 200); // warm-up
const samples = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
for (let round = 0; round < ROUNDS; round++) {
  // Interleave so that drift (thermal, other load) hits both sides alike.
  for (const [name, fn] of Object.entries(cases)) samples[name].push(measure(fn, ROUND_MS));
}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const rate = Object.fromEntries(Object.entries(samples).map(([name, values]) => [name, median(values)]));

const fmt = (n) => Math.round(n).toLocaleString('en-US');
console.log(
  `codec: ${vectors.length} frames of frames.json per pass (${bytesPerPass} bytes), median of ${ROUNDS} rounds`,
);
for (const [name, passes] of Object.entries(rate)) {
  const mbps = ((passes * bytesPerPass) / 1e6).toFixed(1);
  console.log(
    `  ${name.padEnd(42)} ${fmt(passes * vectors.length).padStart(12)} frames/s  ${mbps.padStart(6)} MB/s`,
  );
}
for (const op of ['encode', 'decode', 'encode+decode']) {
  const ratio = rate[`ours ${op}`] / rate[`phoenix ${op}`];
  console.log(`  ratio ours/phoenix ${op.padEnd(14)} ${ratio.toFixed(2)}x (goal >= 1.00x)`);
}
if (sink === 0.5) console.log(sink);
