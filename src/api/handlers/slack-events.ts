/**
 * `POST /slack/events` (Events API), after the signature check. Slack wants an answer within 3
 * seconds and redelivers otherwise (`X-Slack-Retry-Num`), so the event id is recorded first
 * (slack-event-receipts.ts), the answer goes out, and the work runs behind it; a delivery of an
 * event id seen before answers 200 and does nothing. (The cost of that order: work that fails
 * after the answer is logged, not redelivered.)
 */
import type { Client } from '@temporalio/client';
import type { RequestHandler } from 'express';
import { z } from 'zod';
import type { Database } from '../../db/client';
import type { Logger } from '../../logger';
import { forgetInstallationTokens, pauseWorkspaceTeams, type InstallationBots } from '../../slack/installations';
import { endpointsMessage, resumedMessage, teamLimitMessage, welcomeMessage } from '../../slack/setup-messages';
import { HttpError } from '../errors';
import { parseJson } from '../middleware/body';
import type { EventReceipts } from '../services/slack-event-receipts';
import { publishHome } from '../services/slack-home';
import { joinChannel, leaveChannel } from '../services/slack-team-setup';
import type { WorkspaceBinding, Workspaces } from '../services/slack-workspaces';
import { parseInput } from '../validation';
import { answerMention } from './slack-mentions';

const envelopeSchema = z.object({
  type: z.string(),
  challenge: z.string().optional(),
  event_id: z.string().min(1).optional(),
  team_id: z.string().optional(),
  authorizations: z.array(z.object({ team_id: z.string().nullish(), enterprise_id: z.string().nullish() })).optional(),
  event: z.object({ type: z.string() }).passthrough().optional(),
});

type Envelope = z.infer<typeof envelopeSchema>;
type EventCallback = Envelope & { event: NonNullable<Envelope['event']> };

const membershipEvent = z.object({ user: z.string(), channel: z.string(), inviter: z.string().optional() });
const channelLeftEvent = z.object({ channel: z.string(), actor_id: z.string().optional() });
const tokensRevokedEvent = z.object({ tokens: z.object({ bot: z.array(z.string()).optional() }).optional() });
const homeOpenedEvent = z.object({ user: z.string().min(1), tab: z.string().optional() });

export interface SlackEventDeps {
  db: Database;
  workspaces: Workspaces;
  bots: InstallationBots;
  publicUrl: string;
  /** ESCALATION_TIMEOUT: what mentions' `status` and the App Home show for a team without its own. */
  escalationTimeoutMs: number;
  log: Logger;
  /** Event ids already taken (redeliveries act once). */
  receipts: EventReceipts;
  /** Milliseconds since the epoch (the App Home's ages). */
  clock?: () => number;
  /** Tells running alerts that their team's maintenance windows changed (`@Escalator maintenance …`). */
  temporal?: Client;
  /** Where a schedule's handoff watcher runs (TEMPORAL_TASK_QUEUE). */
  taskQueue?: string;
  /** Work done behind the answer, for tests and shutdown to wait on. */
  background?: Set<Promise<void>>;
}

export function slackEventsHandler(deps: SlackEventDeps): RequestHandler {
  const { log, receipts } = deps;
  return async (req, res) => {
    const envelope = parseInput(envelopeSchema, parseJson(req.body), 'body');
    if (envelope.type === 'url_verification') {
      if (envelope.challenge === undefined) throw new HttpError(400, 'challenge: missing');
      res.status(200).json({ challenge: envelope.challenge });
      return;
    }
    const slackTeamId = slackTeamIdOf(envelope);
    // Other envelopes (app_rate_limited), and events without a workspace, change nothing here.
    if (envelope.type !== 'event_callback' || !envelope.event || !slackTeamId) {
      log.debug({ type: envelope.event?.type ?? envelope.type }, 'Slack event not handled');
      res.status(200).end();
      return;
    }
    // Slack signs what every workspace with the app sends: one Escalator does not know acts on nothing.
    const binding = await deps.workspaces.bind(slackTeamId);
    if (binding !== 'installation' && binding !== 'own') {
      log.warn(
        { slackTeamId, type: envelope.event.type },
        'Slack event from a workspace Escalator does not know: ignored'
      );
      res.status(200).end();
      return;
    }
    const retry = req.get('x-slack-retry-num');
    if (envelope.event_id && !(await receipts.take(envelope.event_id))) {
      log.info({ eventId: envelope.event_id, retry }, 'Slack event already taken: ignored');
      res.status(200).end();
      return;
    }
    res.status(200).end();
    const work = (async () => {
      try {
        await handleEvent(deps, envelope as EventCallback, slackTeamId, binding);
      } catch (error) {
        log.error({ err: error, eventId: envelope.event_id, type: envelope.event?.type }, 'Slack event failed');
      }
      try {
        const pruned = await receipts.pruneIfDue();
        if (pruned > 0) log.debug({ pruned }, 'Slack event receipts older than a day pruned');
      } catch (error) {
        log.warn({ err: error }, 'pruning Slack event receipts failed');
      }
    })();
    deps.background?.add(work);
    void work.finally(() => deps.background?.delete(work));
  };
}

function slackTeamIdOf(envelope: Envelope): string | undefined {
  return (
    envelope.team_id ??
    envelope.authorizations?.[0]?.team_id ??
    envelope.authorizations?.[0]?.enterprise_id ??
    undefined
  );
}

async function handleEvent(
  deps: SlackEventDeps,
  envelope: EventCallback,
  slackTeamId: string,
  binding: WorkspaceBinding
): Promise<void> {
  const { db, log, workspaces, publicUrl } = deps;
  const { event } = envelope;
  switch (event.type) {
    case 'app_uninstalled':
      await uninstall(deps, slackTeamId, binding, 'the app was uninstalled');
      return;
    case 'tokens_revoked': {
      const parsed = tokensRevokedEvent.safeParse(event);
      if (parsed.success && (parsed.data.tokens?.bot?.length ?? 0) > 0)
        await uninstall(deps, slackTeamId, binding, "the app's bot token was revoked");
      return;
    }
    case 'app_mention':
      await answerMention(deps, slackTeamId, event);
      return;
    case 'app_home_opened': {
      const parsed = homeOpenedEvent.safeParse(event);
      // The Messages tab opens this event too: only the Home tab is ours to draw.
      if (!parsed.success || (parsed.data.tab ?? 'home') !== 'home') return;
      const workspace = await workspaces.find(slackTeamId);
      if (!workspace) return;
      await publishHome(deps, workspace, parsed.data.user);
      return;
    }
    case 'member_joined_channel': {
      const parsed = membershipEvent.safeParse(event);
      if (!parsed.success) return;
      const workspace = await workspaces.find(slackTeamId);
      if (!workspace || parsed.data.user !== workspace.botUserId) return;
      const channelId = parsed.data.channel;
      const channelName = await workspace.slack.channelName(channelId);
      const joined = await joinChannel(db, publicUrl, {
        installationId: workspace.installationId,
        channelId,
        channelName,
        actor: parsed.data.inviter ?? 'slack',
      });
      log.info(
        {
          slackTeamId,
          channel: channelId,
          team: 'team' in joined ? joined.team.name : undefined,
          outcome: joined.kind,
        },
        'bot joined a channel'
      );
      if (joined.kind === 'created') {
        // The endpoint token is a credential: only the inviter sees it, as after `token rotate`.
        const inviter = parsed.data.inviter;
        await workspace.slack.postMessage({ channel: channelId, text: welcomeMessage(joined.team.name, inviter) });
        if (inviter) {
          await workspace.slack.postEphemeral({
            channel: channelId,
            user: inviter,
            text: endpointsMessage(joined.team.name, joined),
          });
        }
      } else if (joined.kind === 'limit-reached') {
        await workspace.slack.postMessage({ channel: channelId, text: teamLimitMessage(joined.limit) });
      } else if (joined.kind === 'resumed') {
        await workspace.slack.postMessage({ channel: channelId, text: resumedMessage(joined.team.name) });
      }
      return;
    }
    case 'member_left_channel':
    case 'channel_left':
    case 'group_left': {
      const membership = membershipEvent.safeParse(event);
      const left = channelLeftEvent.safeParse(event);
      const channelId = membership.success ? membership.data.channel : left.success ? left.data.channel : undefined;
      if (!channelId) return;
      // No installation row: the workspace is the bot token's own (unknown ones never get here).
      const installation = await db.slackInstallation.findUnique({ where: { slackTeamId } });
      const botUserId = installation?.botUserId ?? (await workspaces.find(slackTeamId))?.botUserId;
      // member_left_channel is about anyone; only the bot's own leaving pauses the team.
      if (membership.success && membership.data.user !== botUserId) return;
      const paused = await leaveChannel(db, {
        installationId: installation?.id ?? null,
        channelId,
        actor: left.success ? (left.data.actor_id ?? 'slack') : 'slack',
      });
      if (paused) log.info({ slackTeamId, channel: channelId, team: paused.name }, 'bot removed: team paused');
      return;
    }
    default:
      log.debug({ type: event.type }, 'Slack event not handled');
  }
}

/**
 * The app was uninstalled or its bot token revoked: tokens dropped, the workspace's teams paused,
 * each pause in its team's audit trail.
 */
async function uninstall(
  deps: SlackEventDeps,
  slackTeamId: string,
  binding: WorkspaceBinding,
  reason: string
): Promise<void> {
  const installationId = await forgetInstallationTokens(deps.db, slackTeamId, reason);
  if (installationId) {
    deps.bots.forget(installationId);
  } else if (binding === 'own') {
    // Single-workspace mode: the teams of SLACK_BOT_TOKEN's workspace, and only from that workspace.
    await deps.db.$transaction((tx) => pauseWorkspaceTeams(tx, null, reason));
  } else {
    return;
  }
  deps.log.info({ slackTeamId }, 'Slack app uninstalled or tokens revoked: tokens removed, teams paused');
}
