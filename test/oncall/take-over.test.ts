import { onCallAt } from '../../src/oncall/on-call';
import type { Schedule } from '../../src/oncall/schedule';
import { defaultTakeEnd, takeOverOverrides } from '../../src/oncall/take-over';
import { parseUntil, parseWhen } from '../../src/oncall/when';

const HOUR = 3_600_000;
const berlinDaily: Schedule = {
  timeZone: 'Europe/Berlin',
  rotations: [
    { name: 'Primary', kind: 'daily', every: 1, handoff: '2026-03-01T09:00', members: ['U0ANN', 'U0BOB'], layer: 0 },
  ],
  overrides: [],
};

describe('takeOverOverrides', () => {
  test('across a handoff: one replacement per person on call first, and the person is first throughout', () => {
    const start = Date.parse('2026-03-02T06:00:00Z'); // 07:00 in Berlin: Ann (since 1 March 09:00) until 09:00, then Bob
    const end = start + 6 * HOUR;
    const drafts = takeOverOverrides(berlinDaily, 'U0CAT', start, end);
    expect(drafts).toEqual([
      { start, end: Date.parse('2026-03-02T08:00:00Z'), addUserId: 'U0CAT', removeUserId: 'U0ANN' },
      { start: Date.parse('2026-03-02T08:00:00Z'), end, addUserId: 'U0CAT', removeUserId: 'U0BOB' },
    ]);
    const withThem: Schedule = {
      ...berlinDaily,
      overrides: drafts.map((draft, i) => ({ id: `o${i}`, createdAt: i, ...draft })),
    };
    for (let at = start; at < end; at += HOUR / 2) expect(onCallAt(withThem, at).users[0]).toBe('U0CAT');
  });

  test('nothing when the person already is first on call throughout', () => {
    const start = Date.parse('2026-03-02T09:00:00Z');
    expect(takeOverOverrides(berlinDaily, 'U0BOB', start, start + HOUR)).toEqual([]);
  });

  test('take without a duration lasts until the person on call hands over', () => {
    const now = Date.parse('2026-03-02T06:30:00Z');
    expect(defaultTakeEnd(berlinDaily, now)).toBe(Date.parse('2026-03-02T08:00:00Z'));
  });
});

describe('parseWhen and parseUntil (the schedule’s zone)', () => {
  const after = Date.parse('2026-03-28T20:00:00Z'); // 21:00 in Berlin, the night before summer time
  test('a local time is the next time the clock shows it; a local time in the spring-forward gap is the first instant after it', () => {
    expect(parseWhen('22:00', 'Europe/Berlin', after)).toBe(Date.parse('2026-03-28T21:00:00Z'));
    expect(parseWhen('09:00', 'Europe/Berlin', after)).toBe(Date.parse('2026-03-29T07:00:00Z'));
    expect(parseWhen('02:30', 'Europe/Berlin', after)).toBe(Date.parse('2026-03-29T01:00:00Z'));
  });

  test('now, a local date-time, a duration; anything else is not read', () => {
    expect(parseWhen('now', 'Europe/Berlin', after)).toBe(after);
    expect(parseWhen('2026-12-24T09:00', 'Europe/Berlin', after)).toBe(Date.parse('2026-12-24T08:00:00Z'));
    expect(parseUntil('4h', 'Europe/Berlin', after)).toBe(after + 4 * HOUR);
    expect(parseUntil('2d', 'Europe/Berlin', after)).toBe(after + 48 * HOUR);
    expect(parseWhen('tomorrow', 'Europe/Berlin', after)).toBeUndefined();
    expect(parseWhen('25:00', 'Europe/Berlin', after)).toBeUndefined();
  });
});
