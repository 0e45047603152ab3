/**
 * Events API deliveries already taken, by `event_id`, so that a redelivery (`X-Slack-Retry-Num`)
 * or a second delivery of the same event acts once. Slack redelivers within minutes (three
 * retries, the last about five minutes after the first attempt), so a receipt is kept a day and
 * pruned along the way: at most once an hour per gateway, behind an answer, with no timer of its own.
 */
import type { Database } from '../../db/client';

/** Receipts older than this are pruned: far beyond Slack's last retry. */
export const KEEP_EVENT_RECEIPTS_MS = 24 * 3_600_000;
const PRUNE_EVERY_MS = 3_600_000;

export interface EventReceipts {
  /** Records the event id; false when it was already taken (a redelivery). */
  take(eventId: string): Promise<boolean>;
  /** Deletes receipts older than a day, if the last pruning is an hour old; returns how many. */
  pruneIfDue(): Promise<number>;
}

export function createEventReceipts({ db, clock = Date.now }: { db: Database; clock?: () => number }): EventReceipts {
  let lastPrunedAt = Number.NEGATIVE_INFINITY;
  return {
    async take(eventId) {
      const { count } = await db.slackEventReceipt.createMany({
        data: [{ eventId, receivedAt: new Date(clock()) }],
        skipDuplicates: true,
      });
      return count > 0;
    },
    async pruneIfDue() {
      const now = clock();
      if (now - lastPrunedAt < PRUNE_EVERY_MS) return 0;
      lastPrunedAt = now;
      const { count } = await db.slackEventReceipt.deleteMany({
        where: { receivedAt: { lt: new Date(now - KEEP_EVENT_RECEIPTS_MS) } },
      });
      return count;
    },
  };
}
