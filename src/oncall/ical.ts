/**
 * A schedule's shifts as an iCalendar feed (RFC 5545, written by ical-generator). Each event's UID
 * is a hash of what the shift is (schedule, person, rotation shift or override, start), so that a
 * calendar client refreshing the feed updates its events instead of adding copies.
 */
import { createHash } from 'node:crypto';
import ical from 'ical-generator';
import { shiftsBetween } from './on-call';
import type { StoredSchedule } from './store';
import { compileSchedule } from './schedule';

const DAY_MS = 86_400_000;
/** The feed's range is aligned on this grid, so that its first events keep their start (and UID) from day to day. */
const GRID_MS = 28 * DAY_MS;
const PAST_MS = GRID_MS;
const FUTURE_MS = 120 * DAY_MS;
/** Shifts that started up to this long before the range are read whole (the longest rotation shift, capped). */
const LOOK_BACK_MS = 8 * 7 * DAY_MS;

/** The feed of `schedule` as seen at `now` (epoch ms): about a month back and four months ahead; `userId`: one person's. */
export function scheduleCalendar(schedule: StoredSchedule, now: number, userId?: string): string {
  const from = Math.floor(now / GRID_MS) * GRID_MS - PAST_MS;
  const to = now + FUTURE_MS;
  const longest = Math.max(0, ...compileSchedule(schedule).rotations.map((rotation) => rotation.periodLocal));
  const shifts = shiftsBetween(schedule, from - Math.min(longest, LOOK_BACK_MS), to).filter(
    (shift) => shift.end > from && (userId === undefined || shift.userId === userId)
  );
  const calendar = ical({
    name: userId ? `${schedule.name}: ${userId} on call` : `${schedule.name} on call`,
    prodId: { company: 'Escalator', product: 'On call', language: 'EN' },
    timezone: null,
  });
  for (const shift of shifts) {
    const identity = [
      schedule.id,
      shift.userId,
      shift.rotation ?? '',
      shift.shift ?? '',
      shift.overrideId ?? '',
      shift.start,
    ];
    calendar.createEvent({
      id: `${createHash('sha256').update(identity.join('\u0000')).digest('hex').slice(0, 32)}@escalator`,
      start: new Date(shift.start),
      end: new Date(shift.end),
      // The schedule's last change: a client sees an event as changed only when the schedule changed.
      stamp: schedule.updatedAt,
      summary: `${shift.userId} on call${shift.rotation ? ` (${shift.rotation})` : ''}${shift.overrideId ? ' by override' : ''}`,
      description: shift.overrideId
        ? `Override ${shift.overrideId} of ${schedule.name}`
        : `Shift of ${shift.rotation ?? schedule.name} in ${schedule.name} (${schedule.timeZone})`,
    });
  }
  return calendar.toString();
}
