/** `POST /slack/interactions` (button presses) and `POST /slack/events`, after signature checks. */
import type { Client } from '@temporalio/client';
import type { RequestHandler } from 'express';
import { z } from 'zod';
import { ALERT_ACTIONS, type AlertAction } from '../../domain/alert';
import { HttpError } from '../errors';
import { parseJson } from '../middleware/body';
import { recordButtonPress, type PressOutcome, type SlackResponder } from '../services/slack-actions';
import { parseInput } from '../validation';

export const ALERT_ENDED_REPLY = 'This alert is already closed.';
export const PRESS_NOT_RECORDED_REPLY = 'Escalator could not record your press, try again in a moment.';

const interactionPayload = z.object({
  type: z.string(),
  user: z.object({ id: z.string(), username: z.string().optional(), name: z.string().optional() }).optional(),
  actions: z
    .array(z.object({ action_id: z.string(), value: z.string().optional(), action_ts: z.string().optional() }))
    .optional(),
  response_url: z.string().optional(),
});

/** Alert buttons carry their workflow id as value; anything else is not one of our buttons. */
function isAlertButton(action: { action_id: string; value?: string }): action is {
  action_id: AlertAction;
  value: string;
  action_ts?: string;
} {
  return (ALERT_ACTIONS as readonly string[]).includes(action.action_id) && !!action.value?.startsWith('alert/');
}

function replyFor(outcomes: PressOutcome[]): string | undefined {
  if (outcomes.includes('temporal-unavailable')) return PRESS_NOT_RECORDED_REPLY;
  if (outcomes.includes('alert-ended')) return ALERT_ENDED_REPLY;
  return undefined;
}

/**
 * Signals each alert button press to its workflow and answers 200 with an empty body, so the
 * message stays as the workflow renders it. Slack does not retry interactions: when a press could
 * not be taken, the presser is told through response_url, after the answer (never delaying it).
 */
export function slackInteractionsHandler({
  temporal,
  responder,
}: {
  temporal: Client;
  responder: SlackResponder;
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
    if (payload.type !== 'block_actions' || !user) {
      res.status(200).end();
      return;
    }
    const presses = (payload.actions ?? []).filter(isAlertButton);

    const outcomes = await Promise.all(
      presses.map(async (action) => {
        const outcome = await recordButtonPress(temporal, action.value, {
          action: action.action_id,
          userId: user.id,
          userName: user.username ?? user.name,
          pressId: `${action.action_ts ?? ''}:${user.id}`,
        });
        req.log.info({ workflowId: action.value, action: action.action_id, userId: user.id, outcome }, 'button press');
        return outcome;
      })
    );
    res.status(200).end();

    const reply = replyFor(outcomes);
    if (reply && payload.response_url) {
      responder
        .replyEphemeral(payload.response_url, reply)
        .catch((error: unknown) => req.log.warn({ err: error }, 'could not reply through response_url'));
    }
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
