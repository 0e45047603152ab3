/**
 * The storm digest: one message per channel, kept up to date in place while more alerts wait for
 * the channel than Slack lets us post (docs/storm.md). It shows how many alerts arrived by
 * severity, the newest titles, every alert still waiting for its own message, and the alerts that
 * ended before their turn (never posted as firing). Once the storm is over it says so and is not
 * changed again. Pure: no clock, no I/O; alert text is escaped (mrkdwn.ts), nothing pings.
 */
import type { ContextBlock, KnownBlock, SectionBlock } from '@slack/web-api';
import { SEVERITIES, type Severity } from '../domain/alert';
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

/** The storm as the channel pacer sees it at one moment. */
export interface ChannelDigestView {
  channelId: string;
  startedAt: string;
  /** When the storm ended: the digest says so and stops changing. */
  endedAt?: string;
  /** Alerts that arrived for the channel since the storm began, by severity. */
  counts: Record<Severity, number>;
  /** How many of them have their own message by now. */
  posted: number;
  /** The newest arrivals, newest first. */
  newest: DigestAlert[];
  /** Alerts still waiting for their own message, in the order they will be posted. */
  waiting: DigestAlert[];
  /** Alerts that ended before their turn, newest first. */
  withdrawn: WithdrawnDigestAlert[];
}

/** What the digest shows at most, so that it stays inside Slack's 50 blocks per message. */
export const DIGEST_LIMITS = {
  /** Titles under "Newest". */
  newest: 10,
  /** Sections (of up to 3,000 characters each) listing the waiting alerts. */
  waitingSections: 30,
  /** Sections listing alerts that ended before their turn. */
  withdrawnSections: 5,
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
      text: { type: 'plain_text', text: over ? 'Alert storm over' : 'Alert storm: alerts are queued', emoji: true },
    },
    section(
      `${over ? ':white_check_mark:' : ':rotating_light:'} *${total} alert${total === 1 ? '' : 's'}* in ` +
        `${channelLink(view.channelId)} since ${slackDate(view.startedAt)}: ${severityCounts(view.counts)}\n` +
        `${view.posted} posted · ${view.waiting.length} waiting to be posted · ` +
        `${view.withdrawn.length} ended before their turn`
    ),
  ];
  if (view.newest.length > 0) {
    blocks.push(section(`*Newest*\n${view.newest.slice(0, DIGEST_LIMITS.newest).map(line).join('\n')}`));
  }
  if (view.waiting.length > 0) {
    blocks.push(
      ...listSections(
        `*Waiting to be posted* (by severity, then arrival)`,
        view.waiting.map(line),
        DIGEST_LIMITS.waitingSections
      )
    );
  }
  if (view.withdrawn.length > 0) {
    blocks.push(
      ...listSections(
        `*Ended before their turn* (not posted)`,
        view.withdrawn.map((alert) => `${line(alert)} · _${alert.state}_`),
        DIGEST_LIMITS.withdrawnSections
      )
    );
  }
  blocks.push(footer(view));

  const text = over
    ? `Alert storm over: ${total} alerts, ${view.posted} posted, ${view.withdrawn.length} ended before their turn`
    : `Alert storm: ${total} alerts (${plainCounts(view.counts)}), ${view.waiting.length} waiting to be posted`;
  return { text, blocks };
}

function line(alert: DigestAlert): string {
  return `${SEVERITY_EMOJI[alert.severity]} ${escapeAndTruncate(alert.title, DIGEST_LIMITS.lineTitle)}`;
}

function severityCounts(counts: Record<Severity, number>): string {
  return SEVERITIES.map((severity) => `${SEVERITY_EMOJI[severity]} ${counts[severity]} ${severity}`).join(' · ');
}

function plainCounts(counts: Record<Severity, number>): string {
  return SEVERITIES.filter((severity) => counts[severity] > 0)
    .map((severity) => `${counts[severity]} ${severity}`)
    .join(', ');
}

/**
 * A heading and its lines packed into as few sections as Slack's 3,000 characters allow, at most
 * `maxSections`; what does not fit is counted in a last line.
 */
function listSections(heading: string, lines: string[], maxSections: number): SectionBlock[] {
  const texts: string[] = [];
  let current = heading;
  let shown = 0;
  for (const next of lines) {
    if (current.length + 1 + next.length <= SLACK_LIMITS.sectionText - MORE_LINE_ROOM) {
      current += `\n${next}`;
      shown += 1;
      continue;
    }
    if (texts.length + 1 >= maxSections) break;
    texts.push(current);
    current = next;
    shown += 1;
  }
  if (shown < lines.length) current += `\n_…and ${lines.length - shown} more_`;
  texts.push(current);
  return texts.map(section);
}

/** Room kept in the last section for the "…and N more" line. */
const MORE_LINE_ROOM = 40;

function footer(view: ChannelDigestView): ContextBlock {
  const text = view.endedAt
    ? `Storm over at ${slackDate(view.endedAt)}: every alert above has its own message or is listed here. ` +
      'This message will not change again.'
    : 'Slack takes about one message per second per channel: alerts get their own message with buttons in ' +
      'order of severity, then arrival. Escalation calls go first. This message is kept up to date.';
  return { type: 'context', elements: [{ type: 'mrkdwn', text, verbatim: true }] };
}

function section(text: string): SectionBlock {
  return { type: 'section', text: { type: 'mrkdwn', text: truncate(text, SLACK_LIMITS.sectionText), verbatim: true } };
}
