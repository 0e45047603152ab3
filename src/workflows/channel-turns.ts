/**
 * The alert workflow's side of channel pacing (channel-workflow.ts): before each chat.postMessage
 * into the team channel (the alert message, a call in its thread) it asks the channel's pacer for a
 * turn and waits for it, unless the alert no longer needs it (it ended, or someone answered first),
 * in which case the turn is withdrawn: an alert that ended while it waited is never posted as
 * firing. Direct messages and message rewrites go to other conversations or another limit and take
 * no turn. A turn is a slot: the Slack call is made with `notBefore` and waits for it. A thread
 * call, and a post into a channel whose pacer holds no posts, get their slot in the request's
 * answer, with no round trip through the pacer.
 */
import {
  condition,
  getExternalWorkflowHandle,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { patchedSince } from './patches';
import type { ChannelActivities } from '../activities';
import type { Severity } from '../domain/alert';
import { CHANNEL_TURN_ACTIVITY_OPTIONS, CHANNEL_TURN_LOCAL_ACTIVITY_OPTIONS } from './activity-options';
import {
  channelQueuePositionSignal,
  channelTurnDoneSignal,
  channelTurnSignal,
  channelWorkflowId,
  type ChannelTurnKind,
  type ChannelTurnWithdrawal,
} from './definitions';

const pacer = proxyActivities<ChannelActivities>(CHANNEL_TURN_ACTIVITY_OPTIONS);
const localPacer = proxyLocalActivities<ChannelActivities>(CHANNEL_TURN_LOCAL_ACTIVITY_OPTIONS);

/**
 * The turn request runs as a local activity (in the workflow task that wants the turn): as a
 * normal activity it waited in the task queue behind a storm's other work, seconds on a loaded
 * worker, before the pacer even knew of the request, so that a critical alert could be queued
 * after less severe ones, and an escalation's call waited that long for its turn. Runs that asked
 * before it replay their activity.
 */
const LOCAL_REQUEST_PATCH = 'channel-turn-local-request';
/** Alerts whose post was withdrawn outright when they ended while waiting replay without waiting. */
const ENDED_POST_WAITS_PATCH = 'ended-post-waits-for-pacer';
/** The pacer answers a waiting ended post within moments; past this, the post goes ahead. */
const ENDED_POST_ANSWER_TIMEOUT = '1 minute';

/**
 * Turns from pacers with slots need no done signal (the slot paces the call). Runs that took turns
 * before it replay with their done signals.
 */
const SLOTS_PATCH = 'channel-slots';

export interface TurnWanted {
  kind: ChannelTurnKind;
  severity: Severity;
  title: string;
  /**
   * Checked while waiting: a value means the turn is no longer wanted (`{}` for a call someone
   * answered, `{ state }` for an alert that ended before its post).
   */
  unwanted: () => Omit<ChannelTurnWithdrawal, 'requestId'> | undefined;
  /** The alert had already ended when it asked (see ChannelTurnRequest.ended). */
  ended?: 'closed' | 'resolved';
  /** Told how many turns are queued ahead, when the pacer says so (for the Web UI's current details). */
  onQueued?: (ahead: number) => void;
  /** Asked again after Slack refused the call at its slot: how long Slack asked to wait (ms). */
  retryAfterMs?: number;
  /** A call booked ahead: its slot is not before this (epoch ms). */
  notBefore?: number;
}

/** What `take` resolved with: the turn came (with its slot), or it is not to be used. */
export interface Turn {
  came: boolean;
  /** The slot (epoch ms) to hand to the Slack activity; unset: now. */
  notBefore?: number;
}

export interface ChannelTurns {
  /**
   * Tells the pacer that the Slack call of the turn that came is over, so that the next one may
   * go. Taking the next turn does it too; a turn never reported is counted over after a while.
   */
  done(): Promise<void>;
  /**
   * Resolves `true` when the turn came (post now, rendering the alert as it is now), `false` when
   * it was withdrawn as unwanted.
   */
  take(wanted: TurnWanted): Promise<boolean>;
  /** The slot of the turn that came last (epoch ms), for the Slack activity; unset: now. */
  readonly notBefore: number | undefined;
  /**
   * A slot (epoch ms) for a post that may be left out, only if the channel has one free at once
   * (takeSpareChannelSlot): no turn, no queue, never one of the turns kept back for calls.
   */
  spareSlot(): Promise<number | undefined>;
}

/**
 * Turn-taking for one alert workflow in `channelId`. Sets the grant signal's handler: call it once,
 * at the start of the workflow.
 */
export function channelTurns({
  channelId,
  alertId,
  installationId,
}: {
  channelId: string;
  alertId: string;
  installationId?: string;
}): ChannelTurns {
  const granted = new Map<string, number | undefined>();
  const declined = new Set<string>();
  const places = new Map<string, number>();
  setHandler(channelTurnSignal, ({ requestId, declined: no, notBefore }) => {
    if (no) declined.add(requestId);
    else granted.set(requestId, notBefore);
  });
  setHandler(channelQueuePositionSignal, ({ requestId, ahead }) => void places.set(requestId, ahead));
  let requests = 0;
  /** The turn that came and whose call is not reported over yet. */
  let held: string | undefined;
  let notBefore: number | undefined;

  async function done(): Promise<void> {
    if (!held) return;
    const requestId = held;
    held = undefined;
    if (patchedSince(SLOTS_PATCH)) return;
    try {
      await getExternalWorkflowHandle(channelWorkflowId(channelId)).signal(channelTurnDoneSignal, { requestId });
    } catch {
      // The pacer ended since: it holds no turn of ours any more.
    }
  }

  return {
    done,
    get notBefore() {
      return notBefore;
    },
    spareSlot: () => localPacer.takeSpareChannelSlot({ channelId }),
    async take({ kind, severity, title, unwanted, onQueued, ended, retryAfterMs, notBefore: bookedFor }) {
      await done();
      notBefore = undefined;
      const { workflowId, runId } = workflowInfo();
      requests += 1;
      const requestId = `${workflowId}/${runId}/${kind}-${requests}`;
      const request = patchedSince(LOCAL_REQUEST_PATCH) ? localPacer.requestChannelTurn : pacer.requestChannelTurn;
      const ask = () =>
        request({
          channelId,
          requestId,
          workflowId,
          alertId,
          kind,
          severity,
          title,
          requestedAt: new Date().toISOString(),
          ended,
          installationId,
          retryAfterMs,
          notBefore: bookedFor,
        });
      let answer = await ask();
      // A call whose slot lies beyond what its activity waits (after Slack's Retry-After): asked
      // again near its slot, unless it is not wanted any more by then.
      while (answer.askAgainAt !== undefined) {
        const waitMs = answer.askAgainAt - Date.now();
        if (waitMs > 0 && (await condition(() => unwanted() !== undefined, waitMs))) return false;
        answer = await ask();
      }
      const { ahead, turn } = answer;
      if (answer.declined) return false;
      // Taken from the channel's bucket at once (a call, or a post in a quiet channel).
      if (turn) granted.set(requestId, turn.notBefore);
      if (ahead !== undefined && ahead > 0 && !granted.has(requestId)) onQueued?.(ahead);
      const answered = () => granted.has(requestId) || declined.has(requestId) || unwanted() !== undefined;
      // The pacer tells a post that has to wait its place (once); shown while it waits on.
      while (!answered()) {
        await condition(() => answered() || places.has(requestId));
        const place = places.get(requestId);
        places.delete(requestId);
        if (place !== undefined && place > 0 && !answered()) onQueued?.(place);
      }
      if (declined.delete(requestId)) return false;
      const withdrawal = unwanted();
      const came = granted.has(requestId);
      if (came) {
        held = requestId;
        notBefore = granted.get(requestId);
        granted.delete(requestId);
      }
      if (!withdrawal) return came;
      // A call nobody needs any more is never made. A post whose turn came just as its alert ended
      // uses the turn (the pacer no longer holds it to list in the digest): the caller posts the
      // alert as it is now, ended, never as firing.
      if (came && kind === 'post') return true;
      if (came) await done();
      const waits = kind === 'post' && withdrawal.state !== undefined && patchedSince(ENDED_POST_WAITS_PATCH);
      const withdrawn = await pacer.withdrawChannelTurn({
        channelId,
        requestId,
        ...withdrawal,
        ...(waits ? { waits } : {}),
      });
      // The queue answers at once: listed in the storm digest, or posted at its turn in its final state.
      if (withdrawn?.declined) return false;
      if (!waits) return false;
      // The pacer gives it its turn (older runs: or declines it by signal). Should neither come,
      // it is posted rather than lost.
      await condition(() => granted.has(requestId) || declined.has(requestId), ENDED_POST_ANSWER_TIMEOUT);
      if (declined.delete(requestId)) return false;
      if (granted.has(requestId)) {
        held = requestId;
        notBefore = granted.get(requestId);
        granted.delete(requestId);
      }
      return true;
    },
  };
}
