/**
 * `POST /slack/commands`: the `/escalator` slash command, after the signature check. `help` and
 * `status` are answered at once (database reads only). Changes are answered at once with an
 * empty 200, within Slack's 3 seconds, and done behind the answer: only a member of the channel
 * may change its team; each change is written to the audit trail and confirmed in the channel,
 * a refusal or a problem is told to the person alone (response_url).
 */
import type { RequestHandler } from 'express';
import { z } from 'zod';
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
import type { SlackResponder } from '../services/slack-actions';
import {
  findChannelTeam,
  openAlertsOf,
  rotateTeamToken,
  setEscalationTimeout,
  setRotation,
  type ChannelTeam,
} from '../services/slack-team-setup';
import type { Workspace, Workspaces } from '../services/slack-workspaces';
import { parseInput } from '../validation';

const commandSchema = z.object({
  team_id: z.string().min(1),
  channel_id: z.string().min(1),
  user_id: z.string().min(1),
  text: z.string().default(''),
  response_url: z.string().url(),
});
type SlashCommand = z.infer<typeof commandSchema>;

/** Escalation timeouts a team may choose: long enough to react, short enough to matter. */
const MIN_TIMEOUT_MS = 10_000;
const MAX_TIMEOUT_MS = 24 * 3_600_000;
const MAX_ROTATION = 20;

/** `<@U123|alice>` as Slack escapes a mention in command text (`should_escape: true`). */
const ESCAPED_MENTION = /<@([UW][A-Z0-9]+)(?:\|[^>]*)?>/g;

type Change =
  { kind: 'rotation'; engineers: string[] } | { kind: 'timeout'; ms: number; text: string } | { kind: 'token-rotate' };

type Parsed = { kind: 'help' } | { kind: 'status' } | { kind: 'usage'; message: string } | Change;

export function parseCommandText(text: string): Parsed {
  const [verb = '', ...rest] = text.trim().split(/\s+/);
  const args = rest.join(' ');
  switch (verb.toLowerCase()) {
    case '':
    case 'help':
      return { kind: 'help' };
    case 'status':
      return { kind: 'status' };
    case 'rotation': {
      const engineers = [...args.matchAll(ESCAPED_MENTION)].map((match) => match[1] as string);
      const unique = [...new Set(engineers)];
      if (unique.length === 0)
        return { kind: 'usage', message: `Name people with @: \`${COMMAND} rotation @alice @bob\`.` };
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
    case 'token':
      if (args.trim().toLowerCase() === 'rotate') return { kind: 'token-rotate' };
      return { kind: 'usage', message: `\`${COMMAND} token rotate\` issues new endpoint URLs.` };
    default:
      return { kind: 'usage', message: `Unknown command. ${helpMessage()}` };
  }
}

export interface SlackCommandDeps {
  db: Database;
  workspaces: Workspaces;
  responder: SlackResponder;
  publicUrl: string;
  escalationTimeoutMs: number;
  log: Logger;
  background?: Set<Promise<void>>;
}

const NOT_SET_UP = `Escalator is not in this channel yet: invite it with \`/invite @Escalator\`, then try again.`;

export function slackCommandsHandler(deps: SlackCommandDeps): RequestHandler {
  const { db, log, workspaces } = deps;
  return async (req, res) => {
    const raw = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
    const command = parseInput(commandSchema, Object.fromEntries(new URLSearchParams(raw)), 'body');
    const parsed = parseCommandText(command.text);
    const ephemeral = (text: string) => res.status(200).json({ response_type: 'ephemeral', text });

    if (parsed.kind === 'help') return void ephemeral(helpMessage());
    if (parsed.kind === 'usage') return void ephemeral(parsed.message);
    const workspace = await workspaces.find(command.team_id);
    if (!workspace) return void ephemeral('Escalator is not installed in this workspace.');
    const team = await findChannelTeam(db, { installationId: workspace.installationId, channelId: command.channel_id });
    if (!team) return void ephemeral(NOT_SET_UP);
    if (parsed.kind === 'status') {
      const alerts = await openAlertsOf(db, team.id);
      const timeout = team.escalationTimeoutMs ?? deps.escalationTimeoutMs;
      return void ephemeral(
        statusMessage(
          team.name,
          { engineers: team.engineers, escalationTimeoutMs: timeout, paused: !!team.pausedAt },
          alerts
        )
      );
    }

    res.status(200).end();
    const work = applyChange(deps, workspace, team, command, parsed).catch(async (error: unknown) => {
      log.error({ err: error, team: team.name, change: parsed.kind }, 'slash command failed');
      await deps.responder
        .replyEphemeral(command.response_url, 'Escalator could not make that change just now. Try again in a moment.')
        .catch(() => undefined);
    });
    deps.background?.add(work);
    void work.finally(() => deps.background?.delete(work));
  };
}

async function applyChange(
  deps: SlackCommandDeps,
  workspace: Workspace,
  team: ChannelTeam,
  command: SlashCommand,
  change: Change
): Promise<void> {
  const { db, responder, publicUrl, log } = deps;
  const actor = command.user_id;
  if (!(await workspace.slack.isChannelMember(command.channel_id, actor))) {
    await db.teamAuditEntry.create({
      data: {
        teamId: team.id,
        actor,
        action: 'refused',
        detail: { change: change.kind, reason: 'not a channel member' },
      },
    });
    log.warn({ team: team.name, actor, change: change.kind }, 'slash command from a non-member refused');
    await responder.replyEphemeral(command.response_url, 'Only members of this channel can change its team.');
    return;
  }
  switch (change.kind) {
    case 'rotation':
      await setRotation(db, team.id, change.engineers, actor);
      await workspace.slack.postMessage({
        channel: command.channel_id,
        text: rotationSetMessage(actor, change.engineers),
      });
      return;
    case 'timeout':
      await setEscalationTimeout(db, team.id, change.ms, actor);
      await workspace.slack.postMessage({ channel: command.channel_id, text: timeoutSetMessage(actor, change.text) });
      return;
    case 'token-rotate': {
      const links = await rotateTeamToken(db, publicUrl, team.id, actor);
      await responder.replyEphemeral(command.response_url, newTokenMessage(links));
      await workspace.slack.postMessage({ channel: command.channel_id, text: tokenRotatedMessage(actor) });
      return;
    }
  }
}
