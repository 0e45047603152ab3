/**
 * "I am on call now" from Slack (`/escalator take`, `/escalator cover @person`): the overrides
 * that put a person first on call over a range, whoever the rotations say it is. Pure, like the
 * rest of the core; the service writes the overrides under the schedule's lock.
 */
import { onCallAt, timeline } from './on-call';
import type { Schedule } from './schedule';
import { DAY_MS, HOUR_MS } from './zone-clock';

export interface OverrideDraft {
  start: number;
  end: number;
  addUserId: string;
  /** Whom the person stands in for; unset where nobody else was on call first. */
  removeUserId?: string;
}

/** `take` without a duration: until the current stretch on call ends, within these bounds. */
const DEFAULT_TAKE_MS = HOUR_MS;
const LONGEST_DEFAULT_TAKE_MS = 12 * HOUR_MS;
/** The longest take or cover from Slack; longer changes belong in the schedule itself. */
export const LONGEST_TAKE_OVER_MS = 31 * DAY_MS;

/** When `take` without a duration ends: when the person first on call now would hand over. */
export function defaultTakeEnd(schedule: Schedule, now: number): number {
  const { until } = onCallAt(schedule, now);
  if (until === null || until - now > LONGEST_DEFAULT_TAKE_MS) return now + DEFAULT_TAKE_MS;
  return until;
}

/**
 * Over each stretch of [start, end) where someone else is first on call, a replacement of them by
 * `userId`; where nobody is, an addition. Stretches of the same person stand in one override.
 * Empty when `userId` already is first on call throughout.
 */
export function takeOverOverrides(schedule: Schedule, userId: string, start: number, end: number): OverrideDraft[] {
  const drafts: OverrideDraft[] = [];
  for (const segment of timeline(schedule, start, end)) {
    const first = segment.users[0];
    if (first === userId) continue;
    const last = drafts.at(-1);
    if (last && last.end === segment.start && last.removeUserId === first) {
      last.end = segment.end;
      continue;
    }
    drafts.push({
      start: segment.start,
      end: segment.end,
      addUserId: userId,
      ...(first ? { removeUserId: first } : {}),
    });
  }
  return drafts;
}
