/**
 * fwup's progress (fwup src/progress.c @6f3bf79). The total is the sum of what each function of the task will
 * write (bytes of a raw_write, the environment's size for each uboot_* call, 0 for info and error); a value is
 * printed only when it is larger than the last one; the value is held at high - 1 until the task has finished,
 * then high is printed. The bar: `\r%3d%% [` + `percent * 36 / 100` `=` padded to 36 + `]`, then, once the total
 * is known, ` <in> in / <out> out` + 5 spaces + 5 backspaces, both in decimal units with two decimals ("in" counts
 * bytes read from the archive, "out" the progress units so far).
 */
import { type Output, pause } from './output.js';

const BAR_WIDTH = 36;

export class Progress {
  totalUnits = 0;
  inputBytes = 0;
  #currentUnits = 0;
  #lastReported = -1;
  #startedAt = 0;

  constructor(
    private readonly out: Output,
    private readonly low = 0,
    private readonly high = 100,
    private readonly delayMs = 0,
  ) {}

  /** `progress_init`: reports `low` at once. */
  start(): void {
    this.#show(this.low);
  }

  report(units: number): void {
    if (this.out.progressMode === 'normal' && this.#startedAt === 0 && this.totalUnits > 0) {
      this.#startedAt = performance.now();
    }
    this.#currentUnits = Math.min(this.#currentUnits + units, this.totalUnits);
    let value = this.low;
    if (this.totalUnits > 0) {
      const range = this.high - this.low;
      value += Math.min(Math.floor((this.#currentUnits * range) / this.totalUnits), range - 1);
    }
    this.#show(value);
  }

  complete(): void {
    this.#show(this.high);
    if (this.out.progressMode !== 'normal') return;
    this.out.writeStdout('\nSuccess!\n');
    if (this.#startedAt === 0) return;
    const elapsed = Math.floor(performance.now() - this.#startedAt);
    this.out.writeStdout(
      elapsed > 60000
        ? `Elapsed time: ${Math.floor(elapsed / 60000)} min ${String(Math.floor(elapsed / 1000) % 60).padStart(2, '0')} s\n`
        : `Elapsed time: ${Math.floor(elapsed / 1000)}.${String(elapsed % 1000).padStart(3, '0')} s\n`,
    );
  }

  #show(value: number): void {
    if (value <= this.#lastReported) return;
    this.#lastReported = value;
    switch (this.out.progressMode) {
      case 'framing':
        this.out.emit('PR', value, '');
        break;
      case 'numeric':
        this.out.writeStdout(`${value}\n`);
        break;
      case 'normal':
        this.out.writeStdout(this.#bar(value));
        break;
      default:
        return;
    }
    pause(this.delayMs);
  }

  #bar(percent: number): string {
    const bar = `\r${String(percent).padStart(3)}% [${'='.repeat(Math.trunc((percent * BAR_WIDTH) / 100)).padEnd(BAR_WIDTH)}]`;
    if (this.totalUnits <= 0) return bar;
    return `${bar} ${pretty(this.inputBytes)} in / ${pretty(this.#currentUnits)} out     \b\b\b\b\b`;
  }
}

const UNITS: readonly [number, string][] = [
  [1e12, 'TB'],
  [1e9, 'GB'],
  [1e6, 'MB'],
  [1e3, 'KB'],
];

/** `%.2f %s` of fwup's natural units. C rounds an exact tie (x.xx5) to even where toFixed rounds it up. */
export function pretty(amount: number): string {
  const [unit, name] = UNITS.find(([size]) => amount >= size) ?? [1, 'bytes'];
  const value = amount / unit;
  const eighths = value * 8;
  if (!(Number.isInteger(eighths) && eighths % 2 === 1)) return `${value.toFixed(2)} ${name}`;
  const hundredths = Math.floor(value * 100);
  const even = hundredths % 2 === 0 ? hundredths : hundredths + 1;
  return `${Math.floor(even / 100)}.${String(even % 100).padStart(2, '0')} ${name}`;
}
