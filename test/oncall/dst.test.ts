/**
 * Handoffs at each daylight-saving change of 2026–2027 in a northern American, a European and a
 * southern zone. The changes are written out by hand below (from the zones' published rules), and
 * the expected shifts are worked out from them alone: a handoff at a local time that does not exist
 * happens when the gap ends, one that exists twice at its first occurrence.
 */
import { shiftsBetween } from '../../src/oncall/on-call';
import type { Rotation, Schedule } from '../../src/oncall/schedule';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

interface Change {
  zone: string;
  /** The local date of the change. */
  date: string;
  /** The instant of the change. */
  at: string;
  /** Offsets in hours before and after. */
  before: number;
  after: number;
}

const CHANGES: Change[] = [
  { zone: 'America/New_York', date: '2026-03-08', at: '2026-03-08T07:00:00Z', before: -5, after: -4 },
  { zone: 'America/New_York', date: '2026-11-01', at: '2026-11-01T06:00:00Z', before: -4, after: -5 },
  { zone: 'America/New_York', date: '2027-03-14', at: '2027-03-14T07:00:00Z', before: -5, after: -4 },
  { zone: 'America/New_York', date: '2027-11-07', at: '2027-11-07T06:00:00Z', before: -4, after: -5 },
  { zone: 'Europe/Berlin', date: '2026-03-29', at: '2026-03-29T01:00:00Z', before: 1, after: 2 },
  { zone: 'Europe/Berlin', date: '2026-10-25', at: '2026-10-25T01:00:00Z', before: 2, after: 1 },
  { zone: 'Europe/Berlin', date: '2027-03-28', at: '2027-03-28T01:00:00Z', before: 1, after: 2 },
  { zone: 'Europe/Berlin', date: '2027-10-31', at: '2027-10-31T01:00:00Z', before: 2, after: 1 },
  { zone: 'Australia/Sydney', date: '2026-04-05', at: '2026-04-04T16:00:00Z', before: 11, after: 10 },
  { zone: 'Australia/Sydney', date: '2026-10-04', at: '2026-10-03T16:00:00Z', before: 10, after: 11 },
  { zone: 'Australia/Sydney', date: '2027-04-04', at: '2027-04-03T16:00:00Z', before: 11, after: 10 },
  { zone: 'Australia/Sydney', date: '2027-10-03', at: '2027-10-02T16:00:00Z', before: 10, after: 11 },
];

/** A local date-time "YYYY-MM-DDTHH:MM" as if it were UTC: wall-clock arithmetic. */
function wall(text: string): number {
  return Date.parse(`${text}:00Z`);
}

/** The instant a local wall-clock time happens near `change`, by the on-call rule, from the table alone. */
function expectedInstant(change: Change, local: number): number {
  const at = Date.parse(change.at);
  const before = change.before * HOUR;
  const after = change.after * HOUR;
  if (local < at + before) return local - before; // before the change (and a repeated time's first occurrence)
  if (local < at + after) return at; // in the spring-forward gap: when the gap ends
  return local - after;
}

function scheduleOf(zone: string, rotation: Rotation): Schedule {
  return { timeZone: zone, rotations: [rotation], overrides: [] };
}

const MEMBERS = ['U0ANN', 'U0BOB', 'U0CAT'];

/** The shifts of `rotation` whose start lies in [from, to), with their members, worked out from the table. */
function expectedShifts(change: Change, handoff: string, periodHours: number, from: number, to: number) {
  const handoffLocal = wall(handoff);
  const period = periodHours * HOUR;
  const shifts: Array<{ userId: string; start: number; end: number }> = [];
  const firstK = Math.floor((from + change.before * HOUR - handoffLocal) / period) - 2;
  for (let k = firstK; ; k++) {
    const start = expectedInstant(change, handoffLocal + k * period);
    const end = expectedInstant(change, handoffLocal + (k + 1) * period);
    if (start >= to) break;
    if (start < from || end === start) continue;
    shifts.push({ userId: MEMBERS[((k % 3) + 3) % 3]!, start, end });
  }
  return shifts;
}

const KINDS: Array<{ label: string; rotation: Omit<Rotation, 'handoff' | 'name' | 'members'>; hours: number }> = [
  { label: 'hourly', rotation: { kind: 'hourly' }, hours: 1 },
  { label: '12-hourly', rotation: { kind: 'hourly', every: 12 }, hours: 12 },
  { label: 'daily', rotation: { kind: 'daily' }, hours: 24 },
  { label: 'weekly', rotation: { kind: 'weekly' }, hours: 168 },
];

/** Handoff times of day to try: business hours, and the hours the changes happen in. */
const HANDOFF_TIMES = ['08:00', '02:30', '02:00', '03:00', '01:30'];

describe.each(CHANGES)('$zone on $date', (change) => {
  test.each(KINDS)('$label shifts hand off at their local times around the change', ({ rotation, hours }) => {
    const day = wall(`${change.date}T00:00`);
    for (const time of HANDOFF_TIMES) {
      // A handoff date a few weeks before the change: shifts repeat forwards from it.
      const handoff = new Date(day - 29 * DAY).toISOString().slice(0, 10) + `T${time}`;
      const schedule = scheduleOf(change.zone, { name: 'Primary', handoff, members: MEMBERS, ...rotation });
      const span = hours >= 168 ? 8 * DAY : 2 * DAY;
      const from = Date.parse(change.at) - span;
      const to = Date.parse(change.at) + span;

      const shifts = shiftsBetween(schedule, from, to)
        .filter((shift) => shift.start > from && shift.end < to)
        .map(({ userId, start, end }) => ({ userId, start, end }));

      const expected = expectedShifts(change, handoff, hours, from, to).filter(
        (shift) => shift.start > from && shift.end < to
      );
      expect({ handoff, shifts: shifts.map(show) }).toEqual({ handoff, shifts: expected.map(show) });
    }
  });
});

function show(shift: { userId: string; start: number; end: number }): string {
  return `${shift.userId} ${new Date(shift.start).toISOString()} → ${new Date(shift.end).toISOString()}`;
}

describe('the cases spelled out', () => {
  const zoneShifts = (zone: string, rotation: Omit<Rotation, 'name' | 'members'>, from: string, to: string) =>
    shiftsBetween(
      scheduleOf(zone, { name: 'Primary', members: ['U0ANN', 'U0BOB'], ...rotation }),
      Date.parse(from),
      Date.parse(to)
    ).map((shift) => [shift.userId, new Date(shift.start).toISOString(), new Date(shift.end).toISOString()]);

  test('a 12-hourly rotation in New York hands off at 08:00 and 20:00 on both sides of spring forward', () => {
    expect(
      zoneShifts(
        'America/New_York',
        { kind: 'hourly', every: 12, handoff: '2026-03-01T08:00' },
        '2026-03-07T13:00:00Z',
        '2026-03-09T00:00:00Z'
      )
    ).toEqual([
      ['U0ANN', '2026-03-07T13:00:00.000Z', '2026-03-08T01:00:00.000Z'], // 08:00 EST → 20:00 EST
      ['U0BOB', '2026-03-08T01:00:00.000Z', '2026-03-08T12:00:00.000Z'], // 20:00 EST → 08:00 EDT: 11 h
      ['U0ANN', '2026-03-08T12:00:00.000Z', '2026-03-09T00:00:00.000Z'], // 08:00 EDT → 20:00 EDT
    ]);
  });

  test('a daily 02:30 handoff in New York happens at 03:00 EDT on spring forward and at 01:30 EDT on fall back', () => {
    const spring = zoneShifts(
      'America/New_York',
      { kind: 'daily', handoff: '2026-03-01T02:30' },
      '2026-03-07T07:30:00Z',
      '2026-03-09T06:30:00Z'
    );
    const fall = zoneShifts(
      'America/New_York',
      { kind: 'daily', handoff: '2026-10-01T01:30' },
      '2026-10-31T05:30:00Z',
      '2026-11-02T06:30:00Z'
    );

    expect(spring).toEqual([
      ['U0ANN', '2026-03-07T07:30:00.000Z', '2026-03-08T07:00:00.000Z'], // 02:30 EST → 03:00 EDT (the gap's end)
      ['U0BOB', '2026-03-08T07:00:00.000Z', '2026-03-09T06:30:00.000Z'], // → 02:30 EDT
    ]);
    expect(fall).toEqual([
      ['U0ANN', '2026-10-31T05:30:00.000Z', '2026-11-01T05:30:00.000Z'], // 01:30 EDT → 01:30 EDT (first of two)
      ['U0BOB', '2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z'], // → 01:30 EST: 25 h
    ]);
  });

  test('an hourly rotation in Berlin skips the hour that does not exist and holds the repeated hour twice as long', () => {
    const spring = zoneShifts(
      'Europe/Berlin',
      { kind: 'hourly', handoff: '2026-03-29T00:00' },
      '2026-03-28T23:00:00Z',
      '2026-03-29T02:00:00Z'
    );
    const fall = zoneShifts(
      'Europe/Berlin',
      { kind: 'hourly', handoff: '2026-10-25T00:00' },
      '2026-10-24T22:00:00Z',
      '2026-10-25T03:00:00Z'
    );

    // 00:00 CET Ann, 01:00 Bob, 02:00 (does not exist: empty) Ann, 03:00 CEST Bob.
    expect(spring).toEqual([
      ['U0ANN', '2026-03-28T23:00:00.000Z', '2026-03-29T00:00:00.000Z'],
      ['U0BOB', '2026-03-29T00:00:00.000Z', '2026-03-29T01:00:00.000Z'],
      ['U0BOB', '2026-03-29T01:00:00.000Z', '2026-03-29T02:00:00.000Z'],
    ]);
    // 00:00 CEST Ann, 01:00 Bob, 02:00 CEST Ann until 03:00 CET (two hours), 03:00 CET Bob.
    expect(fall).toEqual([
      ['U0ANN', '2026-10-24T22:00:00.000Z', '2026-10-24T23:00:00.000Z'],
      ['U0BOB', '2026-10-24T23:00:00.000Z', '2026-10-25T00:00:00.000Z'],
      ['U0ANN', '2026-10-25T00:00:00.000Z', '2026-10-25T02:00:00.000Z'],
      ['U0BOB', '2026-10-25T02:00:00.000Z', '2026-10-25T03:00:00.000Z'],
    ]);
  });

  test('a weekly Sunday 02:30 handoff in Sydney: 167 hours across spring forward, 169 across fall back', () => {
    const shifts = zoneShifts(
      'Australia/Sydney',
      { kind: 'weekly', handoff: '2026-03-29T02:30' },
      '2026-03-28T15:30:00Z',
      '2026-04-11T16:30:00Z'
    );
    const spring = zoneShifts(
      'Australia/Sydney',
      { kind: 'weekly', handoff: '2026-09-27T02:30' },
      '2026-09-26T16:30:00Z',
      '2026-10-10T15:30:00Z'
    );

    expect(shifts).toEqual([
      ['U0ANN', '2026-03-28T15:30:00.000Z', '2026-04-04T15:30:00.000Z'], // 02:30 AEDT → 02:30 AEDT (first of two)
      ['U0BOB', '2026-04-04T15:30:00.000Z', '2026-04-11T16:30:00.000Z'], // → 02:30 AEST: 169 h
    ]);
    expect(spring).toEqual([
      ['U0ANN', '2026-09-26T16:30:00.000Z', '2026-10-03T16:00:00.000Z'], // 02:30 AEST → 03:00 AEDT (gap's end)
      ['U0BOB', '2026-10-03T16:00:00.000Z', '2026-10-10T15:30:00.000Z'], // → 02:30 AEDT
    ]);
  });
});
