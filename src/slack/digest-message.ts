/**
 * The storm digest: one message per channel, kept up to date in place while more alerts wait for
 * the channel than Slack lets us post (docs/storm.md). It counts every alert the channel took since
 * the storm began, by severity and by state, names the critical ones first and the newest, says
 * what still waits for its own message and what ended before its turn (never posted as firing), and
 * carries buttons that act on the whole storm. Once the storm is over it says so and is not changed
 * again. Pure: no clock, no I/O; alert text is escaped (mrkdwn.ts), nothing pings.
 */
import type { ActionsBlock, ContextBlock, KnownBlock, SectionBlock } from '@slack/web-api';
import { SEVERITIES, type AlertState, type Severity } from '../domain/alert';
import type { RenderedMessage } from './alert-message';
import { SLACK_LIMITS, channelLink, escapeAndTruncate, slackDate, truncate } from './mrkdwn';

/** One alert as the digest names it. */
export interface DigestAlert {
  alertId: string;
  title: string;
  severity: Severity;
}

/** An alert that was closed or resolved before its turn: listed, never posted as firing. */
export interface WithdrawnDigestAlert extends DigestAlert {
  state: 'closed' | 'resolved';
}

/** The storm at one moment, as read from the database (activities/channel-queue.ts). */
export interface ChannelDigestView {
  channelId: string;
  startedAt: string;
  /** When the storm ended: the digest says so and stops changing. */
  endedAt?: string;
  /** Alerts the channel took since the storm began, by severity and by state. */
  counts: Record<Severity, number>;
  states: Record<AlertState, number>;
  /** How many of them have their own message by now. */
  posted: number;
  /** The newest arrivals, newest first. */
  newest: Array<DigestAlert & { state: AlertState }>;
  /** Critical alerts nobody closed yet, newest first. */
  critical: Array<DigestAlert & { state: AlertState }>;
  /** How many wait for their own message, and the first of them in the order they will be posted. */
  waitingCount: number;
  waiting: DigestAlert[];
  /** How many ended before their turn, and the newest of them. */
  withdrawnCount: number;
  withdrawn: WithdrawnDigestAlert[];
}

/** Buttons of the digest: they act on every alert of the storm, through the intake journal. */
export const STORM_ACTIONS = ['storm_ack', 'storm_close'] as const;
export type StormAction = (typeof STORM_ACTIONS)[number];
export const STORM_ACTIONS_BLOCK_ID = 'storm_actions';

/** The storm a digest button names: `storm/<channelId>/<start, epoch ms>`. */
export function stormButtonValue(channelId: string, startedAt: string): string {
  return `storm/${channelId}/${Date.parse(startedAt)}`;
}

/** Reads a digest button's value back; undefined when it is not one. */
export function parseStormButtonValue(value: string): { channelId: string; since: Date } | undefined {
  const match = /^storm\/([A-Z0-9]{1,40})\/(\d{1,15})$/.exec(value);
  if (!match) return undefined;
  return { channelId: match[1] as string, since: new Date(Number(match[2])) };
}

/** What the digest names at most, so that it stays inside Slack's 50 blocks per message. */
export const DIGEST_LIMITS = {
  /** Alerts named under each heading. */
  named: 10,
  /** Characters of one alert's title in a list line. */
  lineTitle: 120,
} as const;

const SEVERITY_EMOJI: Record<Severity, string> = {
  critical: ':red_circle:',
  error: ':large_orange_circle:',
  warning: ':large_yellow_circle:',
  info: ':large_blue_circle:',
};

/** Renders the digest for chat.postMessage / chat.update. */
export function renderChannelDigest(view: ChannelDigestView): RenderedMessage {
  const total = SEVERITIES.reduce((sum, severity) => sum + view.counts[severity], 0);
  const over = view.endedAt !== undefined;
  const blocks: KnownBlock[] = [
    {
      type: 'header',
      text: { type: 'plain_text', text: over ? 'Alert storm over' : 'Alert storm', emoji: true },
    },
    section(
      `${over ? ':white_check_mark:' : ':rotating_light:'} *${plural(total, 'alert')}* in ` +
        `${channelLink(view.channelId)} since ${slackDate(view.startedAt)}: ${severityCounts(view.counts)}\n` +
        `${view.states.open} open · ${view.states.acknowledged} acknowledged · ${view.states.closed} closed · ` +
        `${view.states.resolved} resolved\n` +
        `${view.posted} posted · ${view.waitingCount} waiting to be posted · ` +
        `${view.withdrawnCount} ended before their turn`
    ),
  ];
  if (view.critical.length > 0) {
    blocks.push(section(`*Critical, not closed*\n${view.critical.map(stateLine).join('\n')}`));
  }
  if (view.newest.length > 0) blocks.push(section(`*Newest*\n${view.newest.map(stateLine).join('\n')}`));
  if (view.waitingCount > 0) {
    blocks.push(
      section(
        `*Next to be posted* (by severity, then arrival)\n${view.waiting.map(line).join('\n')}` +
          more(view.waitingCount, view.waiting.length)
      )
    );
  }
  if (view.withdrawnCount > 0) {
    blocks.push(
      section(
        `*Ended before their turn* (not posted)\n` +
          view.withdrawn.map((alert) => `${line(alert)} · _${alert.state}_`).join('\n') +
          more(view.withdrawnCount, view.withdrawn.length)
      )
    );
  }
  if (!over && view.states.open + view.states.acknowledged > 0) blocks.push(stormButtons(view));
  blocks.push(footer(view));

  const text = over
    ? `Alert storm over: ${plural(total, 'alert')}, ${view.posted} posted, ${view.withdrawnCount} ended before their turn`
    : `Alert storm: ${plural(total, 'alert')} (${plainCounts(view.counts)}), ${view.waitingCount} waiting to be posted`;
  return { text, blocks };
}

function stormButtons(view: ChannelDigestView): ActionsBlock {
  const value = stormButtonValue(view.channelId, view.startedAt);
  return {
    type: 'actions',
    block_id: STORM_ACTIONS_BLOCK_ID,
    elements: [
      {
        type: 'button',
        action_id: 'storm_ack' satisfies StormAction,
        text: { type: 'plain_text', text: 'Acknowledge all' },
        style: 'primary',
        value,
        confirm: confirm('Acknowledge every open alert of this storm?', 'They stop escalating and show you as owner.'),
      },
      {
        type: 'button',
        action_id: 'storm_close' satisfies StormAction,
        text: { type: 'plain_text', text: 'Close all' },
        style: 'danger',
        value,
        confirm: confirm(
          'Close every alert of this storm?',
          'Open and acknowledged alerts are closed; those still waiting are never posted.'
        ),
      },
    ],
  };
}

function confirm(title: string, text: string) {
  return {
    title: { type: 'plain_text' as const, text: truncate(title, 100) },
    text: { type: 'plain_text' as const, text },
    confirm: { type: 'plain_text' as const, text: 'Yes' },
    deny: { type: 'plain_text' as const, text: 'Cancel' },
  };
}

function line(alert: DigestAlert): string {
  return `${SEVERITY_EMOJI[alert.severity]} ${escapeAndTruncate(alert.title, DIGEST_LIMITS.lineTitle)}`;
}

function stateLine(alert: DigestAlert & { state: AlertState }): string {
  return `${line(alert)} · _${alert.state}_`;
}

function more(total: number, shown: number): string {
  return total > shown ? `\n_…and ${total - shown} more_` : '';
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function severityCounts(counts: Record<Severity, number>): string {
  return SEVERITIES.map((severity) => `${SEVERITY_EMOJI[severity]} ${counts[severity]} ${severity}`).join(' · ');
}

function plainCounts(counts: Record<Severity, number>): string {
  return SEVERITIES.filter((severity) => counts[severity] > 0)
    .map((severity) => `${counts[severity]} ${severity}`)
    .join(', ');
}

function footer(view: ChannelDigestView): ContextBlock {
  const text = view.endedAt
    ? `Storm over at ${slackDate(view.endedAt)}: every alert above has its own message or is listed here. ` +
      'This message will not change again.'
    : 'Slack takes about one message per second per channel: alerts get their own message with buttons in ' +
      'order of severity, then arrival; escalation calls go first. Every alert the channel took is counted ' +
      'here, and this message is kept up to date.';
  return { type: 'context', elements: [{ type: 'mrkdwn', text, verbatim: true }] };
}

function section(text: string): SectionBlock {
  return { type: 'section', text: { type: 'mrkdwn', text: truncate(text, SLACK_LIMITS.sectionText), verbatim: true } };
}
