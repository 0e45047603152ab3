/**
 * What Escalator says in Slack, rendered from an `AlertView`: the alert message in the team
 * channel (with its Acknowledge / Close / Pass buttons), the call in its thread, and the direct
 * message to the engineer being called. Pure functions: no clock, no I/O.
 *
 * Mention rule (PRODUCT.md): only the engineer or team being called at this step (`calling`) is
 * ever written as a mention that pings; everyone else (earlier assignees, the acknowledger) is
 * named without one: by display name when the activity found one (`view.names`), else by id.
 * Everything from the alert itself, and every name from Slack, is escaped (see mrkdwn.ts).
 */
import type { ActionsBlock, Button, ContextBlock, KnownBlock, MrkdwnElement, SectionBlock } from '@slack/web-api';
import type { AlertAction, AlertHolder, AlertState, AlertView, Severity } from '../domain/alert';
import {
  DISPLAY_NAME_LIMIT,
  SLACK_LIMITS,
  channelLink,
  escapeAndTruncate,
  escapeText,
  isSlackId,
  mentionUser,
  personName,
  safeLink,
  slackDate,
  truncate,
  userName,
} from './mrkdwn';

/** A message ready for chat.postMessage / chat.update: notification text plus Block Kit blocks. */
export interface RenderedMessage {
  /** Fallback shown in notifications and read by screen readers. */
  text: string;
  blocks: KnownBlock[];
}

/** `block_id` of the buttons row, so that the gateway can tell our buttons from anything else. */
export const ALERT_ACTIONS_BLOCK_ID = 'alert_actions';

const SEVERITY_EMOJI: Record<Severity, string> = {
  critical: ':red_circle:',
  error: ':large_orange_circle:',
  warning: ':large_yellow_circle:',
  info: ':large_blue_circle:',
};

const STATE_EMOJI: Record<Exclude<AlertState, 'open'>, string> = {
  acknowledged: ':eyes:',
  closed: ':white_check_mark:',
  resolved: ':white_check_mark:',
};

const BUTTONS: Record<AlertAction, { label: string; style?: 'primary' | 'danger' }> = {
  ack: { label: 'Acknowledge', style: 'primary' },
  close: { label: 'Close' },
  pass: { label: 'Pass' },
};

/** Alert fields shown at most; a source that sends hundreds must not push the message past 50 blocks. */
const MAX_ALERT_FIELDS = 30;

/** Titles in notification text stay short: that text is what a phone notification shows. */
const NOTIFICATION_TITLE_LIMIT = 300;

/** Buttons are offered while someone can still act on the alert. */
export function isActionable(state: AlertState): boolean {
  return state === 'open' || state === 'acknowledged';
}

/**
 * The alert message in the team channel: title, text, severity, source, link, fields, state, who
 * holds it, occurrences and last seen, who acknowledged or ended it, and, while it is open or
 * acknowledged, the Acknowledge (`ack`), Close (`close`) and Pass (`pass`) buttons whose value is
 * the workflow id. The holder is mentioned only when they are the one being called (`view.calling`).
 */
export function renderAlertMessage(view: AlertView): RenderedMessage {
  const title = view.content.title;
  const stateEmoji = view.state === 'open' ? SEVERITY_EMOJI[view.content.severity] : STATE_EMOJI[view.state];
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: escapeAndTruncate(title, SLACK_LIMITS.header), emoji: true } },
  ];
  blocks.push(section(`${stateEmoji} ${stateLine(view)}`));
  if (view.content.text?.trim()) blocks.push(section(escapeAndTruncate(view.content.text, SLACK_LIMITS.sectionText)));
  blocks.push({ type: 'section', fields: summaryFields(view) });
  blocks.push(...alertFieldSections(view));
  blocks.push(footer(view));
  if (isActionable(view.state)) blocks.push(actionButtons(view.workflowId));

  const severity = view.content.severity;
  const text = `${SEVERITY_EMOJI[severity]} ${severity}: ${escapeAndTruncate(title, NOTIFICATION_TITLE_LIMIT)} (${stateLine(view)})`;
  return { text, blocks };
}

/**
 * The call in the alert's thread: the engineer being called as `<@U…>`, or the whole team as
 * `<!channel>` once escalation ran out of engineers.
 */
export function renderThreadNotification(view: AlertView, calling: AlertHolder): RenderedMessage {
  const title = `*${escapeAndTruncate(view.content.title, NOTIFICATION_TITLE_LIMIT)}*`;
  const text =
    calling.kind === 'engineer'
      ? `${mentionUser(calling.userId)} this alert is yours now: ${title}. ` +
        'Please acknowledge it, pass it on or close it with the buttons on the alert message.'
      : `<!channel> nobody has acknowledged this alert yet: ${title}. ` +
        'Whoever takes it, please press Acknowledge on the alert message.';
  return { text, blocks: [section(text)] };
}

/**
 * The line in the alert's thread when it ends: who closed it, or that its source resolved it.
 * Nobody is mentioned: the alert is over, nobody needs to be woken for it.
 */
export function renderThreadEnding(view: AlertView): RenderedMessage {
  const text = `${STATE_EMOJI.closed} ${endedPhrase({ ...view, calling: undefined })}.`;
  return { text, blocks: [section(text)] };
}

/**
 * The direct message to an engineer called about the alert: what the alert is and where to act
 * on it. It carries no buttons: the alert message in the team channel stays the one place to act.
 * Sent when `recipient` is called; rewritten in place when the alert was acknowledged, passed on,
 * closed or resolved, to say who did what and that nothing more is asked of them.
 */
export function renderDirectMessage(view: AlertView, recipient?: string): RenderedMessage {
  const channel = channelLink(view.team.slackChannelId);
  const title = `*${escapeAndTruncate(view.content.title, NOTIFICATION_TITLE_LIMIT)}*`;
  const severity = view.content.severity;
  const stillAsked =
    recipient === undefined ||
    (view.state === 'open' && view.holder.kind === 'engineer' && view.holder.userId === recipient);
  const text = stillAsked
    ? `${SEVERITY_EMOJI[severity]} You are on call for ${withArticle(severity)} alert in ${channel}: ${title}. ` +
      `Please acknowledge it, pass it on or close it there.`
    : `${view.state === 'open' ? SEVERITY_EMOJI[severity] : STATE_EMOJI[view.state]} ${withArticle(severity, true)} ` +
      `alert in ${channel}: ${title}: ${directMessageNews(view, recipient)}.`;
  const blocks: KnownBlock[] = [section(text)];
  if (view.content.text?.trim()) blocks.push(section(escapeAndTruncate(view.content.text, SLACK_LIMITS.sectionText)));
  blocks.push(footer(view));
  return { text, blocks };
}

/** What became of the alert since the recipient was called, told to them (`you` where they did it). */
function directMessageNews(view: AlertView, recipient: string): string {
  const nameOrYou = (userId: string, handle?: string) => (userId === recipient ? 'you' : nameOf(view, userId, handle));
  switch (view.state) {
    case 'acknowledged': {
      const by = view.acknowledgedBy ? nameOrYou(view.acknowledgedBy, view.acknowledgedByName) : 'someone';
      return by === 'you' ? 'you acknowledged it' : `acknowledged by ${by}, nothing more is needed from you`;
    }
    case 'closed':
    case 'resolved':
      return `${view.state === 'closed' && view.endedByUserId === recipient ? 'closed by you' : endedPhrase(view)}, nothing more is needed from anyone`;
    case 'open': {
      const to =
        view.holder.kind === 'team'
          ? `the whole team (${escapeText(view.team.name)})`
          : nameOf(view, view.holder.userId);
      const passed = view.passedBy ? `passed on by ${nameOrYou(view.passedBy)} to ${to}` : `now with ${to}`;
      return `${passed}, it is not yours any more`;
    }
  }
}

/** `closed by Ada`, `resolved by its source (prometheus)`. */
function endedPhrase(view: AlertView): string {
  return view.state === 'resolved'
    ? `resolved by its source${sourceName(view.endedBy)}`
    : `closed by ${closerName(view)}`;
}

/** Whoever closed it: named as a person (a closer's press gave their id), else as the timeline has it. */
function closerName(view: AlertView): string {
  if (view.endedByUserId) return nameOf(view, view.endedByUserId, view.endedBy);
  if (!view.endedBy) return 'someone';
  return isSlackId(view.endedBy) ? nameOf(view, view.endedBy) : escapeAndTruncate(view.endedBy, DISPLAY_NAME_LIMIT);
}

/** ` (prometheus)` when a source named itself, nothing for the plain `source`. */
function sourceName(endedBy: string | undefined): string {
  return endedBy && endedBy !== 'source' ? ` (${escapeAndTruncate(endedBy, 200)})` : '';
}

/** `an error`, `a critical`: the article that the word's sound takes (all severities are English words). */
function withArticle(word: string, capital = false): string {
  const article = /^[aeiou]/i.test(word) ? 'an' : 'a';
  return `${capital ? article.replace('a', 'A') : article} ${word}`;
}

/** `open · assigned to <@U1>`, `acknowledged by `U2``, `closed by `U2``, `resolved by its source`. */
function stateLine(view: AlertView): string {
  const state = `*${view.state}*`;
  switch (view.state) {
    case 'open':
      return `${state} · ${holderPhrase(view)}`;
    case 'acknowledged':
      return `${state} by ${view.acknowledgedBy ? nameOf(view, view.acknowledgedBy, view.acknowledgedByName) : 'someone'}`;
    case 'closed':
      return `${state} by ${closerName(view)}`;
    case 'resolved':
      return `${state} by ${view.endedBy && view.endedBy !== 'source' ? escapeText(view.endedBy) : 'its source'}`;
  }
}

function holderPhrase(view: AlertView): string {
  const holder = view.holder;
  if (holder.kind === 'team') return `the whole team (${escapeText(view.team.name)}) is called`;
  const because = view.assignedBecause ? ` (${escapeAndTruncate(view.assignedBecause, 200)})` : '';
  return `assigned to ${nameOf(view, holder.userId)}${because}`;
}

/**
 * A person as the message shows them: a mention only when they are the one being called at this
 * step; otherwise their display name, else the handle their press gave (`handle`), else their id.
 */
function nameOf(view: AlertView, userId: string, handle?: string): string {
  const calling = view.calling;
  if (calling?.kind === 'engineer' && calling.userId === userId) return mentionUser(userId);
  const displayName = view.names?.[userId];
  if (displayName || !handle || handle === userId) return personName(userId, displayName);
  return escapeAndTruncate(handle, DISPLAY_NAME_LIMIT);
}

/** The facts beside the state line: severity, source, repeats, link, and who acted before it ended. */
function summaryFields(view: AlertView): MrkdwnElement[] {
  const fields = [
    field('Severity', `${SEVERITY_EMOJI[view.content.severity]} ${view.content.severity}`),
    field('Source', escapeAndTruncate(view.content.source, 200)),
    field(
      'Occurrences',
      view.occurrences > 1
        ? `×${view.occurrences} · last seen ${slackDate(view.lastSeenAt)}`
        : `first seen ${slackDate(view.firstSeenAt)}`
    ),
  ];
  if (view.content.link) fields.push(field('Link', safeLink(view.content.link, 'Open in source')));
  if (!isActionable(view.state) && view.acknowledgedBy) {
    fields.push(field('Acknowledged by', nameOf(view, view.acknowledgedBy, view.acknowledgedByName)));
  }
  return fields;
}

/** The source's own fields (labels, account, region…), ten per section as Slack allows. */
function alertFieldSections(view: AlertView): SectionBlock[] {
  const all = (view.content.fields ?? []).filter((f) => f.label.trim() !== '' || f.value.trim() !== '');
  const shown = all.slice(0, MAX_ALERT_FIELDS).map((f) => {
    const label = `*${escapeAndTruncate(f.label, 200)}*\n`;
    return mrkdwn(label + escapeAndTruncate(f.value, SLACK_LIMITS.fieldText - label.length));
  });
  const sections: SectionBlock[] = [];
  for (let i = 0; i < shown.length; i += SLACK_LIMITS.fieldsPerSection) {
    sections.push({ type: 'section', fields: shown.slice(i, i + SLACK_LIMITS.fieldsPerSection) });
  }
  if (all.length > shown.length) sections.push(section(`_${all.length - shown.length} more fields not shown_`));
  return sections;
}

function footer(view: AlertView): ContextBlock {
  return {
    type: 'context',
    elements: [mrkdwn(`Team *${escapeAndTruncate(view.team.name, 200)}* · alert ${userName(view.alertId)}`)],
  };
}

function actionButtons(workflowId: string): ActionsBlock {
  const elements: Button[] = (Object.keys(BUTTONS) as AlertAction[]).map((action) => {
    const { label, style } = BUTTONS[action];
    return {
      type: 'button',
      action_id: action,
      text: { type: 'plain_text', text: label },
      // The workflow id alone routes the press to its alert; the gateway needs nothing else.
      value: workflowId.slice(0, SLACK_LIMITS.buttonValue),
      ...(style ? { style } : {}),
    };
  });
  return { type: 'actions', block_id: ALERT_ACTIONS_BLOCK_ID, elements };
}

function section(text: string): SectionBlock {
  return { type: 'section', text: mrkdwn(truncate(text, SLACK_LIMITS.sectionText)) };
}

function field(label: string, value: string): MrkdwnElement {
  return mrkdwn(truncate(`*${label}*\n${value}`, SLACK_LIMITS.fieldText));
}

/** Our mrkdwn is sent verbatim: Slack must not auto-link or auto-mention anything inside it. */
function mrkdwn(text: string): MrkdwnElement {
  return { type: 'mrkdwn', text, verbatim: true };
}
