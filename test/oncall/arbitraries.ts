/** fast-check generators of schedules, shared by the property tests. */
import fc from 'fast-check';
import type { Override, Rotation, Schedule } from '../../src/oncall/schedule';
import { WEEKDAYS } from '../../src/oncall/schedule';

/** Zones with the changes that break naive code: 30- and 45-minute offsets, half-hour DST, several changes a year. */
export const ZONES = [
  'America/New_York',
  'Europe/Berlin',
  'Australia/Sydney',
  'Pacific/Chatham',
  'Australia/Lord_Howe',
  'America/St_Johns',
  'America/Santiago',
  'Africa/Casablanca',
  'Asia/Kolkata',
  'Europe/London',
  'UTC',
];

/** The two years the properties are checked over. */
export const FROM = Date.parse('2026-01-01T00:00:00Z');
export const TO = Date.parse('2028-01-01T00:00:00Z');

const pad = (n: number) => String(n).padStart(2, '0');

/** A local date-time between mid-2025 and mid-2028, often at the hours clocks change. */
export const localDateTime = fc
  .record({
    day: fc.integer({ min: 0, max: 3 * 365 }),
    hour: fc.oneof(fc.constantFrom(0, 1, 2, 3), fc.integer({ min: 0, max: 23 })),
    minute: fc.constantFrom(0, 15, 30, 45),
  })
  .map(({ day, hour, minute }) => {
    const date = new Date(Date.UTC(2025, 5, 1) + day * 86_400_000).toISOString().slice(0, 10);
    return `${date}T${pad(hour)}:${pad(minute)}`;
  });

const userId = fc.constantFrom('U0ANN', 'U0BOB', 'U0CAT', 'U0DAN', 'U0EVE');

/** Distinct people, one per shift: neighbouring shifts of a rotation are never the same person's. */
export const distinctMembers = fc.uniqueArray(userId, { minLength: 2, maxLength: 5 });

export const kindAndEvery = fc.oneof(
  fc.record({ kind: fc.constant('hourly' as const), every: fc.integer({ min: 1, max: 48 }) }),
  fc.record({ kind: fc.constant('daily' as const), every: fc.integer({ min: 1, max: 10 }) }),
  fc.record({ kind: fc.constant('weekly' as const), every: fc.integer({ min: 1, max: 4 }) })
);

/** One plain rotation (no windows, no start or end) of distinct people. */
export const plainRotation: fc.Arbitrary<Rotation> = fc
  .record({ kindAndEvery, handoff: localDateTime, members: distinctMembers })
  .map(({ kindAndEvery, handoff, members }) => ({ name: 'Primary', ...kindAndEvery, handoff, members }));

const localTime = fc
  .record({ hour: fc.integer({ min: 0, max: 23 }), minute: fc.constantFrom(0, 30) })
  .map(({ hour, minute }) => `${pad(hour)}:${pad(minute)}`);

/** A rotation with everything optional drawn too: groups, a layer, windows, a start and an end. */
const anyRotation = (name: string): fc.Arbitrary<Rotation> =>
  fc
    .record(
      {
        kindAndEvery,
        handoff: localDateTime,
        members: fc.array(fc.oneof(userId, fc.uniqueArray(userId, { minLength: 1, maxLength: 3 })), { maxLength: 4 }),
        layer: fc.integer({ min: 0, max: 2 }),
        activeWindows: fc.array(
          fc.record(
            { days: fc.subarray([...WEEKDAYS], { minLength: 1 }), from: localTime, to: localTime },
            { requiredKeys: ['from', 'to'] }
          ),
          { maxLength: 2 }
        ),
        startsAt: localDateTime,
        endsAt: localDateTime,
      },
      { requiredKeys: ['kindAndEvery', 'handoff', 'members'] }
    )
    .map(({ kindAndEvery, ...rest }) => ({ name, ...kindAndEvery, ...rest }));

const instant = fc.integer({ min: FROM, max: TO - 1 });

const override = (id: string): fc.Arbitrary<Override> =>
  fc
    .record({
      start: instant,
      hours: fc.integer({ min: 1, max: 24 * 10 }),
      addUserId: fc.option(userId, { nil: undefined }),
      removeUserId: fc.option(userId, { nil: undefined }),
      createdAt: fc.integer({ min: 0, max: 1000 }),
    })
    .filter((o) => o.addUserId !== undefined || o.removeUserId !== undefined)
    .map(({ hours, ...o }) => ({ id, ...o, end: o.start + hours * 3_600_000 }));

/** A schedule of up to three rotations and five overrides in one of ZONES. */
export const anySchedule: fc.Arbitrary<Schedule> = fc.record({
  timeZone: fc.constantFrom(...ZONES),
  rotations: fc
    .tuple(anyRotation('A'), anyRotation('B'), anyRotation('C'))
    .chain((rotations) => fc.integer({ min: 1, max: 3 }).map((n) => rotations.slice(0, n))),
  overrides: fc
    .tuple(override('o1'), override('o2'), override('o3'), override('o4'), override('o5'))
    .chain((overrides) => fc.integer({ min: 0, max: 5 }).map((n) => overrides.slice(0, n))),
});

export { instant };
