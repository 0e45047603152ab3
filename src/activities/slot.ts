/**
 * Waiting for a channel turn's slot inside the activity that makes the Slack call (the channel
 * pacer hands out turns a little ahead of their time: workflows/channel-workflow.ts).
 */
import { Context } from '@temporalio/activity';

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
