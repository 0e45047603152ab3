/**
 * The alert workflow's side of channel pacing (channel-workflow.ts): before each chat.postMessage
 * into the team channel (the alert message, a call in its thread) it asks the channel's pacer for a
 * turn and waits for it, unless the alert no longer needs it (it ended, or someone answered first),
 * in which case the turn is withdrawn: an alert that ended while it waited is never posted as
 * firing. Direct messages and message rewrites go to other conversations or another limit and take
 * no turn.
 */
import { condition, getExternalWorkflowHandle, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { ChannelActivities } from '../activities';
import type { Severity } from '../domain/alert';
import { CHANNEL_TURN_ACTIVITY_OPTIONS } from './activity-options';
import {
  channelTurnDoneSignal,
  channelTurnSignal,
  channelWorkflowId,
  type ChannelTurnKind,
  type ChannelTurnWithdrawal,
} from './definitions';

const pacer = proxyActivities<ChannelActivities>(CHANNEL_TURN_ACTIVITY_OPTIONS);

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
}

/**
 * Turn-taking for one alert workflow in `channelId`. Sets the grant signal's handler: call it once,
 * at the start of the workflow.
 */
export function channelTurns({ channelId, alertId }: { channelId: string; alertId: string }): ChannelTurns {
  const granted = new Set<string>();
  const declined = new Set<string>();
  setHandler(channelTurnSignal, ({ requestId, declined: no }) => void (no ? declined : granted).add(requestId));
  let requests = 0;
  /** The turn that came and whose call is not reported over yet. */
  let held: string | undefined;

  async function done(): Promise<void> {
    if (!held) return;
    const requestId = held;
    held = undefined;
    try {
      await getExternalWorkflowHandle(channelWorkflowId(channelId)).signal(channelTurnDoneSignal, { requestId });
    } catch {
      // The pacer ended since: it holds no turn of ours any more.
    }
  }

  return {
    done,
    async take({ kind, severity, title, unwanted, onQueued, ended }) {
      await done();
      const { workflowId, runId } = workflowInfo();
      requests += 1;
      const requestId = `${workflowId}/${runId}/${kind}-${requests}`;
      const { ahead } = await pacer.requestChannelTurn({
        channelId,
        requestId,
        workflowId,
        alertId,
        kind,
        severity,
        title,
        requestedAt: new Date().toISOString(),
        ended,
      });
      if (ahead !== undefined && ahead > 0 && !granted.has(requestId)) onQueued?.(ahead);
      await condition(() => granted.has(requestId) || declined.has(requestId) || unwanted() !== undefined);
      if (declined.delete(requestId)) return false;
      const withdrawal = unwanted();
      const came = granted.delete(requestId);
      if (came) held = requestId;
      if (!withdrawal) return came;
      // A call nobody needs any more is never made. A post whose turn came just as its alert ended
      // uses the turn (the pacer no longer holds it to list in the digest): the caller posts the
      // alert as it is now, ended, never as firing.
      if (came && kind === 'post') return true;
      if (came) await done();
      await pacer.withdrawChannelTurn({ channelId, requestId, ...withdrawal });
      return false;
    },
  };
}
