/**
 * The shared bucket of a Slack channel's pace (`take_channel_slot` in PostgreSQL, activities/slot.ts),
 * on the test database: what every worker's posts and thread calls into one channel are allowed.
 * The default pace: one turn per second, 3 at once, one kept back for thread calls.
 */
import { randomUUID } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createChannelActivities } from '../../src/activities/channel-activities';
import { createChannelSlots, type ChannelSlot } from '../../src/activities/slot';
import { createDatabase, sqlPoolOf, type Database } from '../../src/db/client';
import { createLogger } from '../../src/logger';
import { createDryRunSlackApi } from '../../src/slack/client';

let db: Database;
let slots: ReturnType<typeof createChannelSlots>;

beforeAll(() => {
  db = createDatabase(process.env.DATABASE_URL as string);
  slots = createChannelSlots(db);
});

afterAll(async () => {
  await db?.$disconnect();
});

function newChannel(): string {
  return `C${randomUUID().replace(/-/g, '').slice(0, 10).toUpperCase()}`;
}

/** An alert's own ask, as requestChannelTurn makes it (a post within half a second, a call within 5 s). */
function alertAsks(channelId: string, kind: 'call' | 'post', extra: { notBefore?: number; pauseUntil?: number } = {}) {
  return slots.takeChannelSlot({ channelId, kind, horizonMs: kind === 'call' ? 5_000 : 500, asker: 'alert', ...extra });
}

async function pacerHoldsPosts(channelId: string): Promise<boolean> {
  const { rows } = await sqlPoolOf(db).query<{ pacer_queued: boolean }>(
    'SELECT pacer_queued FROM slack_channel_pace WHERE channel_id = $1',
    [channelId]
  );
  return rows[0]?.pacer_queued ?? false;
}

/** Asks, and expects the slot taken at once: at the clock of the ask, not later (the ask itself may be slow). */
async function takenAtOnce(ask: () => Promise<ChannelSlot>): Promise<ChannelSlot> {
  const before = Date.now();
  const slot = await ask();
  expect(slot.taken).toBe(true);
  expect(slot.slot).toBeGreaterThanOrEqual(before);
  expect(slot.slot).toBeLessThanOrEqual(Date.now() + 1);
  return slot;
}

test('a quiet channel: posts take their turn at once until only the kept-back turn is left; then the pacer holds the posts', async () => {
  const channel = newChannel();
  const first = await takenAtOnce(() => alertAsks(channel, 'post'));
  await takenAtOnce(() => alertAsks(channel, 'post'));

  // The third would need the turn kept for calls: refused, and posts now queue with the pacer.
  const third = await alertAsks(channel, 'post');
  expect(third.taken).toBe(false);
  expect(third.slot - first.slot).toBeGreaterThanOrEqual(900);
  expect(await pacerHoldsPosts(channel)).toBe(true);

  // Even once turns are back, an alert's post does not jump the pacer's queue.
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  expect((await alertAsks(channel, 'post')).taken).toBe(false);
  // The pacer takes its posts' slots; once its queue is empty it gives the channel back.
  const pacers = await slots.takeChannelSlot({ channelId: channel, kind: 'post', horizonMs: 500, asker: 'pacer' });
  expect(pacers.taken).toBe(true);
  await slots.releaseChannelPosts({ channelId: channel });
  expect(await pacerHoldsPosts(channel)).toBe(false);
});

test('a thread call takes the kept-back turn at once, also when posts have used the others; the next call waits its second', async () => {
  const channel = newChannel();
  await alertAsks(channel, 'post');
  await alertAsks(channel, 'post');
  const call = await takenAtOnce(() => alertAsks(channel, 'call'));

  const next = await alertAsks(channel, 'call');
  expect(next.taken).toBe(true);
  expect(next.slot - call.slot).toBeGreaterThanOrEqual(900);
});

test('a call booked ahead of its escalation step goes at that time, and posts asked after it go after it', async () => {
  const channel = newChannel();
  const due = Date.now() + 1_500;
  const call = await alertAsks(channel, 'call', { notBefore: due });
  expect(call).toEqual({ slot: due, taken: true });
  const post = await alertAsks(channel, 'post');
  // Not within the half second an alert's own post may wait: it queues with the pacer.
  expect(post.taken).toBe(false);
  expect(post.slot).toBeGreaterThanOrEqual(due);
});

test('after Slack answered 429, nothing goes before its Retry-After is over, calls included', async () => {
  const channel = newChannel();
  const pauseUntil = Date.now() + 2_000;
  const call = await alertAsks(channel, 'call', { pauseUntil });
  expect(call.taken).toBe(true);
  expect(call.slot).toBe(pauseUntil);
  const post = await slots.takeChannelSlot({ channelId: channel, kind: 'post', horizonMs: 5_000, asker: 'pacer' });
  expect(post.taken).toBe(true);
  expect(post.slot).toBeGreaterThanOrEqual(pauseUntil + 900);
});

test("the workspace's rewrites take turns of their own, apart from every channel's posts", async () => {
  const channel = newChannel();
  await alertAsks(channel, 'post');
  await alertAsks(channel, 'post');
  // Eight rewrites at once pass without waiting; a ninth waits its turn (a second at most). The
  // wait is an activity's sleep, so it runs in an activity's context.
  const workspace = `T${randomUUID().slice(0, 8)}`;
  const rewrite = () => new MockActivityEnvironment().run(slots.awaitUpdateTurn, workspace);
  const started = Date.now();
  for (let i = 0; i < 8; i++) {
    // A turn waited for would be a sleep of most of a second; the query alone is milliseconds.
    const asked = Date.now();
    await rewrite();
    expect(Date.now() - asked).toBeLessThan(500);
  }
  await rewrite();
  expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  // The channel's own turns are untouched by them.
  expect((await alertAsks(channel, 'call')).taken).toBe(true);
});

test("a line that may be left out (an alert's end in its thread) takes a spare slot in a quiet channel, and none in a busy one: never the calls' turn, never a queue", async () => {
  const log = createLogger({ level: 'error' });
  const channelActivities = createChannelActivities({ slack: createDryRunSlackApi(log), db, log });
  const takeSpareChannelSlot = (ask: { channelId: string }) => channelActivities.takeSpareChannelSlot(ask);
  const quiet = newChannel();
  const before = Date.now();
  const spare = await takeSpareChannelSlot({ channelId: quiet });
  expect(spare).toBeGreaterThanOrEqual(before);
  expect(spare).toBeLessThanOrEqual(Date.now() + 1);

  const busy = newChannel();
  await takenAtOnce(() => alertAsks(busy, 'post'));
  await takenAtOnce(() => alertAsks(busy, 'post'));
  // Only the turn kept back for calls is left: the line goes without, and a call still has it.
  expect(await takeSpareChannelSlot({ channelId: busy })).toBeUndefined();
  expect(await pacerHoldsPosts(busy)).toBe(false);
  await takenAtOnce(() => alertAsks(busy, 'call'));
});
