/**
 * The Slack calls that the gateway makes for a workspace while setting a team up (Events API,
 * slash command): who the bot is, a channel's name and members, and messages in the channel.
 * The alert workflow's calls stay behind `SlackApi` (client.ts); these run in request handlers,
 * after the answer to Slack, with the same short timeout and no retries of their own.
 */
import type { KnownBlock } from '@slack/web-api';
import type { Logger } from '../logger';
import { createSlackWebClient } from './client';

export interface WorkspaceSlack {
  /** The bot's own user id (auth.test). */
  botUserId(): Promise<string>;
  /** The channel's name without `#` (conversations.info). */
  channelName(channel: string): Promise<string>;
  /** Whether `user` is a member of `channel` (conversations.members, every page). */
  isChannelMember(channel: string, user: string): Promise<boolean>;
  /** A message in the channel, without link previews. */
  postMessage(args: { channel: string; text: string; blocks?: unknown[] }): Promise<void>;
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
  let botUser: Promise<string> | undefined;
  return {
    botUserId() {
      botUser ??= client.auth.test().then((result) => {
        if (!result.user_id) throw new Error('auth.test answered without user_id');
        return result.user_id;
      });
      botUser.catch(() => (botUser = undefined));
      return botUser;
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
    async postMessage({ channel, text, blocks }) {
      await client.chat.postMessage({
        channel,
        text,
        blocks: blocks as KnownBlock[] | undefined,
        unfurl_links: false,
        unfurl_media: false,
      });
    },
  };
}
