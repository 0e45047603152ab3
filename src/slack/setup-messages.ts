/**
 * What Escalator says in a channel while a team is set up and looked after from Slack. Pure
 * rendering; nothing here pings anyone (people are named with `userName`, never `<@…>`).
 */
import { escapeAndTruncate, safeLink, userName } from './mrkdwn';

export const COMMAND = '/escalator';

export interface EndpointLinks {
  webhookUrl: string;
  snsUrl: string;
}

function endpointLines({ webhookUrl, snsUrl }: EndpointLinks): string[] {
  return [
    `• Webhook (JSON, curl, Grafana, New Relic, Uptime Robot): \`${webhookUrl}\``,
    `• AWS SNS (HTTPS subscription for CloudWatch alarms, EventBridge): \`${snsUrl}\``,
    `• Prometheus Alertmanager (webhook_configs url): \`${webhookUrl}/alertmanager\``,
  ];
}

/**
 * Posted in the channel when the bot is invited and the channel's team was created. It holds no
 * endpoint URL: whoever reads the channel could post alerts with one (issue 24). The URLs go to the
 * person who invited the bot, alone (`endpointsMessage`).
 */
export function welcomeMessage(teamName: string, inviter: string | undefined): string {
  return [
    `:wave: Escalator is set up for this channel as team *${teamName}*.`,
    inviter
      ? `${userName(inviter)} was shown the endpoint URLs to send alerts to (only they see them).`
      : `Get the endpoint URLs to send alerts to with \`${COMMAND} token rotate\` (only you will see them).`,
    `Set who is called, in order: \`${COMMAND} rotation @alice @bob @carol\` (until then, alerts call the whole channel).`,
    `Change the time before each escalation step: \`${COMMAND} timeout 10m\`. More: \`${COMMAND} help\`.`,
  ].join('\n');
}

/** The new team's endpoint URLs and a curl to try them: for the person who invited the bot, and nobody else. */
export function endpointsMessage(teamName: string, links: EndpointLinks): string {
  return [
    `Endpoint URLs of team *${teamName}* (only you see this). Send alerts to:`,
    ...endpointLines(links),
    '',
    'Try it:',
    '```',
    `curl -X POST ${links.webhookUrl} -H 'Content-Type: application/json' \\`,
    `  -d '{"title":"Disk almost full on db-1","severity":"critical","text":"/var is at 97%"}'`,
    '```',
    'Keep these URLs secret: anyone who has them can post alerts to the channel.',
  ].join('\n');
}

/** Posted when the bot is invited but its workspace already has as many teams as it may. */
export function teamLimitMessage(limit: number): string {
  return (
    `:no_entry: Escalator did not set this channel up: this workspace already has ${limit} teams, the most it may have. ` +
    'Remove Escalator from a channel that no longer needs it and ask an administrator to delete its team.'
  );
}

export function resumedMessage(teamName: string): string {
  return `:arrow_forward: Escalator is back in this channel: team *${teamName}* takes alerts again.`;
}

export function helpMessage(): string {
  return [
    `*${COMMAND}* looks after this channel's team:`,
    `• \`${COMMAND} rotation @alice @bob\`: who is called, in this order (channel members only)`,
    `• \`${COMMAND} timeout 10m\`: time before each escalation step (10s to 24h)`,
    `• \`${COMMAND} status\`: the open alerts, with links`,
    `• \`${COMMAND} oncall\`: who is on call now, until when, and the next handoffs`,
    `• \`${COMMAND} take 2h\`: you are on call now, instead of whoever is (no time: until their shift ends)`,
    `• \`${COMMAND} cover @alice 09:00 17:00\`: someone on call for a time, in the schedule's zone`,
    `• \`${COMMAND} schedule\`: set up or change the team's on-call rotation in a form`,
    `• \`${COMMAND} maintenance 2h deploy\`: alerts are shown but nobody is paged for 2h; \`${COMMAND} maintenance off\` ends it`,
    `• \`${COMMAND} token rotate\`: new endpoint URLs; the old ones stop working at once`,
    `• \`${COMMAND} help\`: this message`,
    'The same works as a mention in the channel: `@Escalator rotation @alice @bob`, `@Escalator status`.',
  ].join('\n');
}

export function rotationSetMessage(actor: string, engineers: string[]): string {
  return `:busts_in_silhouette: ${userName(actor)} set the rotation: ${engineers.map(userName).join(' → ')}.`;
}

export function timeoutSetMessage(actor: string, timeoutText: string): string {
  return `:hourglass: ${userName(actor)} set the escalation timeout to ${timeoutText}.`;
}

export function tokenRotatedMessage(actor: string): string {
  return `:key: ${userName(actor)} rotated the endpoint token: the old URLs no longer work. The new ones were shown to them.`;
}

export function newTokenMessage(links: EndpointLinks): string {
  return ['New endpoint URLs (only you see this):', ...endpointLines(links)].join('\n');
}

export interface OpenAlertLine {
  title: string;
  state: string;
  severity: string;
  assignee: string | null;
  slackChannelId: string | null;
  slackMessageTs: string | null;
}

/**
 * The address of a message in Slack: `https://slack.com/archives/<channel>/p<ts without its dot>`,
 * which Slack redirects to the message in the reader's workspace. Built here rather than asked of
 * chat.getPermalink: no Slack call per alert listed (status, App Home).
 */
export function slackMessageUrl(channel: string, ts: string): string {
  return `https://slack.com/archives/${channel}/p${ts.replace('.', '')}`;
}

/** A link to an alert's Slack message, its title as the (escaped) label. */
export function alertMessageLink(alert: Pick<OpenAlertLine, 'title' | 'slackChannelId' | 'slackMessageTs'>): string {
  const title = escapeAndTruncate(alert.title, 150);
  if (!alert.slackChannelId || !alert.slackMessageTs) return title;
  return safeLink(slackMessageUrl(alert.slackChannelId, alert.slackMessageTs), alert.title.slice(0, 150));
}

export function statusMessage(
  teamName: string,
  team: { engineers: string[]; escalationTimeoutMs: number; paused: boolean },
  alerts: OpenAlertLine[]
): string {
  const rotation =
    team.engineers.length > 0 ? team.engineers.map(userName).join(' → ') : 'not set (the whole channel is called)';
  return [
    `*${teamName}*${team.paused ? ' (paused)' : ''} · rotation: ${rotation} · timeout: ${Math.round(team.escalationTimeoutMs / 1000)}s`,
    alerts.length === 0 ? 'No open alerts.' : `Open alerts (${alerts.length}):`,
    ...alerts.map(
      (alert) =>
        `• ${alertMessageLink(alert)} · ${alert.state} · ${alert.severity}${alert.assignee ? ` · ${userName(alert.assignee)}` : ''}`
    ),
  ].join('\n');
}
