/**
 * Slack's pace per channel (and per workspace for rewrites), on the activities' side: the shared
 * bucket in PostgreSQL (`take_channel_slot`, migration 20261205000000_channel_pace) that every worker
 * takes its slots from, and the wait for a slot inside the activity that makes the Slack call.
 * The channel's pacer workflow (workflows/channel-workflow.ts) orders the posts it holds.
 */
import { Context } from '@temporalio/activity';
import { sqlPoolOf, type Database } from '../db/client';
import { DEFAULT_CHANNEL_PACE, type ChannelPace } from '../domain/channel-pace';

/**
 * A slot never lies further ahead than this: the pacer grants at most a few seconds ahead, so a
 * longer wait means clocks that disagree, and the call goes rather than hang its activity.
 */
export const MAX_SLOT_WAIT_MS = 5_000;

/** Waits until `notBefore` (epoch ms), if given and still ahead; cut short when the activity is cancelled. */
export async function waitForSlot(notBefore: number | undefined): Promise<void> {
  if (notBefore === undefined) return;
  const ms = Math.min(notBefore - Date.now(), MAX_SLOT_WAIT_MS);
  if (ms > 0) await Context.current().sleep(ms);
}

/** A slot asked of the channel's shared bucket (`take_channel_slot`, migration 20261205000000_channel_pace). */
export interface ChannelSlotAsk {
  channelId: string;
  kind: 'call' | 'post';
  /** A slot further ahead than this (ms) is not taken. */
  horizonMs: number;
  /**
   * `alert`: a post asks only while the pacer holds no posts (one refused makes it hold them);
   * `pacer`: the pacer, for a post it holds; `direct`: a slot and nothing else.
   */
  asker: 'alert' | 'pacer' | 'direct';
  /** Slack answered 429: nothing goes into the channel before this (epoch ms). */
  pauseUntil?: number;
  /** A call booked ahead: its slot is not before this (epoch ms). */
  notBefore?: number;
  pace?: Pick<ChannelPace, 'postsPerSecond' | 'burst' | 'reservedForCalls'>;
}

/** The slot (epoch ms) and whether it was taken; one not taken says when one would come. */
export interface ChannelSlot {
  slot: number;
  taken: boolean;
}

/**
 * Rewrites (chat.update) per workspace, kept under Slack's Tier 3 (50 a minute, short bursts):
 * 48 a minute, 8 at once.
 */
const WORKSPACE_UPDATE_PACE = { postsPerSecond: 0.8, burst: 8, reservedForCalls: 0 };
/** A rewrite waits this long for its turn at most (awaitUpdateTurn). */
const MAX_UPDATE_WAIT_MS = 1_000;

/**
 * The channel's shared bucket (`take_channel_slot`, migration 20261205000000_channel_pace): a slot
 * is one statement under the channel's row lock, whichever worker asks.
 */
export function createChannelSlots(db: Database) {
  /** The next slot of a call or post (the pacer's too, as a local activity), if one comes within the horizon. */
  const takeChannelSlot = async (ask: ChannelSlotAsk): Promise<ChannelSlot> => {
    const pace = ask.pace ?? DEFAULT_CHANNEL_PACE;
    const { rows } = await sqlPoolOf(db).query<{ slot: number; taken: boolean }>(
      'SELECT slot, taken FROM take_channel_slot($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)',
      [
        ask.channelId,
        ask.kind,
        Date.now(),
        ask.horizonMs,
        pace.postsPerSecond,
        pace.burst,
        pace.reservedForCalls,
        ask.asker,
        ask.pauseUntil ?? null,
        ask.notBefore ?? null,
      ]
    );
    const [row] = rows as [{ slot: number; taken: boolean }];
    return { slot: Math.ceil(row.slot), taken: row.taken };
  };

  /** The pacer holds no posts any more: new posts take their slot at once again. */
  const releaseChannelPosts = async ({ channelId }: { channelId: string }): Promise<void> => {
    await sqlPoolOf(db).query('UPDATE slack_channel_pace SET pacer_queued = false WHERE channel_id = $1', [channelId]);
  };

  /**
   * Waits for a turn of the workspace's chat.update allowance (Slack: Tier 3, about 50 a minute per
   * workspace, shared by every channel's rewrites and storm digests), a second at most: the wait
   * holds its workflow task open (a local activity), and a rewrite is the least urgent of an alert's
   * calls. Past that it goes, and a 429 is retried after its Retry-After.
   */
  const awaitUpdateTurn = async (installationId: string | undefined): Promise<void> => {
    const { slot } = await takeChannelSlot({
      channelId: `updates/${installationId ?? 'default'}`,
      kind: 'post',
      horizonMs: MAX_UPDATE_WAIT_MS,
      asker: 'direct',
      pace: WORKSPACE_UPDATE_PACE,
    });
    await waitForSlot(Math.min(slot, Date.now() + MAX_UPDATE_WAIT_MS));
  };

  return { takeChannelSlot, releaseChannelPosts, awaitUpdateTurn };
}
