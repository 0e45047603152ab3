/**
 * Slack activities: each does one remote thing and is safe to run twice. Retrying is Temporal's
 * job (SLACK_ACTIVITY_OPTIONS); these only classify what went wrong (slack/errors.ts).
 *
 * chat.postMessage has no idempotency key, so a post is remembered in the `slack_messages` table
 * under the activity's identity (workflow id / run id / activity id, the same for every attempt):
 * an attempt that finds its post there returns it instead of posting again.
 */
import { ApplicationFailure } from '@temporalio/common';
import { SLACK_PACED_RATE_LIMITED } from '../domain/failures';
import type { AlertHolder, AlertView } from '../domain/alert';
import {
  renderAlertMessage,
  renderDirectMessage,
  renderThreadEnding,
  renderThreadNotification,
} from '../slack/alert-message';
import type { SlackApi, SlackMessageRef } from '../slack/client';
import { createPeopleNames } from '../slack/people-names';
import { SLACK_RATE_LIMITED } from '../slack/errors';
import { stopTakenSince } from '../intake/journal';
import { sqlPoolOf } from '../db/client';
import { activityKey, type ActivityDeps, callSlack, slackOfTeam } from './deps';
import { createChannelSlots, waitForSlot } from './slot';

/**
 * Given to an activity that pages someone (a mention or a DM): the last intake journal entry the
 * workflow has acted on. If a press or a resolution was taken after it, the activity pages nobody.
 */
export interface PageGuard {
  workflowId: string;
  seenReportId: number;
}

/** `stopped`: a press or resolution was taken meanwhile, and nobody was paged. */
export type PageOutcome = 'sent' | 'stopped';

export function createSlackActivities({ slack, db, log, slackForTeam, channelSpacer, peopleNames }: ActivityDeps) {
  /** The bot that speaks for the alert's team (OAuth mode: its workspace's installation). */
  const sql = sqlPoolOf(db);
  const { awaitUpdateTurn } = createChannelSlots(db);
  const slackOf = (view: AlertView) => slackOfTeam({ slack, slackForTeam }, view.team);
  const names = peopleNames ?? createPeopleNames({ log });

  /**
   * The view with the display names of everyone it shows by name (Slack's users.info, cached; see
   * people-names.ts). The one being called is mentioned, not named, and needs no lookup. Never
   * fails: whoever cannot be named is shown by id, and the message goes all the same.
   */
  async function withNames(view: AlertView, bot?: SlackApi): Promise<AlertView> {
    const calling = view.calling?.kind === 'engineer' ? view.calling.userId : undefined;
    const shown = [
      view.holder.kind === 'engineer' ? view.holder.userId : undefined,
      view.acknowledgedBy,
      view.endedByUserId,
      view.passedBy,
    ].filter((userId): userId is string => userId !== undefined && userId !== calling);
    if (shown.length === 0) return view;
    try {
      return { ...view, names: await names.namesOf(bot ?? (await slackOf(view)), shown) };
    } catch (error) {
      log.warn({ err: error }, 'display names could not be looked up: people are shown by id');
      return view;
    }
  }

  /** Checked right before the Slack call, so that nothing a person answered is followed by a page. */
  async function stopTaken(guard: PageGuard | undefined): Promise<boolean> {
    if (!guard) return false;
    const stopped = await stopTakenSince(db, guard.workflowId, guard.seenReportId);
    if (stopped) log.info({ workflowId: guard.workflowId }, 'a press or resolution came first: nobody paged');
    return stopped;
  }

  /**
   * A call made at its channel turn's slot (`notBefore` given) that Slack still refused with 429 is
   * handed back to the workflow, which takes a new turn (SLACK_PACED_RATE_LIMITED); any other call
   * is retried by Temporal after Retry-After.
   */
  async function pacedCall<T>(notBefore: number | undefined, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (notBefore === undefined || !(error instanceof ApplicationFailure) || error.type !== SLACK_RATE_LIMITED)
        throw error;
      throw ApplicationFailure.create({
        message: error.message,
        type: SLACK_PACED_RATE_LIMITED,
        nonRetryable: true,
        details: error.details ?? undefined,
      });
    }
  }

  /**
   * Posts at most once per activity: returns the stored ref when an earlier attempt already
   * posted; otherwise waits for the slot of a paced post, then, unless `standBack` says not to post
   * any more, runs `post` (all of its remote calls) and stores the result.
   */
  async function postOnce(
    post: () => Promise<SlackMessageRef>,
    standBack: () => Promise<boolean> = () => Promise.resolve(false),
    notBefore?: number
  ): Promise<SlackMessageRef | 'stopped'> {
    const key = activityKey();
    const earlier = await sql.query<SlackMessageRef>('SELECT channel, ts FROM slack_messages WHERE key = $1', [key]);
    if (earlier.rows[0]) return earlier.rows[0];
    await waitForSlot(notBefore);
    if (await standBack()) return 'stopped';
    const posted = await post();
    // If this write fails the attempt is retried and posts again: a rare duplicate beats a lost alert.
    await sql.query('INSERT INTO slack_messages (key, channel, ts) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING', [
      key,
      posted.channel,
      posted.ts,
    ]);
    return posted;
  }

  return {
    /**
     * Posts the alert to its team channel with the Acknowledge / Close / Pass buttons, at its turn's
     * slot (`notBefore`, epoch ms). With a guard (the post mentions whoever is called), stands back
     * for a press or resolution taken.
     */
    async postAlertMessage(
      view: AlertView,
      guard?: PageGuard,
      notBefore?: number
    ): Promise<SlackMessageRef | 'stopped'> {
      // Names are looked up before the slot is waited for: a post goes at its slot, not after a lookup.
      const message = renderAlertMessage(await withNames(view));
      return postOnce(
        () =>
          pacedCall(notBefore, () =>
            callSlack(log, 'chat.postMessage', async () => {
              const bot = await slackOf(view);
              // Only paced posts (with a slot) are spaced: thread calls and DMs never wait here.
              if (notBefore !== undefined) await channelSpacer?.take(view.team.slackChannelId);
              return bot.postMessage({ channel: view.team.slackChannelId, ...message });
            })
          ),
        () => stopTaken(guard),
        notBefore
      );
    },

    /** Rewrites the alert message to show the current state (chat.update, idempotent by nature). */
    async updateAlertMessage({ message, view }: { message: SlackMessageRef; view: AlertView }): Promise<void> {
      const bot = await callSlack(log, 'chat.update', () => slackOf(view));
      const rendered = renderAlertMessage(await withNames(view, bot));
      await awaitUpdateTurn(view.team.installationId);
      await callSlack(log, 'chat.update', () => bot.updateMessage({ ...message, ...rendered }));
    },

    /** Calls an engineer (`<@U…>`) or the whole team (`<!channel>`) in the alert's thread, at its turn's slot. */
    async notifyInThread({
      message,
      view,
      calling,
      guard,
      notBefore,
    }: {
      message: SlackMessageRef;
      view: AlertView;
      calling: AlertHolder;
      guard?: PageGuard;
      notBefore?: number;
    }): Promise<PageOutcome> {
      const notification = renderThreadNotification(view, calling);
      const posted = await postOnce(
        () =>
          pacedCall(notBefore, () =>
            callSlack(log, 'chat.postMessage', async () =>
              (await slackOf(view)).postMessage({ channel: message.channel, threadTs: message.ts, ...notification })
            )
          ),
        () => stopTaken(guard),
        notBefore
      );
      return posted === 'stopped' ? 'stopped' : 'sent';
    },

    /**
     * Sends the engineer being called a direct message about the alert. Returns where it landed
     * (the DM channel), so that it can be rewritten once the alert moves on.
     */
    async sendDirectMessage({
      userId,
      view,
      guard,
    }: {
      userId: string;
      view: AlertView;
      message?: SlackMessageRef;
      guard?: PageGuard;
    }): Promise<SlackMessageRef | 'stopped'> {
      const directMessage = renderDirectMessage(view);
      // A user id as the channel posts to the bot's direct messages with that user: one call,
      // and no conversations.open (nor its im:write scope) first.
      return postOnce(
        () =>
          callSlack(log, 'chat.postMessage', async () =>
            (await slackOf(view)).postMessage({ channel: userId, ...directMessage })
          ),
        () => stopTaken(guard)
      );
    },

    /**
     * Rewrites a direct message sent to `userId` to show what became of the alert (acknowledged,
     * passed on, closed, resolved: by whom). chat.update, Tier 3 like the alert message's rewrites.
     */
    async updateDirectMessage({
      message,
      userId,
      view,
    }: {
      message: SlackMessageRef;
      userId: string;
      view: AlertView;
    }): Promise<void> {
      const bot = await callSlack(log, 'chat.update', () => slackOf(view));
      const rendered = renderDirectMessage(await withNames(view, bot), userId);
      await awaitUpdateTurn(view.team.installationId);
      await callSlack(log, 'chat.update', () => bot.updateMessage({ ...message, ...rendered }));
    },

    /** One line in the alert's thread when it is closed or resolved, at its turn's slot; pings nobody. */
    async noteEndInThread({
      message,
      view,
      notBefore,
    }: {
      message: SlackMessageRef;
      view: AlertView;
      notBefore?: number;
    }): Promise<void> {
      const bot = await callSlack(log, 'chat.postMessage', () => slackOf(view));
      const line = renderThreadEnding(await withNames(view, bot));
      await postOnce(
        () =>
          pacedCall(notBefore, () =>
            callSlack(log, 'chat.postMessage', () =>
              bot.postMessage({ channel: message.channel, threadTs: message.ts, ...line })
            )
          ),
        undefined,
        notBefore
      );
    },
  };
}
