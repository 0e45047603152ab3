/**
 * The answer an alert needs from a schedule: whom to assign, the sentence its timeline and thread
 * show ("on call in Primary until Mon 09:00, override by U0BOB"), and whom to escalate to next.
 * Pure: the activity that asks records this answer in the alert's history.
 */
import { nextOnCall, onCallAt } from './on-call';
import type { Schedule } from './schedule';
import { formatLocalWeekdayTime, localOf } from './zone-clock';

export interface OnCallDecision {
  /** Whom to assign: the first person on call; null when nobody is. */
  userId: string | null;
  /** Everyone on call at that instant (a group, or equal layers together). */
  users: string[];
  reason: string;
  /** The next person on call in the assignee's rotation (the one whose shift follows). */
  next: string | null;
  /** Epoch ms at which the answer changes, or null. */
  until: number | null;
}

/** Who gets an alert raised at `at` (epoch ms) on a team whose schedule is `schedule`. */
export function decideOnCall(schedule: Schedule & { name: string }, at: number): OnCallDecision {
  const answer = onCallAt(schedule, at);
  const next = nextOnCall(schedule, at)?.users.find((user) => !answer.users.includes(user)) ?? null;
  const until =
    answer.until === null ? '' : ` until ${formatLocalWeekdayTime(localOf(schedule.timeZone, answer.until))}`;
  const userId = answer.users[0] ?? null;
  if (userId === null) {
    return { userId, users: [], reason: `nobody is on call in ${schedule.name}${until}`, next, until: answer.until };
  }
  // The first via is the first user's: entries follow the order of the users.
  const via = answer.via[0];
  const where = via?.rotation ? `in ${via.rotation}` : `in ${schedule.name}`;
  const override = via?.overrideId
    ? schedule.overrides.find((candidate) => candidate.id === via.overrideId)
    : undefined;
  const by = override ? `, override by ${override.createdBy ?? `override ${override.id}`}` : '';
  return { userId, users: answer.users, reason: `on call ${where}${until}${by}`, next, until: answer.until };
}
