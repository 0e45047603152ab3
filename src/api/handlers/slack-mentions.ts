/**
 * Mentions of the bot in a channel as commands (`@Escalator rotation @alice @bob`, `timeout 10m`,
 * `status`, `token rotate`, `help`), from the Events API's `app_mention`: the same commands as
 * `/escalator`, parsed and carried out by the same code (slack-team-commands.ts). They run behind
 * the events answer, so every reply is a message: answers, refusals and problems in the thread
 * of the mention; confirmations in the channel, as for the slash command; new endpoint URLs to
 * the person alone (chat.postEphemeral), never in the thread.
 */
import { z } from 'zod';
import {
  applyTeamChange,
  CHANGE_FAILED,
  commandTextOfMention,
  prepareTeamCommand,
  SCHEDULE_FORM_FROM_COMMAND,
  type TeamCommandDeps,
} from '../services/slack-team-commands';

const mentionEvent = z.object({
  user: z.string().min(1).optional(),
  channel: z.string().min(1),
  text: z.string().default(''),
  ts: z.string().min(1),
  thread_ts: z.string().optional(),
  bot_id: z.string().optional(),
  subtype: z.string().optional(),
});

/** Carries out the command in an `app_mention` event of workspace `slackTeamId`. */
export async function answerMention(deps: TeamCommandDeps, slackTeamId: string, event: unknown): Promise<void> {
  const { log } = deps;
  const parsed = mentionEvent.safeParse(event);
  if (!parsed.success) return;
  const mention = parsed.data;
  // Bots' messages (ours included) and edits are not commands: an edit would run it a second time.
  if (!mention.user || mention.bot_id || mention.subtype) {
    log.debug({ slackTeamId, subtype: mention.subtype }, 'mention from a bot or an edit: ignored');
    return;
  }
  const workspace = await deps.workspaces.find(slackTeamId);
  if (!workspace || mention.user === workspace.botUserId) return;
  const command = {
    slackTeamId,
    channelId: mention.channel,
    userId: mention.user,
    text: commandTextOfMention(mention.text, workspace.botUserId),
  };
  const threadTs = mention.thread_ts ?? mention.ts;
  const inThread = (text: string) => workspace.slack.postMessage({ channel: mention.channel, text, threadTs });

  const prepared = await prepareTeamCommand(deps, command);
  if (prepared.kind === 'answer') return inThread(prepared.text);
  if (prepared.kind === 'modal') return inThread(SCHEDULE_FORM_FROM_COMMAND);
  try {
    await applyTeamChange(
      deps,
      prepared,
      { ...command, via: 'mention' },
      {
        toAsker: inThread,
        privatelyToAsker: (text) =>
          workspace.slack.postEphemeral({ channel: mention.channel, user: command.userId, text, threadTs }),
      }
    );
  } catch (error) {
    log.error({ err: error, team: prepared.team.name, change: prepared.change.kind }, 'mention command failed');
    await inThread(CHANGE_FAILED).catch(() => undefined);
  }
}
