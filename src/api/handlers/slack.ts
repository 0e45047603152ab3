/** `POST /slack/interactions` (button presses) and `POST /slack/events`, after signature checks. */
import type { RequestHandler } from 'express';
import { z } from 'zod';
import type { Database } from '../../db/client';
import { ALERT_ACTIONS, type AlertAction } from '../../domain/alert';
import { HttpError } from '../errors';
import { parseJson } from '../middleware/body';
import { recordButtonPress, type PressOutcome, type SlackResponder } from '../services/slack-actions';
import { recordStormPress } from '../services/storm-actions';
import { STORM_ACTIONS, parseStormButtonValue, type StormAction } from '../../slack/digest-message';
import type { Workspaces } from '../services/slack-workspaces';
import type { SubmissionOutcome, ViewSubmission } from '../services/slack-schedule-form';
import { parseInput } from '../validation';

export const OTHER_CHANNEL_REPLY = 'This button belongs to an alert of another channel: Escalator did not act on it.';
export const UNKNOWN_ALERT_REPLY = 'Escalator does not know this alert.';

const interactionPayload = z.object({
  type: z.string(),
  team: z.object({ id: z.string().min(1) }).nullish(),
  enterprise: z.object({ id: z.string().min(1) }).nullish(),
  user: z
    .object({
      id: z.string(),
      username: z.string().optional(),
      name: z.string().optional(),
      team_id: z.string().optional(),
    })
    .optional(),
  channel: z.object({ id: z.string() }).optional(),
  container: z.object({ channel_id: z.string().optional() }).optional(),
  actions: z
    .array(z.object({ action_id: z.string(), value: z.string().optional(), action_ts: z.string().optional() }))
    .optional(),
  response_url: z.string().optional(),
  view: z
    .object({
      callback_id: z.string(),
      private_metadata: z.string().default(''),
      state: z.object({ values: z.record(z.string(), z.record(z.string(), z.any())) }).optional(),
    })
    .optional(),
});

/** Alert buttons carry their workflow id as value; anything else is not one of our buttons. */
function isAlertButton(action: { action_id: string; value?: string }): action is {
  action_id: AlertAction;
  value: string;
  action_ts?: string;
} {
  return (ALERT_ACTIONS as readonly string[]).includes(action.action_id) && !!action.value?.startsWith('alert/');
}

const STORM_BUTTON_ACTIONS: Record<StormAction, 'ack' | 'close'> = { storm_ack: 'ack', storm_close: 'close' };

/** A storm digest's button: its action and the storm its value names. */
function stormButton(action: { action_id: string; value?: string }) {
  if (!(STORM_ACTIONS as readonly string[]).includes(action.action_id) || !action.value) return undefined;
  const storm = parseStormButtonValue(action.value);
  return storm && { ...storm, action: STORM_BUTTON_ACTIONS[action.action_id as StormAction] };
}

/** `21:34 UTC` (with the date when it was not today), for replies that say when something happened. */
function whenItHappened(at: Date | null, now: Date): string {
  if (!at) return '';
  const time = `${at.toISOString().slice(11, 16)} UTC`;
  const sameDay = at.toISOString().slice(0, 10) === now.toISOString().slice(0, 10);
  return ` at ${sameDay ? time : `${at.toISOString().slice(0, 10)} ${time}`}`;
}

/** What the presser is told, only them, when their press did not act; nothing when it did. */
export function replyFor(outcome: PressOutcome, now: Date): string | undefined {
  switch (outcome.kind) {
    case 'recorded':
      return undefined;
    case 'alert-ended':
      return outcome.state === 'resolved'
        ? `This alert was already resolved by its source${outcome.endedBy ? ` (${outcome.endedBy})` : ''}` +
            `${whenItHappened(outcome.endedAt, now)}.`
        : `This alert was already closed${outcome.endedBy ? ` by ${outcome.endedBy}` : ''}` +
            `${whenItHappened(outcome.endedAt, now)}.`;
    case 'other-channel':
      return OTHER_CHANNEL_REPLY;
    case 'unknown-alert':
      return UNKNOWN_ALERT_REPLY;
  }
}

/** Takes a modal's submission (the schedule form): errors to show beside its fields, or nothing. */
export type ViewSubmissions = (submission: ViewSubmission) => Promise<SubmissionOutcome>;

/**
 * Takes an alert button press and answers 200 with an empty body, so the message stays as the
 * workflow renders it. A modal's submission is answered with its errors, or empty (it closes). A payload carries one action, as Slack sends it; more is refused. When a
 * press did not act, the presser is told through response_url, after the answer (never delaying it).
 */
export function slackInteractionsHandler({
  db,
  responder,
  clock,
  workspaces,
  views,
}: {
  db: Database;
  responder: SlackResponder;
  clock: () => number;
  workspaces: Workspaces;
  views?: ViewSubmissions;
}): RequestHandler {
  return async (req, res) => {
    const raw = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
    const payloadText = new URLSearchParams(raw).get('payload');
    if (payloadText === null) throw new HttpError(400, 'payload: missing; expected a form body payload=<json>');
    let payloadJson: unknown;
    try {
      payloadJson = JSON.parse(payloadText);
    } catch (error) {
      throw new HttpError(400, `payload is not valid JSON: ${(error as Error).message}`);
    }
    const payload = parseInput(interactionPayload, payloadJson, 'payload');
    const user = payload.user;
    if (payload.type === 'view_submission' && payload.view && user && views) {
      const slackTeamId = payload.team?.id ?? user.team_id;
      if (!slackTeamId || (await workspaces.bind(slackTeamId)) === 'unknown') return void res.status(200).end();
      const outcome = await views({
        slackTeamId,
        userId: user.id,
        callbackId: payload.view.callback_id,
        privateMetadata: payload.view.private_metadata,
        values: payload.view.state?.values ?? {},
      });
      if (outcome.response) res.status(200).json(outcome.response);
      else res.status(200).end();
      void outcome
        .after?.()
        .catch((error: unknown) => req.log.error({ err: error }, 'confirmation after a form failed'));
      return;
    }
    if (payload.type !== 'block_actions' || !user) {
      res.status(200).end();
      return;
    }
    const actions = payload.actions ?? [];
    if (actions.length > 1) throw new HttpError(400, `payload.actions: one action per press, got ${actions.length}`);
    const action = actions[0];
    const storm = action && stormButton(action);
    if (!action || (!isAlertButton(action) && !storm)) {
      res.status(200).end();
      return;
    }
    const channelId = payload.channel?.id ?? payload.container?.channel_id;
    if (!channelId) throw new HttpError(400, 'payload.channel.id: missing; a press comes from a message in a channel');
    // Bound to a workspace Escalator knows, as events and commands are: a stranger's press acts on nothing.
    const slackTeamId = payload.team?.id ?? user.team_id ?? payload.enterprise?.id;
    if (!slackTeamId || (await workspaces.bind(slackTeamId)) === 'unknown') {
      req.log.warn(
        { slackTeamId, action: action.action_id },
        'press from a workspace Escalator does not know: ignored'
      );
      res.status(200).end();
      return;
    }

    const pressId = `${action.action_ts ?? ''}:${user.id}`;
    const userName = user.username ?? user.name;
    const reply = (text: string) => {
      if (!payload.response_url) return;
      responder
        .replyEphemeral(payload.response_url, text)
        .catch((error: unknown) => req.log.warn({ err: error }, 'could not reply through response_url'));
    };

    if (storm) {
      // Thousands of alerts may take longer than Slack's 3 seconds: answered first, then told how
      // many it acted on. Should it fail half-way, pressing again acts on the rest.
      res.status(200).end();
      try {
        const outcome = await recordStormPress(db, {
          ...storm,
          pressedInChannelId: channelId,
          userId: user.id,
          userName,
          pressId,
        });
        req.log.info({ channelId, action: action.action_id, userId: user.id, ...outcome }, 'storm button press');
        if (outcome.kind === 'other-channel') reply(OTHER_CHANNEL_REPLY);
        else reply(`${storm.action === 'ack' ? 'Acknowledging' : 'Closing'} ${outcome.alerts} alerts of this storm.`);
      } catch (error) {
        req.log.error({ err: error, channelId }, 'storm button press not recorded');
        reply('Escalator could not act on every alert of this storm: press the button again.');
      }
      return;
    }
    if (!isAlertButton(action)) return;

    const outcome = await recordButtonPress(db, {
      workflowId: action.value,
      channelId,
      action: action.action_id,
      userId: user.id,
      userName,
      pressId,
    });
    req.log.info(
      { workflowId: action.value, action: action.action_id, userId: user.id, outcome: outcome.kind },
      'button press'
    );
    res.status(200).end();

    const told = replyFor(outcome, new Date(clock()));
    if (told) reply(told);
  };
}

const eventEnvelope = z.object({ type: z.string(), challenge: z.string().optional() });

/**
 * Answers Slack's URL verification with its challenge and acknowledges every other event at once.
 * A redelivery (X-Slack-Retry-Num) is acknowledged too: events change nothing here yet.
 */
export const slackEventsHandler: RequestHandler = (req, res) => {
  const envelope = parseInput(eventEnvelope, parseJson(req.body), 'body');
  if (envelope.type === 'url_verification') {
    if (envelope.challenge === undefined) throw new HttpError(400, 'challenge: missing');
    res.status(200).json({ challenge: envelope.challenge });
    return;
  }
  req.log.debug({ type: envelope.type, retry: req.get('x-slack-retry-num') }, 'Slack event ignored');
  res.status(200).end();
};
