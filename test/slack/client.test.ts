/**
 * The Slack client over real HTTP against the local Slack stand-in: what it sends, that it never
 * retries or queues on its own (Temporal does), how its errors become Temporal failures, and the
 * dry run that logs instead of sending.
 */
import { Writable } from 'node:stream';
import { ApplicationFailure } from '@temporalio/common';
import { createLogger } from '../../src/logger';
import type { Config } from '../../src/config';
import { renderAlertMessage } from '../../src/slack/alert-message';
import { createDryRunSlackApi, createSlackApi, createSlackApiFromConfig, type SlackApi } from '../../src/slack/client';
import { SLACK_RATE_LIMITED, SLACK_UNAVAILABLE, toSlackFailure } from '../../src/slack/errors';
import { SLACK_PERMANENT_ERROR } from '../../src/domain/failures';
import { startFakeSlack, type FakeSlack, type SlackPayload } from '../helpers/fake-slack';
import { buildAlertView } from './alert-view';

const TOKEN = 'xoxb-test-token';

/** A logger whose JSON lines are kept for assertions. */
function capturedLog() {
  const lines: SlackPayload[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { log: createLogger({ level: 'debug', destination }), lines };
}

/** Runs a Slack call that must fail and returns its error as the activity would throw it. */
async function failureOf(call: Promise<unknown>, method: string): Promise<ApplicationFailure> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e
  );
  if (error === undefined) throw new Error(`${method} succeeded, expected a failure`);
  return toSlackFailure(error, method);
}

let fake: FakeSlack;
let slack: SlackApi;

beforeAll(async () => {
  fake = await startFakeSlack({ token: TOKEN });
  slack = createSlackApi({ token: TOKEN, apiUrl: fake.url, log: capturedLog().log });
});

afterAll(async () => {
  await fake.close();
});

beforeEach(() => fake.reset());

describe('the Slack client', () => {
  it('posts a message with its blocks and bearer token, and returns where it landed', async () => {
    const view = buildAlertView();
    const rendered = renderAlertMessage(view);

    const ref = await slack.postMessage({ channel: view.team.slackChannelId, ...rendered });

    expect(ref.channel).toBe(view.team.slackChannelId);
    const [call] = fake.calls('chat.postMessage');
    expect(call?.token).toBe(TOKEN);
    expect(call?.body.blocks).toEqual(rendered.blocks);
    expect(call?.body.unfurl_links).toBe('false');
    expect(fake.message(ref.channel, ref.ts)?.text).toBe(rendered.text);
  });

  it('replies in a thread and rewrites a message in place', async () => {
    const parent = await slack.postMessage({ channel: 'C0THREAD', text: 'parent' });

    const reply = await slack.postMessage({ channel: 'C0THREAD', text: 'reply', threadTs: parent.ts });
    await slack.updateMessage({ ...parent, text: 'parent, updated', blocks: [] });

    expect(fake.message('C0THREAD', reply.ts)?.threadTs).toBe(parent.ts);
    expect(fake.message('C0THREAD', parent.ts)).toMatchObject({ text: 'parent, updated', updates: 1 });
  });
});

describe('Slack errors, as the activity throws them', () => {
  it('a permanent refusal (channel_not_found) is non-retryable SlackPermanentError naming the code', async () => {
    fake.failNext('chat.postMessage', { kind: 'error', error: 'channel_not_found' });

    const failure = await failureOf(slack.postMessage({ channel: 'C0GONE', text: 'x' }), 'chat.postMessage');

    expect(failure.type).toBe(SLACK_PERMANENT_ERROR);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('channel_not_found');
    expect(failure.details).toEqual([{ slackError: 'channel_not_found', method: 'chat.postMessage' }]);
  });

  it('a wrong token is permanent too', async () => {
    const wrongToken = createSlackApi({ token: 'xoxb-wrong', apiUrl: fake.url, log: capturedLog().log });

    const failure = await failureOf(wrongToken.postMessage({ channel: 'C0X', text: 'x' }), 'chat.postMessage');

    expect(failure.type).toBe(SLACK_PERMANENT_ERROR);
    expect(failure.message).toContain('invalid_auth');
  });

  it('a 429 is rejected at once, without the client pausing or retrying, carrying Retry-After', async () => {
    fake.failNext('chat.postMessage', { kind: 'rate_limited', retryAfter: 7 });
    const started = Date.now();

    const failure = await failureOf(slack.postMessage({ channel: 'C0BUSY', text: 'x' }), 'chat.postMessage');

    expect(Date.now() - started).toBeLessThan(2_000);
    expect(fake.calls('chat.postMessage')).toHaveLength(1);
    expect(failure.type).toBe(SLACK_RATE_LIMITED);
    expect(failure.nonRetryable).toBe(false);
    expect(failure.nextRetryDelay).toBe(7_000);
  });

  it('an HTTP 500 is retryable and the client does not retry it itself', async () => {
    fake.failNext('chat.postMessage', { kind: 'http', status: 500 });

    const failure = await failureOf(slack.postMessage({ channel: 'C0DOWN', text: 'x' }), 'chat.postMessage');

    expect(fake.calls('chat.postMessage')).toHaveLength(1);
    expect(failure.type).toBe(SLACK_UNAVAILABLE);
    expect(failure.nonRetryable).toBe(false);
    expect(failure.message).toContain('HTTP 500');
  });

  it('an HTTP 404 (a wrong SLACK_API_URL) is permanent', async () => {
    fake.failNext('chat.postMessage', { kind: 'http', status: 404 });

    const failure = await failureOf(slack.postMessage({ channel: 'C0', text: 'x' }), 'chat.postMessage');

    expect(failure.type).toBe(SLACK_PERMANENT_ERROR);
    expect(failure.nonRetryable).toBe(true);
  });

  it('a transient platform error (internal_error) is retryable', async () => {
    fake.failNext('chat.update', { kind: 'error', error: 'internal_error' });

    const failure = await failureOf(slack.updateMessage({ channel: 'C0', ts: '1.000001', text: 'x' }), 'chat.update');

    expect(failure.type).toBe(SLACK_UNAVAILABLE);
    expect(failure.nonRetryable).toBe(false);
  });

  it('a call that hangs is cut off after 3 seconds and is retryable', async () => {
    fake.failNext('chat.postMessage', { kind: 'hang' });
    const started = Date.now();

    const failure = await failureOf(slack.postMessage({ channel: 'C0SLOW', text: 'x' }), 'chat.postMessage');

    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(2_900);
    expect(waited).toBeLessThan(6_000);
    expect(failure.type).toBe(SLACK_UNAVAILABLE);
    expect(failure.message).toContain('timed out');
  });

  it('an unreachable Slack is retryable', async () => {
    const closed = await startFakeSlack();
    const url = closed.url;
    await closed.close();
    const unreachable = createSlackApi({ token: TOKEN, apiUrl: url, log: capturedLog().log });

    const failure = await failureOf(unreachable.postMessage({ channel: 'C0', text: 'x' }), 'chat.postMessage');

    expect(failure.type).toBe(SLACK_UNAVAILABLE);
    expect(failure.nonRetryable).toBe(false);
    expect(failure.message).toContain('could not reach Slack');
  });
});

describe('the dry run', () => {
  it('writes each message to the log, with channel and text, and sends nothing', async () => {
    const { log, lines } = capturedLog();
    const config = { slack: { dryRun: true, apiUrl: fake.url } } as Pick<Config, 'slack'>;
    const dryRun = createSlackApiFromConfig(config, log);

    const first = await dryRun.postMessage({ channel: 'C0DEMO', text: 'Disk almost full on db-1' });
    const second = await dryRun.postMessage({ channel: 'C0DEMO', text: 'in thread', threadTs: first.ts });
    await dryRun.updateMessage({ ...first, text: 'Disk almost full on db-1 (acknowledged)' });

    expect(fake.calls()).toEqual([]);
    expect(second.ts).not.toBe(first.ts);
    const posted = lines.filter((line) => line.dryRun && line.level === 30);
    expect(posted.map((line): unknown[] => [line.method, line.channel, line.text])).toEqual([
      ['chat.postMessage', 'C0DEMO', 'Disk almost full on db-1'],
      ['chat.postMessage', 'C0DEMO', 'in thread'],
      ['chat.update', 'C0DEMO', 'Disk almost full on db-1 (acknowledged)'],
    ]);
  });

  it("names the demo team's people, as the preview shows them, and nobody else, asking no Slack", async () => {
    const dryRun = createDryRunSlackApi(capturedLog().log);

    expect(await dryRun.displayNameOf?.('U0DEMO2')).toBe('Grace (demo)');
    expect(await dryRun.displayNameOf?.('U0ALICE')).toBeUndefined();
    expect(fake.calls()).toEqual([]);
  });

  it('hands out distinct refs', async () => {
    const dryRun = createDryRunSlackApi(capturedLog().log);

    const refs = await Promise.all(Array.from({ length: 50 }, () => dryRun.postMessage({ channel: 'C0', text: 'x' })));

    expect(new Set(refs.map((ref) => ref.ts)).size).toBe(50);
  });

  it('is not used once Slack is configured: the real client calls the Web API', async () => {
    const config = { slack: { dryRun: false, botToken: TOKEN, apiUrl: fake.url } } as Pick<Config, 'slack'>;

    await createSlackApiFromConfig(config, capturedLog().log).postMessage({ channel: 'C0REAL', text: 'hello' });

    expect(fake.messages('C0REAL').map((message) => message.text)).toEqual(['hello']);
  });
});
