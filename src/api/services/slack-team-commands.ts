/**
 * The commands that look after a channel's team from Slack, whichever way they arrive: the
 * `/escalator` slash command or a mention of the bot in the channel (`@Escalator rotation …`).
 * One parser, and one place that checks who may change the team, carries the change out, writes
 * the audit trail and confirms it in the channel. The entry points differ only in where they
 * answer the person who asked (`CommandReplies`).
 */
import type { Client } from '@temporalio/client';
import { parseDuration } from '../../config';
import type { Database } from '../../db/client';
import type { Logger } from '../../logger';
import {
  COMMAND,
  helpMessage,
  newTokenMessage,
  rotationSetMessage,
  statusMessage,
  timeoutSetMessage,
  tokenRotatedMessage,
} from '../../slack/setup-messages';
import {
  findChannelTeam,
  openAlertsOf,
  rotateTeamToken,
  setEscalationTimeout,
  setRotation,
  type ChangeVia,
  type ChannelTeam,
} from './slack-team-setup';
import type { Workspace, Workspaces } from './slack-workspaces';
import { COVER_USAGE, onCallAnswer, takeOnCall, type TakeRequest } from './slack-oncall';
import { LONGEST_TAKE_OVER_MS } from '../../oncall/take-over';
import { parseSpan } from '../../oncall/when';
import { tellHandoffWatcher } from '../../oncall/handoff-watch';
import { createWindow, endWindowsNow, tellRunningAlerts, windowsAt } from './maintenance';
import { maintenanceEndedMessage, maintenanceLine, maintenanceStartedMessage } from '../../slack/maintenance-messages';

/** Escalation timeouts a team may choose: long enough to react, short enough to matter. */
const MIN_TIMEOUT_MS = 10_000;
const MAX_TIMEOUT_MS = 24 * 3_600_000;
const MAX_ROTATION = 20;

/**
 * A user mention in command text: `<@U123|alice>` as Slack escapes it in a slash command
 * (`should_escape: true`), `<@U123>` as it arrives in a message (app_mention).
 */
const USER_MENTION = /<@([UW][A-Z0-9]+)(?:\|[^>]*)?>/g;

const ROTATION_OF_PEOPLE = `Name people with @: \`${COMMAND} rotation @alice @bob\`.`;

export type TeamChange =
  | { kind: 'rotation'; engineers: string[] }
  | { kind: 'timeout'; ms: number; text: string }
  | { kind: 'token-rotate' }
  | { kind: 'maintenance'; ms: number; reason?: string }
  | { kind: 'maintenance-off' }
  | TakeRequest;

export type ParsedCommand =
  | { kind: 'help' }
  | { kind: 'status' }
  | { kind: 'oncall' }
  | { kind: 'schedule' }
  | { kind: 'usage'; message: string }
  | TeamChange;

const MAINTENANCE_USAGE = `Say for how long, and why if you like: \`${COMMAND} maintenance 2h deploy of checkout\`; end it with \`${COMMAND} maintenance off\`.`;
const LONGEST_MAINTENANCE_MS = 30 * 24 * 3_600_000;

const TAKE_USAGE = `Say for how long, or nothing for the rest of the current shift: \`${COMMAND} take 2h\`.`;

/** Parses what follows `/escalator` (or the bot's mention): `rotation @a @b`, `timeout 10m`, … */
export function parseCommandText(text: string): ParsedCommand {
  const [verb = '', ...rest] = text.trim().split(/\s+/);
  const args = rest.join(' ');
  switch (verb.toLowerCase()) {
    case '':
    case 'help':
      return { kind: 'help' };
    case 'status':
      return { kind: 'status' };
    case 'rotation': {
      const engineers = [...args.matchAll(USER_MENTION)].map((match) => match[1] as string);
      const unique = [...new Set(engineers)];
      if (unique.length === 0) return { kind: 'usage', message: ROTATION_OF_PEOPLE };
      if (unique.length > MAX_ROTATION)
        return { kind: 'usage', message: `At most ${MAX_ROTATION} people in a rotation.` };
      return { kind: 'rotation', engineers: unique };
    }
    case 'timeout': {
      const ms = parseDuration(args);
      if (ms === undefined || ms < MIN_TIMEOUT_MS || ms > MAX_TIMEOUT_MS) {
        return { kind: 'usage', message: `Give a time between 10s and 24h: \`${COMMAND} timeout 10m\`.` };
      }
      return { kind: 'timeout', ms, text: args.trim() };
    }
    case 'oncall':
      return { kind: 'oncall' };
    case 'maintenance': {
      const [span = '', ...words] = rest;
      if (span.toLowerCase() === 'off' && words.length === 0) return { kind: 'maintenance-off' };
      const ms = parseSpan(span);
      if (ms === undefined || ms > LONGEST_MAINTENANCE_MS) return { kind: 'usage', message: MAINTENANCE_USAGE };
      const reason = words.join(' ').trim().slice(0, 200);
      return { kind: 'maintenance', ms, ...(reason ? { reason } : {}) };
    }
    case 'schedule':
      return { kind: 'schedule' };
    case 'take': {
      if (args.trim() === '') return { kind: 'take' };
      const ms = parseSpan(args);
      if (ms === undefined || ms > LONGEST_TAKE_OVER_MS) return { kind: 'usage', message: TAKE_USAGE };
      return { kind: 'take', ms };
    }
    case 'cover': {
      const [mention, ...others] = [...args.matchAll(USER_MENTION)];
      const times = args.replace(USER_MENTION, ' ').trim().split(/\s+/).filter(Boolean);
      if (!mention || others.length > 0 || times.length !== 2) return { kind: 'usage', message: COVER_USAGE };
      return { kind: 'cover', userId: mention[1] as string, from: times[0] as string, to: times[1] as string };
    }
    case 'token':
      if (args.trim().toLowerCase() === 'rotate') return { kind: 'token-rotate' };
      return { kind: 'usage', message: `\`${COMMAND} token rotate\` issues new endpoint URLs.` };
    default:
      return { kind: 'usage', message: `Unknown command. ${helpMessage()}` };
  }
}

/**
 * The command in a message that mentions the bot: the text with the bot's own mention taken out
 * (`<@UBOT> rotation <@U1> <@U2>` → `rotation <@U1> <@U2>`). Only its first mention is taken out,
 * wherever it stands, so that `hey <@UBOT> status` reads as the verb `hey` (unknown: help).
 */
export function commandTextOfMention(text: string, botUserId: string): string {
  const own = new RegExp(`<@${botUserId}(?:\\|[^>]*)?>`);
  return text.replace(own, ' ').trim();
}

export interface TeamCommandDeps {
  db: Database;
  workspaces: Workspaces;
  publicUrl: string;
  /** ESCALATION_TIMEOUT, shown by `status` for a team without its own. */
  escalationTimeoutMs: number;
  log: Logger;
  /** The clock `oncall`, `take`, `cover` and `maintenance` read (Date.now unless a test sets it). */
  now?: () => number;
  /** Tells a team's running alerts that its maintenance windows changed, and a schedule's handoff watcher of overrides. */
  temporal?: Client;
  /** Where the handoff watcher runs (TEMPORAL_TASK_QUEUE). */
  taskQueue?: string;
}

export interface TeamCommand {
  slackTeamId: string;
  channelId: string;
  /** The Slack user who asked. */
  userId: string;
  /** The command text, the bot's own mention already taken out. */
  text: string;
}

/** What a command comes to before anything changes: an answer at once, or a change to carry out. */
export type PreparedCommand =
  | { kind: 'answer'; text: string }
  | { kind: 'change'; workspace: Workspace; team: ChannelTeam; change: TeamChange }
  /** `schedule`: a modal to open, which only a slash command can (it needs the command's trigger_id). */
  | { kind: 'modal'; workspace: Workspace; team: ChannelTeam };

const NOT_SET_UP = `Escalator is not in this channel yet: invite it with \`/invite @Escalator\`, then try again.`;
export const NOT_INSTALLED = 'Escalator is not installed in this workspace.';
export const NOT_A_MEMBER = 'Only members of this channel can change its team.';
/** A form opens only from a slash command (Slack gives its trigger to commands, not to mentions). */
export const SCHEDULE_FORM_FROM_COMMAND = `The schedule form opens from the slash command: type \`${COMMAND} schedule\`.`;
export const CHANGE_FAILED = 'Escalator could not make that change just now. Try again in a moment.';

/** Parses a command and finds its team; `help`, `status` and mistakes are answered from the database alone. */
export async function prepareTeamCommand(deps: TeamCommandDeps, command: TeamCommand): Promise<PreparedCommand> {
  const parsed = parseCommandText(command.text);
  if (parsed.kind === 'help') return { kind: 'answer', text: helpMessage() };
  if (parsed.kind === 'usage') return { kind: 'answer', text: parsed.message };
  const workspace = await deps.workspaces.find(command.slackTeamId);
  if (!workspace) return { kind: 'answer', text: NOT_INSTALLED };
  const team = await findChannelTeam(deps.db, {
    installationId: workspace.installationId,
    channelId: command.channelId,
  });
  if (!team) return { kind: 'answer', text: NOT_SET_UP };
  if (parsed.kind === 'oncall')
    return { kind: 'answer', text: await onCallAnswer(deps.db, team, (deps.now ?? Date.now)()) };
  if (parsed.kind === 'schedule') return { kind: 'modal', workspace, team };
  if (parsed.kind === 'status') {
    const alerts = await openAlertsOf(deps.db, team.id);
    const escalationTimeoutMs = team.escalationTimeoutMs ?? deps.escalationTimeoutMs;
    const now = (deps.now ?? Date.now)();
    const maintenance = maintenanceLine(await windowsAt(deps.db, team.id, now), now);
    const status = statusMessage(
      team.name,
      { engineers: team.engineers, escalationTimeoutMs, paused: !!team.pausedAt },
      alerts
    );
    return { kind: 'answer', text: maintenance ? `${status}\n${maintenance}` : status };
  }
  if (parsed.kind === 'rotation' && parsed.engineers.includes(workspace.botUserId)) {
    // Escalator cannot be on call: `@Escalator rotation @Escalator @alice` means Alice.
    const engineers = parsed.engineers.filter((user) => user !== workspace.botUserId);
    if (engineers.length === 0) return { kind: 'answer', text: ROTATION_OF_PEOPLE };
    return { kind: 'change', workspace, team, change: { kind: 'rotation', engineers } };
  }
  return { kind: 'change', workspace, team, change: parsed };
}

/**
 * Wakes the schedule's handoff watcher after an override from Slack, so that notices and the user
 * group follow at once. Temporal not answering leaves the change saved: the watcher sees it when a
 * worker next starts.
 */
async function tellWatcherOfChange(
  deps: Pick<TeamCommandDeps, 'temporal' | 'taskQueue' | 'log'>,
  schedule: { id: string; handoffNotices: boolean; slackUsergroupId: string | null }
): Promise<void> {
  if (!deps.temporal || !deps.taskQueue) return;
  const watched = schedule.handoffNotices || schedule.slackUsergroupId !== null;
  await tellHandoffWatcher(deps.temporal, { scheduleId: schedule.id, taskQueue: deps.taskQueue, watched }).catch(
    (error: unknown) => deps.log.warn({ err: error, scheduleId: schedule.id }, 'handoff watcher not told of the change')
  );
}

/** Where a command answers the person who asked; confirmations always go to the channel. */
export interface CommandReplies {
  /** A refusal or a problem. */
  toAsker(text: string): Promise<void>;
  /** New endpoint URLs: for the person who asked, and nobody else. */
  privatelyToAsker(text: string): Promise<void>;
}

/**
 * Carries a change out for a member of the channel, or refuses it: the change and its audit entry
 * in one transaction, then a confirmation in the channel (people named, never pinged). A refusal
 * is audited too, and told to the person who asked.
 */
export async function applyTeamChange(
  deps: Pick<TeamCommandDeps, 'db' | 'publicUrl' | 'log' | 'now' | 'temporal' | 'taskQueue'>,
  prepared: Extract<PreparedCommand, { kind: 'change' }>,
  command: Pick<TeamCommand, 'channelId' | 'userId'> & { via: ChangeVia },
  replies: CommandReplies
): Promise<void> {
  const { db, publicUrl, log } = deps;
  const { workspace, team, change } = prepared;
  const { userId: actor, channelId: channel, via } = command;
  if (!(await workspace.slack.isChannelMember(channel, actor))) {
    await db.teamAuditEntry.create({
      data: {
        teamId: team.id,
        actor,
        action: 'refused',
        detail: { change: change.kind, reason: 'not a channel member', via },
      },
    });
    log.warn({ team: team.name, actor, change: change.kind }, 'team change from a non-member refused');
    await replies.toAsker(NOT_A_MEMBER);
    return;
  }
  switch (change.kind) {
    case 'rotation':
      await setRotation(db, team.id, change.engineers, actor, via);
      await workspace.slack.postMessage({ channel, text: rotationSetMessage(actor, change.engineers) });
      return;
    case 'timeout':
      await setEscalationTimeout(db, team.id, change.ms, actor, via);
      await workspace.slack.postMessage({ channel, text: timeoutSetMessage(actor, change.text) });
      return;
    case 'token-rotate': {
      const links = await rotateTeamToken(db, publicUrl, team.id, actor, via);
      await replies.privatelyToAsker(newTokenMessage(links));
      await workspace.slack.postMessage({ channel, text: tokenRotatedMessage(actor) });
      return;
    }
    case 'maintenance': {
      const now = (deps.now ?? Date.now)();
      const window = await createWindow(db, team.id, {
        startsAt: now,
        endsAt: now + change.ms,
        reason: change.reason,
        createdBy: actor,
      });
      await db.teamAuditEntry.create({
        data: { teamId: team.id, actor, action: 'maintenance-start', detail: { maintenanceId: window.id, via } },
      });
      if (deps.temporal) await tellRunningAlerts({ db, temporal: deps.temporal, log }, team.id);
      await workspace.slack.postMessage({ channel, text: maintenanceStartedMessage(actor, window) });
      return;
    }
    case 'maintenance-off': {
      const { ended, recurring } = await endWindowsNow(db, team.id, (deps.now ?? Date.now)());
      if (ended === 0 && recurring.length === 0) return replies.toAsker('No maintenance window is in force.');
      if (ended > 0) {
        await db.teamAuditEntry.create({
          data: { teamId: team.id, actor, action: 'maintenance-off', detail: { ended, via } },
        });
        if (deps.temporal) await tellRunningAlerts({ db, temporal: deps.temporal, log }, team.id);
      }
      await workspace.slack.postMessage({ channel, text: maintenanceEndedMessage(actor, ended, recurring) });
      return;
    }
    case 'take':
    case 'cover': {
      const outcome = await takeOnCall(db, team, change, { actor, via, now: (deps.now ?? Date.now)() });
      if (outcome.ok) await tellWatcherOfChange(deps, outcome.schedule);
      if (!outcome.ok) return replies.toAsker(outcome.text);
      await workspace.slack.postMessage({ channel, text: outcome.text });
      return;
    }
  }
}
