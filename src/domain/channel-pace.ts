/**
 * How a Slack channel's allowance is spent (Slack: about one chat.postMessage per second per
 * channel, short bursts allowed): by the channel's pacer workflow (workflows/channel-workflow.ts)
 * and by the slots taken in PostgreSQL (`take_channel_slot`, activities/channel-activities.ts),
 * which share one bucket per channel. No Node or Temporal imports: the workflow bundle uses it.
 */
/** How the pacer spends the channel's allowance. */
export interface ChannelPace {
  /** Turns per second, sustained (Slack: about one chat.postMessage per second per channel). */
  postsPerSecond: number;
  /** Turns that may go at once after a quiet spell; kept under Slack's own burst for jitter. */
  burst: number;
  /** Turns kept back for thread calls: a new alert message never takes the last one. */
  reservedForCalls: number;
  /** More alert messages waiting for the channel than this is a storm: the digest appears (STORM_THRESHOLD). */
  stormThreshold: number;
  /** The digest is rewritten at most this often (chat.update is Tier 3: ~50 a minute per workspace). */
  digestIntervalMs: number;
  /** The storm is over once nothing has waited and nothing new came for this long. */
  stormOverAfterMs: number;
  /**
   * How far ahead of its slot a turn is granted. A grant takes a workflow task and an activity to
   * become a Slack call; the activity waits for the slot, so the calls keep the pace. The pace holds
   * without it (grants come every second however long each takes to reach Slack): it only makes up
   * for that delay, and is kept short because a post granted ahead cannot be overtaken by a more
   * severe alert that arrives after it (in a loaded storm, 2 s put posts out of order).
   */
  grantAheadMs: number;
  /** The pacer ends after this long with nothing to do; the next post that has to queue starts it again. */
  idleExitMs: number;
}

export const DEFAULT_CHANNEL_PACE: ChannelPace = {
  postsPerSecond: 1,
  burst: 3,
  reservedForCalls: 1,
  stormThreshold: 10,
  grantAheadMs: 500,
  digestIntervalMs: 5_000,
  stormOverAfterMs: 15_000,
  idleExitMs: 60_000,
};
