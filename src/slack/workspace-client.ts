/**
 * The Slack calls that the gateway makes for a workspace while setting a team up (Events API,
 * slash command, mentions, App Home): who the bot is, a channel's name and members, messages in
 * the channel, and a person's Home tab.
 * The alert workflow's calls stay behind `SlackApi` (client.ts); these run in request handlers,
 * after the answer to Slack, with the same short timeout and no retries of their own.
 */
import type { HomeView, KnownBlock, ModalView } from '@slack/web-api';
import type { Logger } from '../logger';
import { createSlackWebClient } from './client';

export interface WorkspaceSlack {
  /** The bot's own user id (auth.test). */
  botUserId(): Promise<string>;
  /** The workspace the token belongs to (auth.test's `team_id`), asked once. */
  slackTeamId(): Promise<string>;
  /** The channel's name without `#` (conversations.info). */
  channelName(channel: string): Promise<string>;
  /** Whether `user` is a member of `channel` (conversations.members, every page). */
  isChannelMember(channel: string, user: string): Promise<boolean>;
  /** A message in the channel (in a thread when `threadTs` is given), without link previews. */
  postMessage(args: { channel: string; text: string; blocks?: unknown[]; threadTs?: string }): Promise<void>;
  /** A message in the channel that only `user` sees (chat.postEphemeral). */
  postEphemeral(args: { channel: string; user: string; text: string; threadTs?: string }): Promise<void>;
  /** The App Home tab of `user` (views.publish); Slack shows the latest one published. */
  publishHome(user: string, view: HomeView): Promise<void>;
  /** Opens a modal for the person whose action gave `triggerId` (views.open; the trigger lasts 3 seconds). */
  openView(triggerId: string, view: ModalView): Promise<void>;
}

/** Members are listed in pages; a channel larger than this many pages is not searched further. */
const MAX_MEMBER_PAGES = 50;

export function createWorkspaceSlack({
  token,
  apiUrl,
  log,
}: {
  token: string;
  apiUrl: string;
  log: Logger;
}): WorkspaceSlack {
  const client = createSlackWebClient(token, apiUrl);
  // Asked once and kept: who the token is does not change while the token lives. A failure is not kept.
  let identity: Promise<{ userId: string; teamId: string }> | undefined;
  const whoAmI = () => {
    identity ??= client.auth.test().then((result) => {
      if (!result.user_id || !result.team_id) throw new Error('auth.test answered without user_id or team_id');
      return { userId: result.user_id, teamId: result.team_id };
    });
    identity.catch(() => (identity = undefined));
    return identity;
  };
  return {
    async botUserId() {
      return (await whoAmI()).userId;
    },
    async slackTeamId() {
      return (await whoAmI()).teamId;
    },
    async channelName(channel) {
      const result = await client.conversations.info({ channel });
      return result.channel?.name ?? channel;
    },
    async isChannelMember(channel, user) {
      let cursor: string | undefined;
      for (let page = 0; page < MAX_MEMBER_PAGES; page += 1) {
        const result = await client.conversations.members({ channel, cursor, limit: 1000 });
        if (result.members?.includes(user)) return true;
        cursor = result.response_metadata?.next_cursor || undefined;
        if (!cursor) return false;
      }
      log.warn({ channel }, 'channel membership not found within the pages searched');
      return false;
    },
    async postMessage({ channel, text, blocks, threadTs }) {
      await client.chat.postMessage({
        channel,
        text,
        blocks: blocks as KnownBlock[] | undefined,
        thread_ts: threadTs,
        unfurl_links: false,
        unfurl_media: false,
      });
    },
    async postEphemeral({ channel, user, text, threadTs }) {
      await client.chat.postEphemeral({ channel, user, text, thread_ts: threadTs });
    },
    async publishHome(user, view) {
      await client.views.publish({ user_id: user, view });
    },
    async openView(triggerId, view) {
      await client.views.open({ trigger_id: triggerId, view });
    },
  };
}
