/**
 * The real Slack activities, run by a real Worker on the Temporal dev server under the production
 * retry policy (SLACK_ACTIVITY_OPTIONS), against the local Slack stand-in over HTTP and the test
 * PostgreSQL: what reaches Slack when it fails, hangs, rate-limits or refuses.
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createSlackActivities } from '../../src/activities/slack-activities';
import { createDatabase, type Database } from '../../src/db/client';
import { SLACK_PERMANENT_ERROR } from '../../src/domain/failures';
import { createLogger } from '../../src/logger';
import { createSlackApi, type SlackMessageRef } from '../../src/slack/client';
import type { SlackActivityCall } from '../helpers/activity-test-workflows';
import { startFakeSlack, type FakeSlack } from '../helpers/fake-slack';
import type { AlertView } from '../../src/domain/alert';
import { buildAlertView } from '../slack/alert-view';

const TOKEN = 'xoxb-activity-test';
const taskQueue = `slack-activities-${randomUUID()}`;

let fake: FakeSlack;
let db: Database;
let activities: ReturnType<typeof createSlackActivities>;
let nativeConnection: NativeConnection;
let connection: Connection;
let client: Client;
let worker: Worker;
let workerRun: Promise<void>;

beforeAll(async () => {
  fake = await startFakeSlack({ token: TOKEN });
  db = createDatabase(process.env.DATABASE_URL as string);
  const log = createLogger({ level: 'error' });
  activities = createSlackActivities({ slack: createSlackApi({ token: TOKEN, apiUrl: fake.url, log }), db, log });
  const address = process.env.TEMPORAL_ADDRESS as string;
  nativeConnection = await NativeConnection.connect({ address });
  worker = await Worker.create({
    connection: nativeConnection,
    taskQueue,
    workflowsPath: require.resolve('../helpers/activity-test-workflows'),
    activities,
  });
  workerRun = worker.run();
  connection = await Connection.connect({ address });
  client = new Client({ connection });
});

afterAll(async () => {
  worker?.shutdown();
  await workerRun;
  await connection?.close();
  await nativeConnection?.close();
  await db?.$disconnect();
  await fake?.close();
});

/** Runs one activity the way the alert workflow does, and returns its result. */
function runActivity(call: SlackActivityCall): Promise<unknown> {
  return client.workflow.execute('runSlackActivity', {
    taskQueue,
    workflowId: `slack-activity-test-${randomUUID()}`,
    args: [call],
  });
}

/** The failure an activity ended with, as the workflow sees it. */
async function activityFailureOf(run: Promise<unknown>): Promise<ApplicationFailure> {
  const error: unknown = await run.then(
    () => undefined,
    (e: unknown) => e
  );
  expect(error).toBeInstanceOf(WorkflowFailedError);
  const activityFailure = (error as WorkflowFailedError).cause;
  expect(activityFailure).toBeInstanceOf(ActivityFailure);
  const cause = (activityFailure as ActivityFailure).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  return cause as ApplicationFailure;
}

describe('postAlertMessage', () => {
  it('retries through two HTTP 500s and posts exactly one message, returning its ts', async () => {
    const view = buildAlertView();
    const channel = view.team.slackChannelId;
    fake.failNext('chat.postMessage', { kind: 'http', status: 500 }, 2);

    const ref = (await runActivity({ activity: 'postAlertMessage', input: view })) as SlackMessageRef;

    const attempts = fake.calls('chat.postMessage').filter((call) => call.body.channel === channel);
    expect(attempts.map((call) => call.outcome)).toEqual(['http', 'http', 'ok']);
    const messages = fake.messages(channel);
    expect(messages).toHaveLength(1);
    expect(ref).toEqual({ channel, ts: messages[0]?.ts });
    expect(messages[0]?.text).toContain('Disk almost full on db-1');
  });

  it('gives up on a call that hangs past the 3-second timeout, retries it, and succeeds', async () => {
    const view = buildAlertView();
    const channel = view.team.slackChannelId;
    fake.failNext('chat.postMessage', { kind: 'hang', ms: 15_000 });

    const ref = (await runActivity({ activity: 'postAlertMessage', input: view })) as SlackMessageRef;

    const attempts = fake.calls('chat.postMessage').filter((call) => call.body.channel === channel);
    expect(attempts.map((call) => call.outcome)).toEqual(['hang', 'ok']);
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(3_000);
    expect(fake.messages(channel).map((message) => message.ts)).toEqual([ref.ts]);
  });

  it("waits for Slack's Retry-After (2 s) before trying again after a 429", async () => {
    const view = buildAlertView();
    const channel = view.team.slackChannelId;
    fake.failNext('chat.postMessage', { kind: 'rate_limited', retryAfter: 2 });

    await runActivity({ activity: 'postAlertMessage', input: view });

    const attempts = fake.calls('chat.postMessage').filter((call) => call.body.channel === channel);
    expect(attempts.map((call) => call.outcome)).toEqual(['rate_limited', 'ok']);
    // Temporal's own first backoff is 1 s: only Retry-After explains a gap of 2 s or more.
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(2_000);
    expect(fake.messages(channel)).toHaveLength(1);
  });

  it('fails at once, without a retry, when Slack says channel_not_found', async () => {
    const view = buildAlertView();
    const channel = view.team.slackChannelId;
    fake.failNext('chat.postMessage', { kind: 'error', error: 'channel_not_found' });

    const failure = await activityFailureOf(runActivity({ activity: 'postAlertMessage', input: view }));

    expect(failure.type).toBe(SLACK_PERMANENT_ERROR);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('channel_not_found');
    expect(fake.calls('chat.postMessage').filter((call) => call.body.channel === channel)).toHaveLength(1);
    expect(fake.messages(channel)).toEqual([]);
  });
});

describe('the other Slack activities', () => {
  it('updateAlertMessage rewrites the message and removes the buttons once the alert is closed', async () => {
    const view = buildAlertView();
    const message = (await runActivity({ activity: 'postAlertMessage', input: view })) as SlackMessageRef;
    fake.failNext('chat.update', { kind: 'http', status: 503 });

    await runActivity({
      activity: 'updateAlertMessage',
      input: { message, view: { ...view, state: 'closed', endedBy: 'U0FIRST', calling: undefined } },
    });

    const updated = fake.message(message.channel, message.ts);
    expect(updated?.updates).toBe(1);
    expect(updated?.text).toContain('closed');
    expect(updated?.blocks?.some((block) => block.type === 'actions')).toBe(false);
  });

  it('notifyInThread calls the next engineer in the thread of the alert message', async () => {
    const view = buildAlertView({ holder: { kind: 'engineer', userId: 'U0SECOND' } });
    const message = (await runActivity({ activity: 'postAlertMessage', input: view })) as SlackMessageRef;

    await runActivity({
      activity: 'notifyInThread',
      input: { message, view, calling: { kind: 'engineer', userId: 'U0SECOND' } },
    });

    const reply = fake.messages(message.channel).find((m) => m.threadTs === message.ts);
    expect(reply?.text).toContain('<@U0SECOND>');
  });

  it('sendDirectMessage posts to the engineer directly, once, even when the post had to be retried', async () => {
    const view = buildAlertView();
    fake.failNext('chat.postMessage', { kind: 'http', status: 500 });

    await runActivity({ activity: 'sendDirectMessage', input: { userId: 'U0DMTEST', view } });

    const posts = fake.calls('chat.postMessage').filter((call) => call.body.channel === 'U0DMTEST');
    expect(posts.map((call) => call.outcome)).toEqual(['http', 'ok']);
    const directMessages = fake.messages('DU0DMTEST');
    expect(directMessages).toHaveLength(1);
    expect(directMessages[0]?.text).toContain('You are on call');
  });
});

describe('people by name', () => {
  it('shows the acknowledger by their Slack display name, escaped, and never as a mention', async () => {
    const view = buildAlertView();
    const message = (await runActivity({ activity: 'postAlertMessage', input: view })) as SlackMessageRef;
    fake.setDisplayName('U0ADA', '<!channel> Ada & <@U0EVE>');

    await runActivity({
      activity: 'updateAlertMessage',
      input: {
        message,
        view: {
          ...view,
          state: 'acknowledged',
          holder: { kind: 'engineer', userId: 'U0ADA' },
          acknowledgedBy: 'U0ADA',
          acknowledgedByName: 'ada',
          calling: undefined,
        },
      },
    });

    const updated = fake.message(message.channel, message.ts);
    expect(updated?.text).toContain('acknowledged* by &lt;!channel&gt; Ada &amp; &lt;@U0EVE&gt;');
    expect(JSON.stringify(updated?.blocks)).not.toMatch(/<@|<!(channel|here|everyone|subteam)/);
  });

  it('names whoever holds the alert without pinging them, and mentions only the one being called', async () => {
    fake.setDisplayName('U0HOLDER', 'Grace Hopper');
    const view = buildAlertView({ holder: { kind: 'engineer', userId: 'U0HOLDER' }, calling: undefined });

    const message = (await runActivity({ activity: 'postAlertMessage', input: view })) as SlackMessageRef;

    expect(fake.message(message.channel, message.ts)?.text).toContain('assigned to Grace Hopper');
    const called = buildAlertView({ holder: { kind: 'engineer', userId: 'U0HOLDER' } });
    called.calling = { kind: 'engineer', userId: 'U0HOLDER' };
    const page = (await runActivity({ activity: 'postAlertMessage', input: called })) as SlackMessageRef;
    expect(fake.message(page.channel, page.ts)?.text).toContain('assigned to <@U0HOLDER>');
  });

  it('shows a person Slack cannot name (users.info fails) by id, not a mention, and still posts', async () => {
    fake.failNext('users.info', { kind: 'http', status: 500 });
    const view = buildAlertView({ holder: { kind: 'engineer', userId: 'U0NONAME' }, calling: undefined });

    const message = (await runActivity({ activity: 'postAlertMessage', input: view })) as SlackMessageRef;

    const posted = fake.message(message.channel, message.ts);
    expect(posted?.text).toContain('assigned to `U0NONAME`');
    expect(posted?.text).not.toContain('<@U0NONAME>');
  });
});

describe('messages kept current', () => {
  it('updateDirectMessage rewrites a DM in place: who acknowledged it, and nothing asked of its reader any more', async () => {
    fake.setDisplayName('U0ACKER', 'Ada');
    const view = buildAlertView({
      holder: { kind: 'engineer', userId: 'U0DMREAD' },
      calling: { kind: 'engineer', userId: 'U0DMREAD' },
    });
    const sent = (await runActivity({
      activity: 'sendDirectMessage',
      input: { userId: 'U0DMREAD', view },
    })) as SlackMessageRef;
    expect(fake.message(sent.channel, sent.ts)?.text).toContain('You are on call');

    await runActivity({
      activity: 'updateDirectMessage',
      input: {
        message: sent,
        userId: 'U0DMREAD',
        view: {
          ...view,
          state: 'acknowledged',
          holder: { kind: 'engineer', userId: 'U0ACKER' },
          acknowledgedBy: 'U0ACKER',
          calling: undefined,
        },
      },
    });

    const rewritten = fake.message(sent.channel, sent.ts);
    expect(fake.messages(sent.channel)).toHaveLength(1);
    expect(rewritten?.updates).toBe(1);
    expect(rewritten?.text).toContain('acknowledged by Ada, nothing more is needed from you');
    expect(rewritten?.text).not.toContain('You are on call');
  });

  it('noteEndInThread says in the thread who closed the alert, once, mentioning nobody', async () => {
    fake.setDisplayName('U0CLOSER', 'Linus');
    const view = buildAlertView();
    const message = (await runActivity({ activity: 'postAlertMessage', input: view })) as SlackMessageRef;
    const closed: AlertView = {
      ...view,
      state: 'closed',
      endedBy: 'linus',
      endedByUserId: 'U0CLOSER',
      calling: undefined,
    };
    fake.failNext('chat.postMessage', { kind: 'http', status: 500 });

    await runActivity({ activity: 'noteEndInThread', input: { message, view: closed } });

    const replies = fake.messages(message.channel).filter((m) => m.threadTs === message.ts);
    expect(replies.map((reply) => reply.text)).toEqual([':white_check_mark: closed by Linus.']);
  });
});

describe('a retried activity', () => {
  /** An activity context with the same identity every time, as each retry of one activity has. */
  function sameActivityAgain() {
    return new MockActivityEnvironment({
      activityId: '7',
      workflowExecution: { workflowId: `retry-test-${randomUUID()}`, runId: randomUUID() },
    });
  }

  /** Posts the alert as an unguarded activity would; such a post never stands back. */
  async function postedMessage(view: AlertView): Promise<SlackMessageRef> {
    const posted = await sameActivityAgain().run<
      [],
      SlackMessageRef | 'stopped',
      () => Promise<SlackMessageRef | 'stopped'>
    >(() => activities.postAlertMessage(view));
    if (posted === 'stopped') throw new Error('a post without a guard never stands back');
    return posted;
  }

  it('does not post the alert twice when an earlier attempt already posted it', async () => {
    const view = buildAlertView();
    const env = sameActivityAgain();

    const first = await env.run(() => activities.postAlertMessage(view));
    const second = await env.run(() => activities.postAlertMessage(view));

    expect(second).toEqual(first);
    expect(fake.messages(view.team.slackChannelId)).toHaveLength(1);
  });

  it('does not call someone twice in the thread, nor send them two direct messages', async () => {
    const view = buildAlertView();
    const message = await postedMessage(view);
    const thread = sameActivityAgain();
    const direct = sameActivityAgain();
    const calling = { kind: 'engineer', userId: 'U0TWICE' } as const;

    for (let attempt = 0; attempt < 2; attempt += 1) {
      await thread.run(() => activities.notifyInThread({ message, view, calling }));
      await direct.run(() => activities.sendDirectMessage({ userId: 'U0TWICE', view }));
    }

    expect(fake.messages(message.channel).filter((m) => m.threadTs === message.ts)).toHaveLength(1);
    expect(fake.messages('DU0TWICE')).toHaveLength(1);
  });

  it('pages nobody when the journal holds a press taken after what the workflow has seen', async () => {
    const view = buildAlertView();
    const posted = await postedMessage(view);
    const workflowId = `alert/ops/${randomUUID()}`;
    const seen = await db.intakeEntry.create({
      data: { workflowId, partition: 0, kind: 'occurrence', payload: {}, dispatchedAt: new Date() },
    });
    const calling = { kind: 'engineer', userId: 'U0GUARD' } as const;
    const guard = { workflowId, seenReportId: Number(seen.id) };

    // Nothing after what the workflow has seen: the call goes out.
    expect(
      await sameActivityAgain().run(() => activities.notifyInThread({ message: posted, view, calling, guard }))
    ).toBe('sent');
    await db.intakeEntry.create({ data: { workflowId, partition: 0, kind: 'action', payload: {} } });

    expect(await sameActivityAgain().run(() => activities.sendDirectMessage({ userId: 'U0GUARD', view, guard }))).toBe(
      'stopped'
    );
    expect(
      await sameActivityAgain().run(() => activities.notifyInThread({ message: posted, view, calling, guard }))
    ).toBe('stopped');
    expect(fake.messages('DU0GUARD')).toHaveLength(0);
    expect(fake.messages(posted.channel).filter((m) => m.threadTs === posted.ts)).toHaveLength(1);
  });
});
