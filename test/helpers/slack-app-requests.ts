/**
 * Requests of the Slack app as Slack sends them: Events API callbacks (JSON) and slash commands
 * (form-encoded), signed with the app's signing secret.
 */
import { randomUUID } from 'node:crypto';
import { signSlackRequest, type SlackSignatureHeaders } from './slack-requests';

export interface SignedRequest {
  body: string;
  headers: SlackSignatureHeaders & { 'Content-Type': string };
}

/** An `event_callback` envelope for one event in workspace `teamId`, with a fresh event id. */
export function eventCallback(
  teamId: string,
  event: Record<string, unknown>,
  eventId = `Ev${randomUUID().replace(/-/g, '').slice(0, 12).toUpperCase()}`
): Record<string, unknown> {
  return {
    token: 'legacy-verification-token',
    team_id: teamId,
    api_app_id: 'A0ESCALATOR',
    event: { ...event, event_ts: `${(Date.now() / 1000).toFixed(6)}` },
    type: 'event_callback',
    event_id: eventId,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [{ team_id: teamId, enterprise_id: null, is_bot: true }],
  };
}

export interface SlashCommand {
  teamId: string;
  channelId: string;
  userId: string;
  text: string;
  responseUrl: string;
}

/** A signed `/escalator` command as Slack posts it (form body, mentions escaped as `<@U…|name>`). */
export function signedCommand(signingSecret: string, command: SlashCommand, nowMs = Date.now()): SignedRequest {
  const body = new URLSearchParams({
    token: 'legacy-verification-token',
    team_id: command.teamId,
    team_domain: 'example',
    channel_id: command.channelId,
    channel_name: 'ops',
    user_id: command.userId,
    user_name: command.userId.toLowerCase(),
    command: '/escalator',
    text: command.text,
    api_app_id: 'A0ESCALATOR',
    response_url: command.responseUrl,
    trigger_id: '1.2.3',
  }).toString();
  return {
    body,
    headers: { ...signSlackRequest(signingSecret, body, nowMs), 'Content-Type': 'application/x-www-form-urlencoded' },
  };
}
