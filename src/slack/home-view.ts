/**
 * The App Home tab: the person's open alerts (assigned to them, or acknowledged by them) and the
 * teams whose rotation they are in. Pure rendering from what the gateway read, with the clock
 * given; nothing here pings anyone (channels as `<#C…>`, which notifies nobody; alert text escaped).
 */
import type { HomeView, KnownBlock } from '@slack/web-api';
import { channelLink, escapeText, SLACK_LIMITS, slackDate, truncate } from './mrkdwn';
import { alertMessageLink } from './setup-messages';

/**
 * Slack refuses a view of more than 100 blocks. A person with more alerts or teams than shown
 * sees "and N more": header + alerts + more + divider + header + teams + more + footer ≤ 100.
 */
export const HOME_LIMITS = { blocksPerView: 100, alertsShown: 40, teamsShown: 40 } as const;

export interface HomeAlert {
  title: string;
  state: 'open' | 'acknowledged';
  severity: string;
  teamName: string;
  firstSeenAt: Date;
  slackChannelId: string | null;
  slackMessageTs: string | null;
}

export interface HomeTeam {
  name: string;
  slackChannelId: string;
  escalationTimeoutMs: number;
  paused: boolean;
  /** 0 is called first. */
  position: number;
  rotationSize: number;
  /** The team's maintenance window in force, or its next one (maintenance-messages.ts), if any. */
  maintenance?: string;
}

export interface HomeContent {
  /** Newest first, at most HOME_LIMITS.alertsShown; `alertsTotal` counts them all. */
  alerts: HomeAlert[];
  alertsTotal: number;
  teams: HomeTeam[];
  teamsTotal: number;
  now: Date;
}

const SEVERITY_EMOJI: Record<string, string> = {
  critical: ':red_circle:',
  error: ':large_orange_circle:',
  warning: ':large_yellow_circle:',
  info: ':large_blue_circle:',
};

export function renderHomeView(content: HomeContent): HomeView {
  const blocks: KnownBlock[] = [header('Your open alerts')];
  if (content.alerts.length === 0) {
    blocks.push(section('Nothing is yours right now: no open alert is assigned to you or acknowledged by you.'));
  }
  for (const alert of content.alerts.slice(0, HOME_LIMITS.alertsShown)) blocks.push(alertSection(alert, content.now));
  const moreAlerts = content.alertsTotal - Math.min(content.alerts.length, HOME_LIMITS.alertsShown);
  if (moreAlerts > 0) blocks.push(context(`…and ${moreAlerts} more (older ones) not shown here.`));

  blocks.push({ type: 'divider' }, header('Your teams'));
  if (content.teams.length === 0) {
    blocks.push(
      section(
        "You are not in any team's rotation. In a team's channel, `/escalator rotation @you @someone` " +
          '(or `@Escalator rotation …`) sets who is called, in order.'
      )
    );
  }
  for (const team of content.teams.slice(0, HOME_LIMITS.teamsShown)) blocks.push(teamSection(team));
  const moreTeams = content.teamsTotal - Math.min(content.teams.length, HOME_LIMITS.teamsShown);
  if (moreTeams > 0) blocks.push(context(`…and ${moreTeams} more teams not shown here.`));

  blocks.push(context(`Updated ${slackDate(content.now.toISOString())}; open this tab again to refresh.`));
  return { type: 'home', blocks };
}

function alertSection(alert: HomeAlert, now: Date): KnownBlock {
  const emoji = alert.state === 'acknowledged' ? ':eyes:' : (SEVERITY_EMOJI[alert.severity] ?? ':white_circle:');
  const yours = alert.state === 'acknowledged' ? 'acknowledged by you' : 'open, assigned to you';
  const age = formatAge(now.getTime() - alert.firstSeenAt.getTime());
  return section(
    `${emoji} *${alertMessageLink(alert)}*\n` +
      `${yours} · ${escapeText(alert.severity)} · team *${escapeText(alert.teamName)}* · ${age}`
  );
}

function teamSection(team: HomeTeam): KnownBlock {
  const place = `you are ${ordinal(team.position + 1)} of ${team.rotationSize} in the rotation`;
  const paused = team.paused ? ' · *paused* (Escalator is not in its channel)' : '';
  return section(
    `*${escapeText(team.name)}* in ${channelLink(team.slackChannelId)} · escalation timeout ` +
      `${formatTimeout(team.escalationTimeoutMs)} · ${place}${paused}` +
      (team.maintenance ? `\n${team.maintenance}` : '')
  );
}

function header(text: string): KnownBlock {
  return { type: 'header', text: { type: 'plain_text', text, emoji: true } };
}

function section(text: string): KnownBlock {
  return {
    type: 'section',
    text: { type: 'mrkdwn', text: truncate(text, SLACK_LIMITS.sectionText), verbatim: true },
  };
}

function context(text: string): KnownBlock {
  return { type: 'context', elements: [{ type: 'mrkdwn', text, verbatim: true }] };
}

/** How long ago an alert opened, as people say it: `just now`, `12 min ago`, `3 h ago`, `2 days ago`. */
export function formatAge(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 1) return 'opened just now';
  if (minutes < 60) return `opened ${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `opened ${hours} h ago`;
  return `opened ${Math.floor(hours / 24)} days ago`;
}

/** A timeout as the commands take it: `10s`, `5m`, `2h`, `90s`. */
export function formatTimeout(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${Math.round(ms / 1000)}s`;
}

function ordinal(n: number): string {
  const tens = n % 100;
  if (tens >= 11 && tens <= 13) return `${n}th`;
  return `${n}${['th', 'st', 'nd', 'rd'][n % 10] ?? 'th'}`;
}
