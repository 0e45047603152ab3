/**
 * The part of the Slack Web API that Escalator uses, behind one interface: a real client over
 * `@slack/web-api`, or a dry run that writes each message to the log (no SLACK_BOT_TOKEN yet).
 */
import { randomInt } from 'node:crypto';
import {
  WebClient,
  LogLevel,
  type KnownBlock,
  type Logger as SlackLogger,
  type WebClientOptions,
} from '@slack/web-api';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { messageToPlainText } from './block-kit-html';
import { DEMO_PEOPLE } from './demo-people';
import type { DryRunOutbox } from './dry-run-outbox';

/** A message Escalator posted: where it is and its timestamp id. */
export interface SlackMessageRef {
  channel: string;
  ts: string;
}

export interface SlackMessageContent {
  /** Plain-text fallback shown in notifications. */
  text: string;
  blocks?: unknown[];
}

/** Whether a person can be reached now: away (`users.getPresence`) or in Do Not Disturb (`dnd.info`). */
export interface SlackPresence {
  away: boolean;
  dnd: boolean;
}

export interface SlackApi {
  /**
   * A person's display name (users.info: display name, else real name, else handle); undefined
   * when Slack has none. Absent where nobody can be asked: people are shown by id.
   */
  displayNameOf?(userId: string): Promise<string | undefined>;
  postMessage(args: SlackMessageContent & { channel: string; threadTs?: string }): Promise<SlackMessageRef>;
  updateMessage(args: SlackMessageContent & SlackMessageRef): Promise<void>;
  /** Sets a user group's members to exactly `users` (usergroups.users.update, scope `usergroups:write`). */
  updateUsergroupUsers(args: { usergroupId: string; users: string[] }): Promise<void>;
  /** Absent where nobody can be asked (the dry run): everyone counts as reachable. */
  presenceOf?(userId: string): Promise<SlackPresence>;
}

/**
 * HTTP timeout of one Slack call. Slack answers in well under a second; an activity attempt
 * (10 s start-to-close) must outlive the two calls of a direct message.
 */
export const SLACK_HTTP_TIMEOUT_MS = 3_000;

export interface SlackApiOptions {
  /** Bot token (`xoxb-…`). */
  token?: string;
  /** Web API base URL, ending with `/` (https://slack.com/api/ in production). */
  apiUrl: string;
  log: Logger;
  /** HTTP timeout of each call; defaults to SLACK_HTTP_TIMEOUT_MS. */
  timeoutMs?: number;
}

/**
 * A `WebClient` set up as every Slack call of Escalator wants it: one HTTP attempt with a timeout,
 * a 429 rejected at once with its `retryAfter` (retries belong to Temporal), method names only.
 */
export function createSlackWebClient(
  token: string | undefined,
  apiUrl: string,
  options: Pick<WebClientOptions, 'timeout' | 'logger'> = {}
): WebClient {
  return new WebClient(token, {
    slackApiUrl: apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/`,
    timeout: SLACK_HTTP_TIMEOUT_MS,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    // Method names only: a URL in a method name must never redirect the token elsewhere.
    allowAbsoluteUrls: false,
    ...options,
  });
}

/**
 * The real Slack client. `@slack/web-api`'s defaults suit scripts, not activities (FACTS.md): here
 * each call gets one HTTP attempt with a 3-second timeout, and a 429 is rejected at once with its
 * `retryAfter` instead of pausing the client's queue, because retries belong to Temporal.
 * Errors are thrown as the client raises them; activities classify them (errors.ts).
 */
export function createSlackApi({ token, apiUrl, log, timeoutMs = SLACK_HTTP_TIMEOUT_MS }: SlackApiOptions): SlackApi {
  const client = createSlackWebClient(token, apiUrl, {
    timeout: timeoutMs,
    logger: slackLogger(log.child({ component: 'slack-web-api' })),
  });
  return {
    async displayNameOf(userId) {
      const { user } = await client.users.info({ user: userId });
      const name = user?.profile?.display_name || user?.profile?.real_name || user?.real_name || user?.name;
      return name || undefined;
    },
    async postMessage({ channel, text, blocks, threadTs }) {
      const result = await client.chat.postMessage({
        channel,
        text,
        blocks: blocks as KnownBlock[] | undefined,
        thread_ts: threadTs,
        // Alert links point at dashboards and runbooks: previews would only bury the alert.
        unfurl_links: false,
        unfurl_media: false,
      });
      if (!result.ts || !result.channel) throw new Error('chat.postMessage answered without channel or ts');
      return { channel: result.channel, ts: result.ts };
    },
    async updateMessage({ channel, ts, text, blocks }) {
      await client.chat.update({ channel, ts, text, blocks: blocks as KnownBlock[] | undefined });
    },
    async updateUsergroupUsers({ usergroupId, users }) {
      await client.usergroups.users.update({ usergroup: usergroupId, users: users.join(',') });
    },
    async presenceOf(userId) {
      const [presence, dnd] = await Promise.all([
        client.users.getPresence({ user: userId }),
        client.dnd.info({ user: userId }),
      ]);
      return { away: presence.presence === 'away', dnd: inDoNotDisturb(dnd, Date.now() / 1000) };
    },
  };
}

/**
 * Whether `dnd.info`'s answer puts the person in Do Not Disturb at `nowS` (Unix seconds): a snooze
 * that has not ended, or inside the scheduled quiet hours it reports.
 */
export function inDoNotDisturb(
  answer: {
    dnd_enabled?: boolean;
    next_dnd_start_ts?: number;
    next_dnd_end_ts?: number;
    snooze_enabled?: boolean;
    snooze_endtime?: number;
  },
  nowS: number
): boolean {
  if (answer.snooze_enabled && (answer.snooze_endtime ?? Infinity) > nowS) return true;
  const start = answer.next_dnd_start_ts;
  const end = answer.next_dnd_end_ts;
  return !!answer.dnd_enabled && start !== undefined && end !== undefined && start <= nowS && nowS < end;
}

/**
 * The Slack client of a newcomer's first run (no SLACK_BOT_TOKEN): writes each message it would
 * send to the log as one line that reads like the message (title, state, who is called, repeats),
 * keeps it in `outbox` for the local preview when given, and answers with refs that are unique
 * but point at nothing, so that the alert lifecycle runs unchanged. It knows the names of `people`
 * only (the demo team's, DEMO_PEOPLE): nobody else can be looked up without Slack.
 */
export function createDryRunSlackApi(
  log: Logger,
  outbox?: DryRunOutbox,
  people: Readonly<Record<string, string>> = DEMO_PEOPLE
): SlackApi {
  const dryLog = log.child({ component: 'slack-dry-run' });
  // Slack-like `ts` values, unique within the process and unlikely to collide across restarts.
  let sequence = randomInt(0, 900_000);
  const nextTs = () => `${Math.floor(Date.now() / 1000)}.${String(sequence++ % 1_000_000).padStart(6, '0')}`;
  return {
    displayNameOf: (userId) => Promise.resolve(people[userId]),
    postMessage({ channel, text, blocks, threadTs }) {
      const ts = nextTs();
      outbox?.post({ channel, ts, threadTs, text, blocks });
      const where = isUserId(channel)
        ? `would send @${channel} a direct message`
        : threadTs
          ? `would reply in a thread in ${channel}`
          : `would post in ${channel}`;
      dryLog.info(
        { dryRun: true, method: 'chat.postMessage', channel, threadTs, ts, text },
        `Slack dry run: ${where}: ${messageToPlainText({ text, blocks })}`
      );
      dryLog.debug({ dryRun: true, method: 'chat.postMessage', channel, ts, blocks }, 'Slack dry run: message blocks');
      return Promise.resolve({ channel, ts });
    },
    updateMessage({ channel, ts, text, blocks }) {
      outbox?.update({ channel, ts }, { text, blocks });
      dryLog.info(
        { dryRun: true, method: 'chat.update', channel, ts, text },
        `Slack dry run: would update in ${channel}: ${messageToPlainText({ text, blocks })}`
      );
      dryLog.debug({ dryRun: true, method: 'chat.update', channel, ts, blocks }, 'Slack dry run: message blocks');
      return Promise.resolve();
    },
    updateUsergroupUsers({ usergroupId, users }) {
      dryLog.info(
        { dryRun: true, method: 'usergroups.users.update', usergroupId, users },
        `Slack dry run: would set user group ${usergroupId} to ${users.join(', ')}`
      );
      return Promise.resolve();
    },
  };
}

/** A user id as a channel is a direct message to that user (as chat.postMessage takes it). */
function isUserId(channel: string): boolean {
  return /^[UW][A-Z0-9]+$/.test(channel);
}

/**
 * The Slack client that the configuration asks for: the dry run while neither SLACK_BOT_TOKEN
 * nor SLACK_API_URL is set, the real client otherwise.
 */
export function createSlackApiFromConfig(
  config: Pick<Config, 'slack'>,
  log: Logger,
  dryRunOutbox?: DryRunOutbox
): SlackApi {
  if (config.slack.dryRun) {
    log.warn('SLACK_BOT_TOKEN is not set: Slack messages are written to this log instead of sent (dry run)');
    return createDryRunSlackApi(log, dryRunOutbox);
  }
  return createSlackApi({ token: config.slack.botToken, apiUrl: config.slack.apiUrl, log });
}

/** `@slack/web-api`'s logger interface over pino, so that its warnings land in our JSON log. */
function slackLogger(log: Logger): SlackLogger {
  let level = LogLevel.WARN;
  const enabled = (at: LogLevel) => ORDER.indexOf(at) >= ORDER.indexOf(level);
  return {
    debug: (...msg: unknown[]) => enabled(LogLevel.DEBUG) && log.debug(msg.map(String).join(' ')),
    info: (...msg: unknown[]) => enabled(LogLevel.INFO) && log.info(msg.map(String).join(' ')),
    warn: (...msg: unknown[]) => enabled(LogLevel.WARN) && log.warn(msg.map(String).join(' ')),
    error: (...msg: unknown[]) => enabled(LogLevel.ERROR) && log.error(msg.map(String).join(' ')),
    setLevel: (next: LogLevel) => (level = next),
    getLevel: () => level,
    setName: () => undefined,
  };
}

const ORDER = [LogLevel.DEBUG, LogLevel.INFO, LogLevel.WARN, LogLevel.ERROR];
