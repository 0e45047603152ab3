/**
 * The channel pacer's contract (workflows/channel-workflow.ts, docs/storm.md) with the alerts that
 * ask it for turns (workflows/channel-turns.ts) and the activities that wake it
 * (activities/channel-activities.ts): here, below both, so that activities never import workflows.
 * No Node or Temporal imports: the workflow bundle uses it.
 */
import type { AlertContent } from './alert';
import type { ChannelPace } from './channel-pace';

export const CHANNEL_WORKFLOW_TYPE = 'channelWorkflow';

/** The pacer of one channel: `channel/<channelId>`. */
export function channelWorkflowId(channelId: string): string {
  return `channel/${channelId}`;
}

/**
 * What a turn is for. A `call` (a mention in an alert's thread) goes before every `post` (a new
 * alert message): nobody's page waits behind other alerts' posts.
 */
export type ChannelTurnKind = 'call' | 'post';

/** An alert workflow asks for one chat.postMessage in the channel. */
export interface ChannelTurnRequest {
  /** Unique per turn (alert workflow id + step): a request signalled twice queues once. */
  requestId: string;
  /** The alert workflow that `channelTurnSignal` goes to when its turn comes. */
  workflowId: string;
  alertId: string;
  kind: ChannelTurnKind;
  severity: AlertContent['severity'];
  title: string;
  requestedAt: string;
  /**
   * The alert had ended before it asked to be posted: in a storm the pacer lists it in the digest
   * and declines the turn; otherwise it is posted in its final state.
   */
  ended?: 'closed' | 'resolved';
  /** The team's workspace installation (OAuth mode), so that the pacer's digest is written by its bot. */
  installationId?: string;
  /**
   * A turn asked again because Slack answered the call 429 all the same: the channel takes nothing
   * more until Slack's Retry-After (ms) is over.
   */
  retryAfterMs?: number;
  /** A call booked ahead of its escalation step's time: its slot is not before this (epoch ms). */
  notBefore?: number;
}

/**
 * The turn is no longer wanted: the alert ended (closed, resolved) before its post, which leaves
 * the queue and is listed in the digest instead; or someone answered before a thread call (no state).
 */
export interface ChannelTurnWithdrawal {
  requestId: string;
  state?: 'closed' | 'resolved';
  /**
   * A post whose alert ended while it waited stays queued and waits for the pacer's answer: a
   * decline in a storm (it is listed in the digest), or its turn in a quiet channel (it is
   * posted in its final state). Without this, a turn granted as the alert withdrew was neither.
   */
  waits?: boolean;
}

/** The wake signal's name (workflows/definitions.ts defines the signal over it). */
export const CHANNEL_WAKE_SIGNAL = 'channelWake';

/** How a pacer is started: its channel and, where it differs from the default, its pace. */
export interface ChannelPacerStart {
  channelId: string;
  pace?: Partial<ChannelPace>;
}
