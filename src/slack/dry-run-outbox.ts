/**
 * What the dry run would have sent to Slack, kept in memory so that `/preview` can show the team
 * channels as Slack would: posts, thread replies, direct messages, edits, and the ephemeral replies
 * sent through a press's response_url. Bounded: the oldest messages go first.
 */

/** One message as it would stand in Slack after every post and update. */
export interface OutboxMessage {
  channel: string;
  ts: string;
  threadTs?: string;
  text: string;
  blocks?: unknown[];
  /** How many times chat.update rewrote it (Slack shows "(edited)"). */
  edits: number;
  /** Set for an ephemeral reply: only this user would see it. */
  onlyVisibleTo?: string;
  /** Milliseconds since the epoch when it was first posted. */
  postedAt: number;
}

export interface DryRunOutbox {
  post(message: Omit<OutboxMessage, 'edits' | 'postedAt'>): void;
  update(ref: { channel: string; ts: string }, content: { text: string; blocks?: unknown[] }): void;
  /** Every message still kept, oldest first. */
  messages(): OutboxMessage[];
  /** Grows by one with every change: a reader polls it to know when to look again. */
  version(): number;
}

/** Enough for a long trial (about 100 alerts with their threads and DMs) and still small in memory. */
export const DRY_RUN_OUTBOX_LIMIT = 500;

export function createDryRunOutbox(limit = DRY_RUN_OUTBOX_LIMIT): DryRunOutbox {
  const kept: OutboxMessage[] = [];
  let version = 0;
  return {
    post(message) {
      kept.push({ ...message, edits: 0, postedAt: Date.now() });
      if (kept.length > limit) kept.splice(0, kept.length - limit);
      version += 1;
    },
    update({ channel, ts }, { text, blocks }) {
      const message = kept.find((m) => m.channel === channel && m.ts === ts);
      if (!message) return;
      message.text = text;
      if (blocks !== undefined) message.blocks = blocks;
      message.edits += 1;
      version += 1;
    },
    messages: () => kept.map((m) => ({ ...m })),
    version: () => version,
  };
}
