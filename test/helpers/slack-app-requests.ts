/**
 * Requests of the Slack app as Slack sends them: Events API callbacks (JSON: mentions of the bot,
 * the Home tab opened, …) and slash commands (form-encoded), signed with the app's signing secret.
 * An event is sent as `signedEvent(secret, eventCallback(teamId, appMention({…})))`.
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

export interface Mention {
  /** Who wrote the message; a bot's message carries `botId` (and Slack may leave `user` out). */
  user?: string;
  channel: string;
  /** As Slack delivers it: mentions as `<@U…>`, e.g. `<@UBOT> rotation <@U1> <@U2>`. */
  text: string;
  /** The message's own ts (defaults to a fresh one); replies go to its thread. */
  ts?: string;
  threadTs?: string;
  botId?: string;
  /** `message_changed` and the like: an edit, not a new command. */
  subtype?: string;
}

let mentionCounter = 0;

/** An `app_mention` event, as Slack sends it when someone writes `@Escalator …` in a channel. */
export function appMention(mention: Mention): Record<string, unknown> {
  mentionCounter += 1;
  return {
    type: 'app_mention',
    user: mention.user,
    text: mention.text,
    ts: mention.ts ?? `${Math.floor(Date.now() / 1000)}.${String(mentionCounter).padStart(6, '0')}`,
    thread_ts: mention.threadTs,
    channel: mention.channel,
    bot_id: mention.botId,
    subtype: mention.subtype,
    blocks: [],
  };
}

/** An `app_home_opened` event: `user` opened the app's Home tab (or its Messages tab). */
export function appHomeOpened(user: string, tab: 'home' | 'messages' = 'home'): Record<string, unknown> {
  return { type: 'app_home_opened', user, channel: `D${user}`, tab };
}
