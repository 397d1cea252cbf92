// windowState in every IANA zone this Node knows, over years with clock changes of every kind (spring gaps,
// autumn overlaps, zones that changed their standard offset, Pacific/Apia's skipped 2011-12-30), with the clock
// given to it: at and around every change, windows placed in the gap or over it, and random windows at random
// times. What is checked is read off the wall clock independently (Intl's formatToParts), not recomputed the way
// windowState computes it.
import { describe, expect, it } from 'vitest';
import { type MaintenanceWindow, parseWindow, type WindowState, windowState } from './maintenance-window.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** How often the clock is read between now and the next opening, looking for an earlier one. */
const PROBE_STEP = 15 * 60_000;
const ZONES = Intl.supportedValuesOf('timeZone');
/** The years searched for clock changes in every zone: Apia's skipped day, then the last few years and the next. */
const SPANS: ReadonlyArray<readonly [number, number]> = [
  [Date.UTC(2011, 0, 1), Date.UTC(2012, 6, 1)],
  [Date.UTC(2024, 0, 1), Date.UTC(2028, 0, 1)],
];

/** The wall clock of a zone, read with formatToParts: the oracle. */
function wallReader(zone: string): (instant: number) => number {
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });
  return (instant) => {
    const part: Record<string, number> = {};
    for (const { type, value } of format.formatToParts(instant)) part[type] = Number(value);
    return Date.UTC(part.year!, part.month! - 1, part.day!, part.hour! % 24, part.minute!, part.second!);
  };
}

/** Every instant in [from, to) at which a zone's offset changes: a weekly scan, then a search to the second. */
function clockChanges(wall: (instant: number) => number, from: number, to: number): number[] {
  const offset = (instant: number) => wall(instant) - instant;
  const changes: number[] = [];
  for (let start = from; start < to; start += 7 * DAY) {
    let low = start;
    let high = start + 7 * DAY;
    if (offset(low) === offset(high)) continue;
    while (high - low > 1000) {
      const middle = low + Math.floor((high - low) / 2000) * 1000;
      if (offset(middle) === offset(low)) low = middle;
      else high = middle;
    }
    changes.push(high);
  }
  return changes;
}

function window(text: string): MaintenanceWindow {
  const parsed = parseWindow(text);
  if (!parsed.ok) throw new Error(`${text}: ${parsed.problem}`);
  return parsed.window;
}

const DAY_NAMES = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const hhmm = (minute: number) =>
  `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;

/** Whether the wall time `shown` is within `window` as written: its days, its times, across midnight. */
function writtenCovers(window: MaintenanceWindow, shown: number): boolean {
  const midnight = Math.floor(shown / DAY) * DAY;
  for (const opened of [midnight, midnight - DAY]) {
    if (!window.days.has(new Date(opened).getUTCDay())) continue;
    const start = opened + window.startMinute * 60_000;
    const end = opened + (window.endMinute + (window.crossesMidnight ? 1440 : 0)) * 60_000;
    if (start <= shown && shown < end) return true;
  }
  return false;
}

/** A seeded generator (mulberry32), so a failure can be run again. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * The wall clock from the offsets between the changes found, for the many probes of `check`: arithmetic within
 * the spans searched, formatToParts outside them.
 */
function modelledWall(
  wall: (instant: number) => number,
  changes: readonly number[],
): (instant: number) => number {
  const offsets = changes.map((at) => wall(at) - at);
  const starts = SPANS.map(([from, to]) => ({ from, to, offset: wall(from) - from }));
  return (instant) => {
    const span = starts.find(({ from, to }) => from <= instant && instant < to);
    if (!span) return wall(instant);
    let offset = span.offset;
    let low = 0;
    let high = changes.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (changes[middle]! <= instant) low = middle + 1;
      else high = middle;
    }
    if (low > 0 && changes[low - 1]! >= span.from) offset = offsets[low - 1]!;
    const second = Math.floor(instant / 1000) * 1000;
    return second + offset;
  };
}

interface Checked {
  readonly zone: string;
  readonly wall: (instant: number) => number;
  /** Clock changes that set the clock back: the wall times after one were shown before. */
  readonly backwards: readonly number[];
}

/**
 * The properties of one answer: never an error; inside means the clock shows a time of the window now; the next
 * opening is a time the clock shows within the window as written, on one of its days, within two weeks; and
 * nothing the clock shows in between (each hour, each clock change) is within a window.
 */
function check(zone: Checked, now: number, windows: readonly MaintenanceWindow[]): string | undefined {
  let state: WindowState;
  try {
    state = windowState(now, windows, zone.zone);
  } catch (error) {
    return `threw ${(error as Error).message}`;
  }
  const covered = (instant: number) => windows.some((each) => writtenCovers(each, zone.wall(instant)));
  // After the clock is set back it shows again times it showed before, which windowState counts once.
  const repeated = (instant: number) =>
    zone.backwards.some((at) => at <= instant && instant < at + 26 * HOUR);
  if (state.inside) {
    if (!(state.closesAt > now)) return `inside, but closes at ${iso(state.closesAt)}`;
    if (!covered(now)) return 'inside, but the clock shows no time of a window';
    return undefined;
  }
  const { opensAt, closesAt } = state;
  if (!(now < opensAt && opensAt < closesAt)) return `opens ${iso(opensAt)}, closes ${iso(closesAt)}`;
  if (opensAt - now > 15 * DAY) return `opens only ${iso(opensAt)}`;
  if (!covered(opensAt)) return `opens ${iso(opensAt)}, when the clock shows ${iso(zone.wall(opensAt))}`;
  if (!windowState(opensAt, windows, zone.zone).inside) return `not inside at its opening ${iso(opensAt)}`;
  const probes = [now];
  for (let probe = now + PROBE_STEP; probe < opensAt; probe += PROBE_STEP) probes.push(probe);
  for (const change of zone.backwards) if (now <= change && change < opensAt) probes.push(change);
  for (const probe of probes) {
    if (covered(probe) && !repeated(probe)) return `outside, but the clock shows a window at ${iso(probe)}`;
  }
  return undefined;
}

const iso = (instant: number) => new Date(instant).toISOString();

describe('windowState in every IANA zone', () => {
  it('finds the next opening and tells inside from outside across every clock change', () => {
    expect(ZONES.length).toBeGreaterThan(300);
    expect(ZONES).toContain('Pacific/Apia');
    const failures: string[] = [];
    let cases = 0;
    const next = random(0x5eed);
    for (const name of ZONES) {
      const wall = wallReader(name);
      const changes = SPANS.flatMap(([from, to]) => clockChanges(wall, from, to));
      const backwards = changes.filter((at) => wall(at) < wall(at - 1000) + 1000);
      const zone: Checked = { zone: name, wall: modelledWall(wall, changes), backwards };
      const tryCase = (now: number, texts: string[]) => {
        cases++;
        const problem = check(zone, now, texts.map(window));
        if (problem) failures.push(`${name} at ${iso(now)} with ${JSON.stringify(texts)}: ${problem}`);
      };
      for (const change of changes) {
        // The wall times just before and at the change: the gap (or the overlap) between them.
        const before = wall(change - 1000) + 1000;
        const after = wall(change);
        const day = DAY_NAMES[new Date(before).getUTCDay()]!;
        const beforeMinute = Math.floor((before % DAY) / 60_000);
        const afterMinute = Math.floor((after % DAY) / 60_000);
        const inGap =
          after > before &&
          Math.floor(before / DAY) === Math.floor(after / DAY) &&
          afterMinute > beforeMinute;
        const windows = [
          // Wholly in the gap (the window that does not open that day), or over the repeated hour.
          inGap
            ? [`${day} ${hhmm(beforeMinute)}-${hhmm(afterMinute)}`]
            : [`${day} ${hhmm(afterMinute)}-${hhmm((beforeMinute + 60) % 1440)}`],
          // Opening at the change, for two hours, crossing midnight when it comes to that.
          [`${day} ${hhmm(beforeMinute)}-${hhmm((beforeMinute + 120) % 1440)}`],
          [`${day} 00:00-24:00`, `${DAY_NAMES[(DAY_NAMES.indexOf(day) + 3) % 7]} 23:00-01:00`],
        ].filter((texts) => texts.every((text) => parseWindow(text).ok));
        for (const texts of windows) {
          // The week before (the next window may be the one the change removes), just before, just after.
          for (const now of [change - 6.5 * DAY, change - 1000, change + HOUR]) {
            tryCase(now, texts);
          }
        }
      }
      // Random windows at random times, changes or not.
      for (let i = 0; i < 6; i++) {
        const [from, to] = SPANS[i % SPANS.length]!;
        const now = from + Math.floor(next() * (to - from));
        const days = DAY_NAMES[Math.floor(next() * 7)]!;
        const start = Math.floor(next() * 96) * 15;
        const end = (start + 15 * (1 + Math.floor(next() * 40))) % 1440;
        tryCase(now, [`${i % 2 === 0 ? `${days} ` : ''}${hhmm(start)}-${hhmm(end || 1440)}`]);
      }
    }
    expect({ failed: failures.length, first: failures.slice(0, 20) }).toEqual({ failed: 0, first: [] });
    expect(cases).toBeGreaterThan(ZONES.length * 6);
  }, 120_000);
});
