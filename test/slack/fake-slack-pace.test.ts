/**
 * The Slack stand-in's pace, met through the real Slack client: what the storm tests and the bench
 * rely on to count 429s.
 */
import { ErrorCode } from '@slack/web-api';
import { createLogger } from '../../src/logger';
import { createSlackApi } from '../../src/slack/client';
import { startFakeSlack, type FakeSlack } from '../helpers/fake-slack';

const log = createLogger({ level: 'error' });
let slack: FakeSlack;

afterEach(async () => slack?.close());

async function outcome(call: Promise<unknown>): Promise<string | number> {
  try {
    await call;
    return 'ok';
  } catch (error) {
    const e = error as { code?: string; retryAfter?: number };
    return e.code === ErrorCode.RateLimitedError ? (e.retryAfter ?? -1) : String(e.code);
  }
}

test('chat.postMessage beyond the burst in one channel is answered 429 with Retry-After; other channels are not held', async () => {
  slack = await startFakeSlack({ pace: { postsPerSecond: 1, postBurst: 3 } });
  const api = createSlackApi({ token: 'xoxb-test', apiUrl: slack.url, log });
  const inOps: (string | number)[] = [];
  for (let i = 0; i < 5; i++) inOps.push(await outcome(api.postMessage({ channel: 'C0OPS', text: `alert ${i}` })));
  expect(inOps).toEqual(['ok', 'ok', 'ok', 1, 1]);
  // Another channel, and a direct message (its own conversation), have their own allowance.
  expect(await outcome(api.postMessage({ channel: 'C0DEV', text: 'other' }))).toBe('ok');
  expect(await outcome(api.postMessage({ channel: 'U0ALICE', text: 'dm' }))).toBe('ok');
  expect(slack.counts()).toEqual({ calls: 7, rateLimited: 2 });
  expect(slack.messages('C0OPS')).toHaveLength(3);

  await new Promise((resolve) => setTimeout(resolve, 1_100));
  expect(await outcome(api.postMessage({ channel: 'C0OPS', text: 'later' }))).toBe('ok');
});

test('chat.update is limited for the whole workspace (Tier 3)', async () => {
  slack = await startFakeSlack({ pace: { updatesPerMinute: 50, updateBurst: 2 } });
  const api = createSlackApi({ token: 'xoxb-test', apiUrl: slack.url, log });
  const a = await api.postMessage({ channel: 'C0OPS', text: 'a' });
  const b = await api.postMessage({ channel: 'C0DEV', text: 'b' });
  const results = [
    await outcome(api.updateMessage({ ...a, text: 'a2' })),
    await outcome(api.updateMessage({ ...b, text: 'b2' })),
    await outcome(api.updateMessage({ ...a, text: 'a3' })),
  ];
  expect(results).toEqual(['ok', 'ok', 2]);
  expect(slack.counts('chat.update')).toEqual({ calls: 3, rateLimited: 1 });
  expect(slack.message(a.channel, a.ts)?.text).toBe('a2');
});

test('without the pace option nothing is limited', async () => {
  slack = await startFakeSlack();
  const api = createSlackApi({ token: 'xoxb-test', apiUrl: slack.url, log });
  for (let i = 0; i < 20; i++) await api.postMessage({ channel: 'C0OPS', text: `alert ${i}` });
  expect(slack.counts()).toEqual({ calls: 20, rateLimited: 0 });
});
