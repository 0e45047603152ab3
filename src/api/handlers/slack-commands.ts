/**
 * `POST /slack/commands`: the `/escalator` slash command, after the signature check. `help` and
 * `status` are answered at once (database reads only). Changes are answered at once with an
 * empty 200, within Slack's 3 seconds, and done behind the answer (slack-team-commands.ts, shared
 * with mentions of the bot): a refusal or a problem is told to the person alone (response_url).
 */
import type { RequestHandler } from 'express';
import { z } from 'zod';
import type { SlackResponder } from '../services/slack-actions';
import {
  applyTeamChange,
  CHANGE_FAILED,
  prepareTeamCommand,
  type TeamCommandDeps,
} from '../services/slack-team-commands';
import { openScheduleForm } from '../services/slack-schedule-form';
import { parseInput } from '../validation';

const commandSchema = z.object({
  team_id: z.string().min(1),
  channel_id: z.string().min(1),
  user_id: z.string().min(1),
  text: z.string().default(''),
  response_url: z.string().url(),
  trigger_id: z.string().optional(),
});

export interface SlackCommandDeps extends TeamCommandDeps {
  responder: SlackResponder;
  background?: Set<Promise<void>>;
}

export function slackCommandsHandler(deps: SlackCommandDeps): RequestHandler {
  const { log, responder } = deps;
  return async (req, res) => {
    const raw = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
    const form = parseInput(commandSchema, Object.fromEntries(new URLSearchParams(raw)), 'body');
    // A workspace Escalator does not know gets an empty answer (Slack shows nothing) and nothing changes.
    const binding = await deps.workspaces.bind(form.team_id);
    if (binding !== 'installation' && binding !== 'own') {
      log.warn({ slackTeamId: form.team_id }, 'slash command from a workspace Escalator does not know: ignored');
      return void res.status(200).end();
    }
    const command = { slackTeamId: form.team_id, channelId: form.channel_id, userId: form.user_id, text: form.text };
    const prepared = await prepareTeamCommand(deps, command);
    if (prepared.kind === 'answer')
      return void res.status(200).json({ response_type: 'ephemeral', text: prepared.text });

    res.status(200).end();
    const toAsker = (text: string) => responder.replyEphemeral(form.response_url, text);
    if (prepared.kind === 'modal') {
      // views.open must come within 3 seconds of the command: at once, behind the empty answer.
      const opening = (
        form.trigger_id
          ? openScheduleForm(deps.db, prepared, { triggerId: form.trigger_id, channelId: form.channel_id })
          : Promise.resolve('Slack sent no trigger for a form: try the command again.')
      )
        .then(async (refusal) => (refusal ? toAsker(refusal) : undefined))
        .catch(async (error: unknown) => {
          log.error({ err: error, team: prepared.team.name }, 'schedule form could not be opened');
          await toAsker(CHANGE_FAILED).catch(() => undefined);
        });
      deps.background?.add(opening);
      void opening.finally(() => deps.background?.delete(opening));
      return;
    }
    const change = { ...command, via: 'command' as const };
    const work = applyTeamChange(deps, prepared, change, { toAsker, privatelyToAsker: toAsker }).catch(
      async (error: unknown) => {
        log.error({ err: error, team: prepared.team.name, change: prepared.change.kind }, 'slash command failed');
        await toAsker(CHANGE_FAILED).catch(() => undefined);
      }
    );
    deps.background?.add(work);
    void work.finally(() => deps.background?.delete(work));
  };
}
