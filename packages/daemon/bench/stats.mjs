// What the benchmarks print about a set of runs: the median and the spread, and how busy the machine was.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

export const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** `1.23 (1.10–1.40)`: the median and the range of `values`, with `digits` decimals. */
export function spread(values, digits = 2, unit = '') {
  const f = (value) => `${value.toFixed(digits)}${unit}`;
  return `${f(median(values))} (${f(Math.min(...values))}–${f(Math.max(...values))})`;
}

/** The 1-minute load average. */
export const loadAverage = () => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);

/**
 * The two setups of a 2-core machine measured as a device runs: `pinned` gives the server (this process) core 1
 * and what is measured core 0, so neither takes the other's core, as on a device whose server is elsewhere;
 * `unpinned` lets the scheduler place everything on every core.
 */
export const SETUPS = {
  pinned: { measuredCores: '0', serverCores: '1' },
  unpinned: { measuredCores: undefined, serverCores: `0-${availableParallelism() - 1}` },
};

/** Which setups to run: BENCH_SETUPS (`pinned,unpinned`), pinned only where there are two cores. */
export function chosenSetups(env = process.env) {
  const names = (env.BENCH_SETUPS ?? 'pinned,unpinned').split(',').filter(Boolean);
  for (const name of names) {
    if (!SETUPS[name]) throw new Error(`BENCH_SETUPS: unknown setup ${name} (pinned, unpinned)`);
  }
  return availableParallelism() >= 2 ? names : names.filter((name) => name !== 'pinned');
}

/** Pins this process (every thread of it) to `cpus`. */
export function pinSelf(cpus) {
  execFileSync('taskset', ['-a', '-p', '-c', cpus, String(process.pid)], { stdio: 'ignore' });
}

/** Argv prefix that runs a command on the measured cores of `setup`. */
export function onMeasuredCores(setup) {
  const { measuredCores } = SETUPS[setup];
  return measuredCores === undefined ? [] : ['taskset', '-c', measuredCores];
}
