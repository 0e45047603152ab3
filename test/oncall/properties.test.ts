/**
 * Properties over random schedules across two years (2026–2027), checked against the machine's own
 * Intl (not the Temporal polyfill the core reads zone rules from).
 */
import fc from 'fast-check';
import { onCallAt, shiftsBetween } from '../../src/oncall/on-call';
import { anySchedule, FROM, instant, plainRotation, TO, ZONES } from './arbitraries';

const formats = new Map<string, Intl.DateTimeFormat>();

/** "YYYY-MM-DDTHH:MM:SS" on the zone's wall clock at `instant`, by Intl. */
function wallClock(timeZone: string, instant: number): string {
  let format = formats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formats.set(timeZone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(instant).map((part) => [part.type, part.value]));
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}`;
}

const UNIT = { hourly: 3_600_000, daily: 86_400_000, weekly: 7 * 86_400_000 };

test('every non-empty rotation’s shifts meet end to end over two years: 0 gaps and 0 overlaps', () => {
  fc.assert(
    fc.property(plainRotation, fc.constantFrom(...ZONES), (rotation, timeZone) => {
      const shifts = shiftsBetween({ timeZone, rotations: [rotation], overrides: [] }, FROM, TO);

      expect(shifts[0]!.start).toBe(FROM);
      expect(shifts[shifts.length - 1]!.end).toBe(TO);
      for (let i = 1; i < shifts.length; i++) {
        if (shifts[i]!.start !== shifts[i - 1]!.end) {
          throw new Error(
            `gap or overlap between shift ${i - 1} and ${i}: ${JSON.stringify(shifts.slice(i - 1, i + 1))}`
          );
        }
        expect(shifts[i]!.end).toBeGreaterThan(shifts[i]!.start);
      }
    }),
    { numRuns: 40 }
  );
});

test('each shift starts at its local handoff time, or when the gap that swallowed it ends, or at a repeated time’s first occurrence', () => {
  fc.assert(
    fc.property(plainRotation, fc.constantFrom(...ZONES), (rotation, timeZone) => {
      const period = UNIT[rotation.kind] * (rotation.every ?? 1);
      const handoff = Date.parse(`${rotation.handoff}:00Z`);
      const shifts = shiftsBetween({ timeZone, rotations: [rotation], overrides: [] }, FROM, TO);

      const localAt = (k: number) => new Date(handoff + k * period).toISOString().slice(0, 19);
      for (let i = 1; i < shifts.length; i++) {
        const shift = shifts[i]!;
        const k = shift.shift!;
        const n = rotation.members.length;
        expect(shift.userId).toBe(rotation.members[((k % n) + n) % n]);
        const expected = localAt(k);
        const local = wallClock(timeZone, shift.start);
        if (local === expected) {
          // The first occurrence: half an hour or an hour earlier it was not already that time.
          expect(wallClock(timeZone, shift.start - 1_800_000)).not.toBe(expected);
          expect(wallClock(timeZone, shift.start - 3_600_000)).not.toBe(expected);
        } else {
          // A time that does not exist: the clock jumped over it at exactly this instant.
          expect(wallClock(timeZone, shift.start - 1) < expected && expected < local).toBe(true);
        }
        // A shift left out (empty) is one whose local time the same jump swallowed.
        for (let skipped = shifts[i - 1]!.shift! + 1; skipped < k; skipped++) {
          const missing = localAt(skipped);
          const before = wallClock(timeZone, shift.start - 1);
          if (!(before < missing && missing < local)) {
            throw new Error(`shift ${skipped} (${missing}) is missing, but the clock went from ${before} to ${local}`);
          }
        }
      }
    }),
    // Intl is slow: three wall-clock readings per shift over two years.
    { numRuns: 15 }
  );
});

test('the answer holds until `until`, changes there, and agrees with the shifts', () => {
  fc.assert(
    fc.property(anySchedule, instant, fc.double({ min: 0, max: 1, noNaN: true }), (schedule, at, fraction) => {
      const answer = onCallAt(schedule, at);
      const people = (users: string[]) => [...users].sort();

      const shifts = shiftsBetween(schedule, at, at + 1);
      expect(people(shifts.map((shift) => shift.userId))).toEqual(people(answer.users));
      if (answer.until === null) return;
      expect(answer.until).toBeGreaterThan(at);
      const inside = onCallAt(schedule, at + Math.floor((answer.until - at) * fraction * 0.999));
      expect([inside.users, inside.via]).toEqual([answer.users, answer.via]);
      const after = onCallAt(schedule, answer.until);
      expect([after.users, after.via]).not.toEqual([answer.users, answer.via]);
    }),
    { numRuns: 150 }
  );
});
