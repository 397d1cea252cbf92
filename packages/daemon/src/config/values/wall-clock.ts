/**
 * The wall clock of one time zone, through Intl (no time zone database of our own): what a clock on the wall
 * shows at an instant, and the first instant it shows a given time. Clock changes make that second question
 * hard: a time in the hour skipped in spring is never shown (the clock jumps past it), one in the hour repeated
 * in autumn is shown twice, and a zone that moved across the date line skipped a whole day (Pacific/Apia,
 * 2011-12-30).
 */

export interface CivilDate {
  readonly year: number;
  readonly month: number;
  readonly day: number;
}

const DAY_MS = 86_400_000;
const SECOND_MS = 1_000;
/** Wider than any UTC offset (−12 h … +14 h) plus any one clock change (at most a day). */
const SEARCH_SPAN_MS = 50 * 3_600_000;

/** `M/D/YYYY, HH:MM:SS` as en-US formats it with hourCycle h23. */
const FORMATTED = /^(\d+)\/(\d+)\/(\d+),? (\d+):(\d+):(\d+)$/;

const clocks = new Map<string, WallClock>();

export class WallClock {
  readonly #format: Intl.DateTimeFormat;

  private constructor(timeZone: string | undefined) {
    this.#format = new Intl.DateTimeFormat('en-US', {
      ...(timeZone !== undefined ? { timeZone } : {}),
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
  }

  /** The clock of `timeZone` (an IANA name), or of the system's local time when undefined. */
  static of(timeZone: string | undefined): WallClock {
    const key = timeZone ?? '';
    let clock = clocks.get(key);
    if (!clock) {
      clock = new WallClock(timeZone);
      clocks.set(key, clock);
    }
    return clock;
  }

  /**
   * What the clock shows at `instant`, as milliseconds of a UTC calendar (`Date.UTC` of the date and time on the
   * wall): comparable with `wallTimeOf`, and readable with the `getUTC…` methods.
   */
  show(instant: number): number {
    // format() and a pattern: about twice as fast as formatToParts, which matters to the look-ahead.
    const match = FORMATTED.exec(this.#format.format(instant));
    if (!match) throw new Error(`unexpected date format: ${this.#format.format(instant)}`);
    const [, month, day, year, hour, minute, second] = match.map(Number) as number[];
    const millisecond = ((instant % SECOND_MS) + SECOND_MS) % SECOND_MS;
    return Date.UTC(year!, month! - 1, day!, hour! % 24, minute!, second!, millisecond);
  }

  /** The date on the wall at `instant`. */
  date(instant: number): CivilDate {
    const shown = new Date(this.show(instant));
    return { year: shown.getUTCFullYear(), month: shown.getUTCMonth() + 1, day: shown.getUTCDate() };
  }

  /** Local time minus UTC at `instant`, in milliseconds. */
  offsetAt(instant: number): number {
    return this.show(instant) - instant;
  }

  /**
   * The first instant the clock shows `wall` (a `wallTimeOf` value) or a later time: when it shows `wall`
   * (the first time, in the hour repeated in autumn), or when it jumps past it (in the hour skipped in spring, or
   * a skipped day). It is never earlier for a later `wall`.
   */
  firstShowing(wall: number): number {
    // The offsets in force a day before and after cover any one clock change near this time.
    const before = this.offsetAt(wall - DAY_MS);
    const after = this.offsetAt(wall + DAY_MS);
    const shownAt = [wall - before, wall - after].filter((instant) => this.show(instant) === wall);
    if (shownAt.length > 0) return Math.min(...shownAt);
    // Never shown: the clock jumps past it between the two offsets.
    const low = wall - Math.max(before, after);
    const high = wall - Math.min(before, after);
    if (this.show(low) < wall && this.show(high) >= wall) return this.#jumpPast(wall, low, high);
    return this.#jumpPast(wall, wall - SEARCH_SPAN_MS, wall + SEARCH_SPAN_MS);
  }

  /** The first whole second in [low, high] at which the clock shows `wall` or later (clock changes are on seconds). */
  #jumpPast(wall: number, low: number, high: number): number {
    let below = Math.floor(low / SECOND_MS);
    let atOrAbove = Math.ceil(high / SECOND_MS);
    while (atOrAbove - below > 1) {
      const middle = Math.floor((below + atOrAbove) / 2);
      if (this.show(middle * SECOND_MS) >= wall) atOrAbove = middle;
      else below = middle;
    }
    return atOrAbove * SECOND_MS;
  }
}

/** `minute` minutes after midnight of `date` on the wall (1440 and more run into the next days). */
export function wallTimeOf(date: CivilDate, minute: number): number {
  return Date.UTC(date.year, date.month - 1, date.day, 0, minute);
}

export function addDays(date: CivilDate, days: number): CivilDate {
  const moved = new Date(Date.UTC(date.year, date.month - 1, date.day + days));
  return { year: moved.getUTCFullYear(), month: moved.getUTCMonth() + 1, day: moved.getUTCDate() };
}

/** 0 = Sunday … 6 = Saturday. */
export function weekday(date: CivilDate): number {
  return new Date(Date.UTC(date.year, date.month - 1, date.day)).getUTCDay();
}
