/**
 * Builders for requests as Slack sends them: signed (`X-Slack-Signature` over the raw body) form
 * bodies for interactions and JSON bodies for the Events API.
 */
import { createHmac } from 'node:crypto';
import type { AlertAction } from '../../src/domain/alert';

export type SlackSignatureHeaders = {
  'X-Slack-Request-Timestamp': string;
  'X-Slack-Signature': string;
};

/** Signs `rawBody` as Slack does, at `nowMs` (defaults to now). */
export function signSlackRequest(signingSecret: string, rawBody: string, nowMs = Date.now()): SlackSignatureHeaders {
  const timestamp = String(Math.floor(nowMs / 1000));
  const signature = createHmac('sha256', signingSecret).update(`v0:${timestamp}:${rawBody}`).digest('hex');
  return { 'X-Slack-Request-Timestamp': timestamp, 'X-Slack-Signature': `v0=${signature}` };
}

export interface ButtonPress {
  /** An AlertAction (`ack`, `close`, `pass`), or any other action id to test how it is ignored. */
  action: AlertAction | (string & {});
  /** The button's value: the alert's workflow id. */
  workflowId: string;
  userId: string;
  userName?: string;
  responseUrl?: string;
  /** Slack's `action_ts`, as `"1700000000.123456"`. */
  actionTs?: string;
  /** The channel of the pressed message: a press counts only in its alert's team channel. */
  channelId: string;
  /** The workspace pressed in; default the fake Slack's own (auth.test of any token it did not issue). */
  teamId?: string;
}

/** The workspace of the fake Slack's default bot token (what its auth.test answers). */
export const FAKE_SLACK_TEAM_ID = 'T0FAKE';

/** A `block_actions` payload for one press of an alert button. */
export function blockActionsPayload(press: ButtonPress): Record<string, unknown> {
  return {
    type: 'block_actions',
    user: {
      id: press.userId,
      username: press.userName ?? 'jane.doe',
      name: press.userName ?? 'jane.doe',
      team_id: press.teamId ?? FAKE_SLACK_TEAM_ID,
    },
    api_app_id: 'A0TEST',
    team: { id: press.teamId ?? FAKE_SLACK_TEAM_ID, domain: 'escalator-test' },
    channel: { id: press.channelId, name: 'ops' },
    container: { type: 'message', message_ts: '1700000000.000100', channel_id: press.channelId },
    trigger_id: '1234.5678.abcdef',
    response_url: press.responseUrl ?? 'https://hooks.slack.com/actions/T0TEST/1/abc',
    actions: [
      {
        type: 'button',
        action_id: press.action,
        block_id: 'alert-actions',
        value: press.workflowId,
        text: { type: 'plain_text', text: press.action },
        action_ts: press.actionTs ?? `${(Date.now() / 1000).toFixed(6)}`,
      },
    ],
  };
}

/** The form body Slack posts for an interaction: `payload=<url-encoded JSON>`. */
export function interactionBody(payload: Record<string, unknown>): string {
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

/** A signed interaction request: body and headers ready for supertest's `.set()` and `.send()`. */
export function signedInteraction(
  signingSecret: string,
  payload: Record<string, unknown>,
  nowMs = Date.now()
): { body: string; headers: SlackSignatureHeaders & { 'Content-Type': string } } {
  const body = interactionBody(payload);
  return {
    body,
    headers: { ...signSlackRequest(signingSecret, body, nowMs), 'Content-Type': 'application/x-www-form-urlencoded' },
  };
}

/** A signed Events API request (JSON body). */
export function signedEvent(
  signingSecret: string,
  event: Record<string, unknown>,
  nowMs = Date.now()
): { body: string; headers: SlackSignatureHeaders & { 'Content-Type': string } } {
  const body = JSON.stringify(event);
  return { body, headers: { ...signSlackRequest(signingSecret, body, nowMs), 'Content-Type': 'application/json' } };
}
