/**
 * The last guard of a channel's pace inside one worker process. The channel pacer
 * (workflows/channel-workflow.ts) gives every post a slot a second apart, across all workers; but
 * on a loaded worker, activities whose slots lay seconds apart can start together, late, and reach
 * Slack as one burst, met by 429s whose retries meet the next slots. This spaces such a cluster
 * out again: posts into one channel leave this process at most one per second.
 */
import { RateLimiterMemory, RateLimiterQueue } from 'rate-limiter-flexible';

/** Slack's pace for chat.postMessage: about one per second per channel. */
const POSTS_PER_SECOND = 1;
/**
 * Posts held back per channel at most. A longer queue means the worker is far behind its slots;
 * the wait would then outlast the activity's timeout, so the post goes at once instead (the pacer
 * and Slack's short burst absorb it, a 429 is retried after its Retry-After).
 */
const MAX_HELD_PER_CHANNEL = 4;

export interface ChannelSpacer {
  /** Resolves when a post into `channel` may leave this process. */
  take(channel: string): Promise<void>;
}

export function createChannelSpacer(): ChannelSpacer {
  const queue = new RateLimiterQueue(new RateLimiterMemory({ points: POSTS_PER_SECOND, duration: 1 }), {
    maxQueueSize: MAX_HELD_PER_CHANNEL,
  });
  return {
    async take(channel) {
      try {
        await queue.removeTokens(1, channel);
      } catch {
        // Queue full: far behind; go now (see MAX_HELD_PER_CHANNEL).
      }
    },
  };
}
