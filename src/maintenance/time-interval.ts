/**
 * Alertmanager's `time_interval`, with its fields and meaning, so that a team can copy its mute
 * timings as they are: `times` (`HH:MM` to `HH:MM`, the end excluded, up to `24:00`), `weekdays`,
 * `days_of_month` (negative days count back from the month's end: -1 is its last day), `months`,
 * `years`, each a list of values or inclusive `a:b` ranges, all read on the wall clock of
 * `location` (IANA, default UTC). An instant is inside when every field given has a range that
 * holds it. Validation refuses what Alertmanager refuses, with its reasons.
 *
 * Pure: instants are epoch milliseconds; local wall-clock parts come from src/oncall/zone-clock.ts.
 */
import { z } from 'zod';
import { DAY_MS, instantOf, isIanaTimeZone, localOf, MINUTE_MS } from '../oncall/zone-clock';

const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const MONTHS = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
];

interface Range {
  begin: number;
  end: number;
}

export interface CompiledInterval {
  /** Minutes of the day, [start, end). */
  times?: Array<{ start: number; end: number }>;
  /** 0 = Sunday. */
  weekdays?: Range[];
  daysOfMonth?: Range[];
  months?: Range[];
  years?: Range[];
  location: string;
}

const TIME = /^(?:([01]\d|2[0-3]):([0-5]\d)|24:00)$/;

function minuteOfDay(text: string): number | undefined {
  const match = TIME.exec(text);
  if (!match) return undefined;
  return match[1] === undefined ? 24 * 60 : Number(match[1]) * 60 + Number(match[2]);
}

/** `a` or `a:b`, each member read by `member` (a name or a number). */
function parseRange(text: string, member: (word: string) => number | undefined): Range | string {
  const words = text.trim().toLowerCase().split(':');
  if (words.length > 2 || words.some((word) => word === '')) return `"${text}" is not a value or a range a:b`;
  const values = words.map(member);
  if (values.some((value) => value === undefined)) return `"${text}" is not valid here`;
  const [begin, end = begin] = values as number[];
  return { begin: begin as number, end: end as number };
}

const integer = (word: string) => (/^-?\d+$/.test(word) ? Number(word) : undefined);
const weekday = (word: string) => (WEEKDAYS.includes(word) ? WEEKDAYS.indexOf(word) : undefined);
const month = (word: string) => (MONTHS.includes(word) ? MONTHS.indexOf(word) + 1 : integer(word));

const rangeList = z.array(z.string().max(40)).max(50);

export const timeIntervalSchema = z
  .object({
    times: z
      .array(z.object({ start_time: z.string(), end_time: z.string() }).strict())
      .max(50)
      .optional(),
    weekdays: rangeList.optional(),
    days_of_month: rangeList.optional(),
    months: rangeList.optional(),
    years: rangeList.optional(),
    location: z.string().optional(),
  })
  .strict()
  .transform((interval, ctx): CompiledInterval => {
    const fail = (path: Array<string | number>, message: string) => {
      ctx.addIssue({ code: 'custom', path, message });
      return z.NEVER;
    };
    const location = interval.location ?? 'UTC';
    if (!isIanaTimeZone(location)) fail(['location'], `"${location}" is not an IANA time zone`);
    const compiled: CompiledInterval = { location };
    if (interval.times) {
      compiled.times = [];
      interval.times.forEach((time, i) => {
        const start = minuteOfDay(time.start_time);
        const end = minuteOfDay(time.end_time);
        if (start === undefined || start === 24 * 60)
          return fail(['times', i, 'start_time'], `"${time.start_time}" is not a time HH:MM`);
        if (end === undefined)
          return fail(['times', i, 'end_time'], `"${time.end_time}" is not a time HH:MM (up to 24:00)`);
        if (start >= end) return fail(['times', i], 'start time cannot be equal or greater than end time');
        compiled.times!.push({ start, end });
      });
    }
    const ranges = (
      field: 'weekdays' | 'days_of_month' | 'months' | 'years',
      member: (word: string) => number | undefined,
      check: (range: Range) => string | undefined
    ): Range[] | undefined =>
      interval[field]?.map((text, i) => {
        const range = parseRange(text, member);
        const problem = typeof range === 'string' ? range : check(range);
        return problem ? fail([field, i], problem) : (range as Range);
      });
    compiled.weekdays = ranges('weekdays', weekday, (r) =>
      r.begin > r.end ? 'start day cannot be after end day' : undefined
    );
    compiled.daysOfMonth = ranges('days_of_month', integer, (r) => {
      for (const day of [r.begin, r.end]) {
        if (day === 0 || day < -31 || day > 31) return `${day} is not a valid day of the month: out of range`;
      }
      if (r.begin < 0 && r.end > 0) return 'end day must be negative if start day is negative';
      // As Alertmanager: months of other lengths cannot be checked, but a range always empty can.
      const begin = r.begin < 0 ? 28 + r.begin : r.begin;
      const end = r.end < 0 ? 28 + r.end : r.end;
      return begin > end ? `end day ${r.end} is always before start day ${r.begin}` : undefined;
    });
    compiled.months = ranges('months', month, (r) => {
      if (r.begin < 1 || r.begin > 12 || r.end < 1 || r.end > 12) return 'months are 1 to 12 or their names';
      return r.begin > r.end ? 'end month is before start month' : undefined;
    });
    compiled.years = ranges('years', integer, (r) => {
      if (r.begin < 1 || r.end < 1) return 'years are positive';
      return r.begin > r.end ? `end year ${r.end} is before start year ${r.begin}` : undefined;
    });
    for (const key of ['weekdays', 'daysOfMonth', 'months', 'years'] as const) {
      if (compiled[key] === undefined) delete compiled[key];
    }
    return compiled;
  });

export type TimeIntervalInput = z.input<typeof timeIntervalSchema>;

function within(ranges: Range[] | undefined, value: number): boolean {
  return ranges === undefined || ranges.some((range) => value >= range.begin && value <= range.end);
}

function daysInMonth(year: number, monthIndex: number): number {
  return new Date(Date.UTC(year, monthIndex + 1, 0)).getUTCDate();
}

/** Whether `instant` is inside the interval, read on its location's wall clock. */
export function intervalContains(interval: CompiledInterval, instant: number): boolean {
  const local = new Date(localOf(interval.location, instant));
  const minute = local.getUTCHours() * 60 + local.getUTCMinutes();
  if (interval.times && !interval.times.some((time) => minute >= time.start && minute < time.end)) return false;
  if (interval.daysOfMonth) {
    const days = daysInMonth(local.getUTCFullYear(), local.getUTCMonth());
    const day = local.getUTCDate();
    const inside = interval.daysOfMonth.some((range) => {
      const begin = range.begin < 0 ? days + range.begin + 1 : range.begin;
      const end = range.end < 0 ? days + range.end + 1 : range.end;
      if (begin > days) return false;
      return day >= Math.max(begin, -days) && day <= Math.min(end, days);
    });
    if (!inside) return false;
  }
  return (
    within(interval.months, local.getUTCMonth() + 1) &&
    within(interval.weekdays, local.getUTCDay()) &&
    within(interval.years, local.getUTCFullYear())
  );
}

/**
 * The local wall-clock instants at which the answer may change on the local day of `local`:
 * its midnight and each `times` edge. Between two of them the answer is the same.
 */
function edgesOfDay(interval: CompiledInterval, localDay: number): number[] {
  const minutes = new Set<number>([0]);
  for (const time of interval.times ?? []) minutes.add(time.start).add(time.end % (24 * 60));
  return [...minutes].sort((a, b) => a - b).map((minute) => localDay + minute * MINUTE_MS);
}

/** How far ahead a change is looked for: beyond it, `until` is null (a window on, say, years). */
const HORIZON_DAYS = 800;

/**
 * The first instant after `from` at which `intervalContains` gives `wanted`, or null within the
 * horizon. Exact: between consecutive edges (midnights and `times` edges, on the local clock)
 * nothing changes, so only edges are tried.
 */
export function nextChange(interval: CompiledInterval, from: number, wanted: boolean): number | null {
  const zone = interval.location;
  const firstDay = Math.floor(localOf(zone, from) / DAY_MS) * DAY_MS;
  for (let day = 0; day < HORIZON_DAYS; day++) {
    for (const edgeLocal of edgesOfDay(interval, firstDay + day * DAY_MS)) {
      const edge = instantOf(zone, edgeLocal);
      if (edge > from && intervalContains(interval, edge) === wanted) return edge;
    }
  }
  return null;
}
