/**
 * The handoff notice: a change of who is on call for a schedule, posted in the channel of every
 * team that uses it (docs/oncall.md). Pure rendering from a view.
 *
 * Only the people coming on call are mentioned (`<@U…>`, a ping): the notice is how they learn
 * that their shift began, in the channel where the alerts they now get will land. Everyone else
 * (whoever goes off, whoever stays on) is named without a ping, as the alert messages name people
 * other than the one being called.
 */
import type { SlackMessageContent } from './client';
import { escapeAndTruncate, mentionUser, slackDate, userName } from './mrkdwn';

/** Longest schedule name shown; the API allows 100 characters. */
const SCHEDULE_NAME_LENGTH = 100;

export interface HandoffNoticeView {
  scheduleName: string;
  /** Who was on call before the change, and who is now (the core's order). */
  previous: string[];
  users: string[];
  /** When the answer changes next (ISO), or null. */
  until: string | null;
}

function list(names: string[]): string {
  if (names.length <= 1) return names.join('');
  return `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}

/** The notice as one line of mrkdwn (its own plain-text fallback). */
export function renderHandoffNotice(view: HandoffNoticeView): SlackMessageContent {
  const schedule = `*${escapeAndTruncate(view.scheduleName, SCHEDULE_NAME_LENGTH)}*`;
  const incoming = view.users.filter((user) => !view.previous.includes(user));
  const staying = view.users.filter((user) => view.previous.includes(user));
  const leaving = view.previous.filter((user) => !view.users.includes(user));
  const parts: string[] = [];
  if (view.users.length === 0) parts.push(`Nobody is on call for ${schedule} now`);
  else if (incoming.length === 0) parts.push(`${list(staying.map(userName))} on call for ${schedule} now`);
  else {
    parts.push(`${list(incoming.map(mentionUser))} on call for ${schedule} now`);
    if (staying.length > 0) parts.push(`, with ${list(staying.map(userName))}`);
  }
  parts.push(view.until === null ? '.' : `, until ${slackDate(view.until)}.`);
  if (leaving.length > 0) parts.push(` Off call: ${list(leaving.map(userName))}.`);
  return { text: `:arrows_counterclockwise: ${parts.join('')}` };
}
