/**
 * V8 settings the daemon gives itself, so that it runs the same whether systemd, a person or a single executable
 * starts it. main.ts imports this module before anything else: the settings must be in force before undici
 * compiles its HTTP parser (at the first download) and before the young generation first grows.
 *
 * - `--liftoff-only`: undici's HTTP parser (llhttp, WebAssembly) stays on V8's baseline compiler. Tiering it up
 *   compiles a large state machine in the background: about 30 MiB of compiler memory that malloc keeps
 *   afterwards, for a parser that only steps over the body's bytes (measured with bench/update.bench.mjs).
 * - `--semi-space-growth-factor=1`: the young generation keeps its initial size (1 MiB per semi-space). A download
 *   allocates a buffer for every TLS record (16 KiB); a small young generation is collected often, so the buffers
 *   of chunks already written are freed a few MiB later instead of tens of MiB later. `--max-semi-space-size=1`
 *   does the same from the command line, but has no effect once the heap exists; the growth factor is read each
 *   time the young generation would grow.
 * - `--compact-on-every-full-gc`: a daemon that lives for months must give back what a reconnect or an update
 *   took. Without it V8 kept half-empty old-generation pages committed after a full GC: over 1,000 reconnects the
 *   committed heap grew from 10 to 17 MiB for a live heap that grew by 1 MiB (bench/soak.bench.mjs). The heap is
 *   small, so compacting it on a full GC costs little.
 * - `--flush-baseline-code` and `--bytecode-old-age=2`: code that ran once (start-up, config, a reconnect's
 *   error path) is dropped after two full collections instead of five, and its baseline machine code with it; it
 *   is compiled again if it runs again. Over 1,000 reconnects the idle RSS grew by 3.1–3.6 MiB with them and
 *   4.2–4.4 MiB without (bench/soak.bench.mjs). What runs for every chunk of a download stays compiled.
 * - `--optimize-for-size` while idle, not while downloading: see runtime/memory-mode.ts.
 *
 * The unit file also sets MALLOC_ARENA_MAX=1: glibc reads it when the process starts, before any of this runs.
 */
import { setFlagsFromString } from 'node:v8';
import { favourSizeWhenIdle } from './memory-mode.js';

export const V8_FLAGS = [
  '--liftoff-only',
  '--semi-space-growth-factor=1',
  '--compact-on-every-full-gc',
  '--flush-baseline-code',
  '--bytecode-old-age=2',
] as const;

for (const flag of V8_FLAGS) setFlagsFromString(flag);
favourSizeWhenIdle();
