/**
 * What `/escalator oncall`, `take` and `cover` say in Slack. Pure rendering; people are named,
 * never pinged. Times are the schedule's local wall-clock times, as its people read them.
 */
import type { OverrideDraft } from '../oncall/take-over';
import type { OnCallSummary } from '../oncall/summary';
import { DAY_MS, formatLocalWeekdayTime, localOf } from '../oncall/zone-clock';
import { escapeText, userName } from './mrkdwn';
import { COMMAND } from './setup-messages';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "Mon 09:00" within the coming week, "Mon 14 Dec 09:00" beyond it. */
export function localWhen(timeZone: string, instant: number, now: number): string {
  const local = localOf(timeZone, instant);
  const weekdayTime = formatLocalWeekdayTime(local);
  if (Math.abs(instant - now) < 6 * DAY_MS) return weekdayTime;
  const date = new Date(local);
  const [weekday, time] = weekdayTime.split(' ');
  return `${weekday} ${date.getUTCDate()} ${MONTHS[date.getUTCMonth()]} ${time}`;
}

function people(users: string[]): string {
  return users.length === 0 ? 'nobody' : users.map(userName).join(' and ');
}

export const NO_SCHEDULE = `This channel's team has no on-call schedule: its alerts go to its rotation in order. Set one up with \`${COMMAND} schedule\`.`;

export function onCallMessage(
  schedule: { name: string; timeZone: string },
  summary: OnCallSummary,
  now: number
): string {
  const when = (instant: number) => localWhen(schedule.timeZone, instant, now);
  const until = summary.until === null ? '' : ` until ${when(summary.until)}`;
  const lines = [
    `:pager: *${escapeText(schedule.name)}* (${escapeText(schedule.timeZone)}): ${people(summary.users)} on call now${until}.`,
  ];
  if (summary.handoffs.length > 0) {
    lines.push(
      `Next handoffs: ${summary.handoffs.map((handoff) => `${when(handoff.at)} ${people(handoff.users)}`).join(' · ')}`
    );
  }
  return lines.join('\n');
}

/** The channel is told who stands in for whom, and until when. */
export function tookOverMessage(
  actor: string,
  userId: string,
  drafts: OverrideDraft[],
  timeZone: string,
  now: number
): string {
  const first = drafts[0] as OverrideDraft;
  const last = drafts.at(-1) as OverrideDraft;
  const when = (instant: number) => localWhen(timeZone, instant, now);
  const over = [...new Set(drafts.flatMap((draft) => (draft.removeUserId ? [draft.removeUserId] : [])))];
  const instead = over.length > 0 ? ` (instead of ${people(over)})` : '';
  const from = first.start <= now ? '' : ` from ${when(first.start)}`;
  const who = actor === userId ? `${userName(actor)} is` : `${userName(actor)} put ${userName(userId)}`;
  return `:raising_hand: ${who} on call${from} until ${when(last.end)}${instead}.`;
}
