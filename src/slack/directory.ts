/**
 * Finding people in Slack: an engineer given to the admin API as an e-mail address becomes the
 * Slack user id that Escalator mentions and messages (`users.lookupByEmail`, scope `users:read.email`).
 */
import { ErrorCode } from '@slack/web-api';
import { createSlackWebClient } from './client';

export interface SlackDirectory {
  /** The user id of the workspace member with this e-mail address, or undefined when there is none. */
  userIdByEmail(email: string): Promise<string | undefined>;
}

/** Slack answered, but not with a user: a problem with the app's setup that the caller must be told. */
export class SlackLookupError extends Error {
  override name = 'SlackLookupError';
}

export function createSlackDirectory({ token, apiUrl }: { token: string; apiUrl: string }): SlackDirectory {
  const client = createSlackWebClient(token, apiUrl);
  return {
    async userIdByEmail(email) {
      try {
        const answer = await client.users.lookupByEmail({ email });
        return answer.user?.id;
      } catch (error) {
        const code = (error as { code?: string; data?: { error?: string } }).code;
        const slackError = (error as { data?: { error?: string } }).data?.error;
        if (code === ErrorCode.PlatformError && slackError === 'users_not_found') return undefined;
        if (code === ErrorCode.PlatformError) {
          const hint = slackError === 'missing_scope' ? ' (the Slack app needs the users:read.email scope)' : '';
          throw new SlackLookupError(`Slack refused users.lookupByEmail: ${slackError}${hint}`);
        }
        throw new SlackLookupError(`could not reach Slack to look up ${email}: ${(error as Error).message}`);
      }
    },
  };
}
