/**
 * V8 favours size while the daemon idles and speed while it downloads. `--optimize-for-size` makes every full
 * collection give memory back (V8 also releases the heap pages it keeps pooled for reuse): over 1,000 reconnects
 * the idle RSS grew by about 4 MiB with it and 8 MiB without (bench/soak.bench.mjs). It also makes a download's
 * hot path some 15 % slower (bench/update.bench.mjs), so it is switched off for the download and back on after.
 * The flag is read where V8 decides, not once at start, so switching it takes effect at once.
 *
 * Only the daemon's entry point turns this on (runtime/v8-flags.ts): a program that uses this package as a library
 * keeps its own V8 settings, and `favouringSpeed` then just runs its callback.
 */
import { setFlagsFromString } from 'node:v8';

let enabled = false;

/** From now on, favour size except inside `favouringSpeed`. */
export function favourSizeWhenIdle(): void {
  enabled = true;
  setFlagsFromString('--optimize-for-size');
}

/** Runs `work` with V8 favouring speed, then favours size again (when `favourSizeWhenIdle` was called). */
export async function favouringSpeed<T>(work: () => Promise<T>): Promise<T> {
  if (!enabled) return work();
  setFlagsFromString('--no-optimize-for-size');
  try {
    return await work();
  } finally {
    setFlagsFromString('--optimize-for-size');
  }
}
