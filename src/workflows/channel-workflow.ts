/**
 * The pacer of one Slack channel (`channel/<channelId>`): hands the channel's waiting alert
 * messages their turns at Slack's pace (about one per second), critical first, then error, warning,
 * info, then arrival, and carries a storm with one digest message kept up to date.
 *
 * The queue is not here: it is rows in PostgreSQL (activities/channel-queue.ts), which alerts join
 * on their own. This workflow runs rounds (a local activity each: grant what the bucket allows now),
 * tells each granted alert by signal, and sleeps until the next slot. Its state is a few numbers and
 * the digest's reference, whatever the storm's size; it receives one wake signal per storm, sends
 * at most a round's grants at a time, and continues as new with that small state. docs/storm.md
 * says which of Temporal's limits this keeps clear of, and why.
 */
import {
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { ChannelActivities } from '../activities';
import { DEFAULT_CHANNEL_PACE, type ChannelPace } from '../domain/channel-pace';
import type { SlackMessageRef } from '../slack/client';
import {
  CHANNEL_ROUND_LOCAL_ACTIVITY_OPTIONS,
  CHANNEL_TURN_LOCAL_ACTIVITY_OPTIONS,
  DIGEST_ACTIVITY_OPTIONS,
} from './activity-options';
import type { ChannelPacerStart } from '../domain/channel-pacing';
import { channelTurnSignal, channelWakeSignal } from './definitions';

const digest = proxyActivities<ChannelActivities>(DIGEST_ACTIVITY_OPTIONS);
const rounds = proxyLocalActivities<ChannelActivities>(CHANNEL_ROUND_LOCAL_ACTIVITY_OPTIONS);
const bucket = proxyLocalActivities<ChannelActivities>(CHANNEL_TURN_LOCAL_ACTIVITY_OPTIONS);

export { DEFAULT_CHANNEL_PACE, type ChannelPace } from '../domain/channel-pace';

/** A run whose history is long waits for the digest being written, then continues as new. */
const DIGEST_BEFORE_CONTINUE_PATCH = 'digest-before-continue';
const DIGEST_WAIT_BEFORE_CONTINUE = '5 seconds';

/** Well under Temporal's 10,240-event warning: a busy storm continues as new every few minutes. */
export const DEFAULT_CHANNEL_MAX_HISTORY_EVENTS = 3_000;

/** A storm the pacer carries: when it began (epoch ms) and its digest. */
interface Storm {
  since: number;
  digest?: SlackMessageRef;
  /** When the digest was last posted or rewritten (workflow time, ms). */
  digestWrittenAt?: number;
}

/** Everything the pacer carries across continue-as-new: a few numbers, whatever waits. */
export interface ChannelState {
  storm?: Storm;
  /** The workspace installation of the channel's team (OAuth mode): the digest is written by its bot. */
  installationId?: string;
  /** When there was last something to do (workflow time, ms). */
  lastBusyAt: number;
}

export interface ChannelWorkflowInput extends ChannelPacerStart {
  installationId?: string;
  maxHistoryEvents?: number;
  /** Present after continue-as-new. */
  carried?: ChannelState;
}

export async function channelWorkflow(input: ChannelWorkflowInput): Promise<void> {
  const { channelId } = input;
  const pace: ChannelPace = { ...DEFAULT_CHANNEL_PACE, ...input.pace };
  const maxHistoryEvents = input.maxHistoryEvents ?? DEFAULT_CHANNEL_MAX_HISTORY_EVENTS;
  // Initialised before any handler is set: on signal-with-start, handlers run before this body.
  const state: ChannelState = input.carried ?? { installationId: input.installationId, lastBusyAt: Date.now() };
  let woken = false;
  let roundNumber = 0;
  let digestWriting: Promise<void> | undefined;
  /** The channel was let go since the queue last emptied. */
  let released = false;
  setHandler(channelWakeSignal, () => {
    woken = true;
  });

  const team = () => ({ slackChannelId: channelId, installationId: state.installationId });

  /** Tells each granted alert its turn; awaited, so that no more than a round's signals are ever pending. */
  async function tellGranted(grants: Array<{ requestId: string; workflowId: string; slot: number }>): Promise<void> {
    await Promise.all(
      grants.map(
        (grant) =>
          getExternalWorkflowHandle(grant.workflowId)
            .signal(channelTurnSignal, { requestId: grant.requestId, notBefore: grant.slot })
            .catch(() => undefined) // the alert ended meanwhile: it has nothing left to post
      )
    );
  }

  /** Posts the digest at a slot of its own, or rewrites it in place; in the background, so that grants keep flowing. */
  function writeDigest(storm: Storm, now: number, endedAt?: string): void {
    storm.digestWrittenAt = now;
    digestWriting = (async () => {
      try {
        if (storm.digest) {
          await digest.updateChannelDigest({ message: storm.digest, team: team(), since: storm.since, endedAt });
        } else {
          const { slot, taken } = await bucket.takeChannelSlot({
            channelId,
            kind: 'post',
            horizonMs: 5_000,
            asker: 'direct',
            pace,
          });
          storm.digest = await digest.postChannelDigest({
            team: team(),
            since: storm.since,
            notBefore: taken ? slot : undefined,
          });
        }
      } catch (error) {
        log.warn('Storm digest not written', { channelId, error: String(error) });
      } finally {
        digestWriting = undefined;
        woken = true;
      }
    })();
  }

  /** Ends the storm: the digest says so, for the last time. */
  async function endStorm(storm: Storm): Promise<void> {
    await digestWriting;
    state.storm = undefined;
    log.info('Storm over', { channelId });
    try {
      if (storm.digest) {
        await digest.updateChannelDigest({
          message: storm.digest,
          team: team(),
          since: storm.since,
          endedAt: new Date().toISOString(),
        });
      } else {
        await digest.endChannelStorm({ channelId });
      }
    } catch (error) {
      log.warn('Final storm digest not written', { channelId, error: String(error) });
    }
  }

  for (;;) {
    woken = false;
    const now = Date.now();
    const { workflowId, runId } = workflowInfo();
    roundNumber += 1;
    const round = await rounds.grantChannelPosts({ channelId, round: `${workflowId}/${runId}/${roundNumber}`, pace });
    await tellGranted(round.grants);
    if (round.grants.length > 0 || round.waiting > 0) state.lastBusyAt = now;

    if (round.stormSince !== undefined && state.storm?.since !== round.stormSince) {
      state.storm = { since: round.stormSince };
      log.info('Storm', { channelId, waiting: round.waiting });
    }
    const storm = state.storm;
    const quietFor = now - Math.max(round.lastRequestAt ?? 0, state.lastBusyAt);
    if (storm && !digestWriting) {
      if (round.waiting === 0 && quietFor >= pace.stormOverAfterMs) await endStorm(storm);
      else if (!storm.digest || now - (storm.digestWrittenAt ?? 0) >= pace.digestIntervalMs) writeDigest(storm, now);
    }
    setCurrentDetails(
      `${round.waiting} alert messages waiting` +
        (state.storm ? ` · **storm** since ${new Date(state.storm.since).toISOString().slice(11, 19)} UTC` : '')
    );

    if (round.waiting === 0 && !state.storm && !digestWriting) {
      // Let the channel go as soon as nothing waits (checked under the channel's lock): posts take
      // their slot at once again, and one that has to queue wakes this pacer, or a new one.
      if (!released) released = await rounds.releaseChannelPosts({ channelId });
      if (released && now - state.lastBusyAt >= pace.idleExitMs) return;
    } else {
      released = false;
    }
    const info = workflowInfo();
    if (info.historyLength > maxHistoryEvents || info.continueAsNewSuggested) {
      // A digest being written is waited for (a few seconds at most: posts wait meanwhile), then
      // the run continues as new: rounds made meanwhile (a slow digest on a loaded machine) grew one
      // run's history well past its bound. Runs that went on with rounds replay so.
      if (digestWriting && patched(DIGEST_BEFORE_CONTINUE_PATCH)) {
        await condition(() => digestWriting === undefined, DIGEST_WAIT_BEFORE_CONTINUE);
      }
      if (!digestWriting) await continueAsNew<typeof channelWorkflow>({ ...input, carried: state });
    }

    const due = [state.lastBusyAt + pace.idleExitMs];
    if (round.nextSlotAt !== undefined) due.push(round.nextSlotAt - pace.grantAheadMs);
    // A full round: the bucket may give more at once. Posts wait with no slot refused: look again soon.
    else if (round.grants.length > 0) due.push(now);
    else if (round.waiting > 0) due.push(now + 100);
    if (state.storm) due.push(now + Math.min(pace.digestIntervalMs, pace.stormOverAfterMs));
    const waitMs = Math.max(Math.ceil(Math.min(...due) - now), 1);
    await condition(() => woken, waitMs);
  }
}
