/**
 * The channel pacer with its real activities: the queue in PostgreSQL, the digest posted to the
 * Slack stand-in, turns at the channel's pace, calls before posts, posts by severity then arrival,
 * withdrawals, the queue metric. The alerts are stand-ins (`turnTaker`) that take their turn
 * through the production turn-taking code (channel-turns.ts), each with a real alert row, which the
 * digest counts. And the bounds of docs/storm.md: whatever waits, the pacer's input, the signals it
 * receives and its history stay small.
 *
 * On the dev server in real time with a slow pace (one turn per 2 s): the time-skipping server
 * fails some of the pacer's workflow tasks when signals arrive while its timers and signals to
 * other workflows are in flight. The real server takes the same histories.
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import { createChannelQueue } from '../../src/activities/channel-queue';
import { createChannelSlots } from '../../src/activities/slot';
import { createDatabase, sqlPoolOf, type Database } from '../../src/db/client';
import type { Severity } from '../../src/domain/alert';
import { createLogger } from '../../src/logger';
import { createMetrics } from '../../src/observability/metrics';
import { createSlackApi } from '../../src/slack/client';
import type { ChannelPace, channelWorkflow } from '../../src/workflows/channel-workflow';
import { CHANNEL_WORKFLOW_TYPE, channelWorkflowId, type ChannelTurnKind } from '../../src/workflows/definitions';
import {
  endedSignal,
  type TurnTaken,
  type TurnTakerActivities,
  type turnTaker,
} from '../helpers/channel-test-workflows';
import { startFakeSlack, type FakeSlack } from '../helpers/fake-slack';
import { waitFor } from '../helpers/wait';

/** One turn every 2 s, so that the arrivals of a test all land before the next turn. */
const TEST_PACE: Partial<ChannelPace> = {
  postsPerSecond: 0.5,
  burst: 2,
  reservedForCalls: 1,
  stormThreshold: 3,
  digestIntervalMs: 1_000,
  stormOverAfterMs: 3_000,
  idleExitMs: 3_000,
  // Granted at their slot, not ahead of it: `at` below is when each turn came, in the order given.
  grantAheadMs: 0,
};

const TOKEN = 'xoxb-test';
const log = createLogger({ level: 'warn' });
const metrics = createMetrics(undefined, { defaultMetrics: false });
const taskQueue = `channel-workflow-test-${randomUUID()}`;
let slack: FakeSlack;
let connection: Connection;
let client: Client;
let workerConnection: NativeConnection;
let worker: Worker;
let workerRun: Promise<void>;
let db: Database;
const taken: TurnTaken[] = [];

beforeAll(async () => {
  slack = await startFakeSlack({ token: TOKEN });
  connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS as string });
  client = new Client({ connection });
  workerConnection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS as string });
  db = createDatabase(process.env.DATABASE_URL as string);
  const testActivities: TurnTakerActivities = {
    // As the alert workflow records its message once posted: the digest counts it as posted.
    recordTurn: async (turn) => {
      taken.push(turn);
      if (turn.granted) {
        await sqlPoolOf(db).query('UPDATE alerts SET slack_message_ts = $2 WHERE id = $1', [
          turn.alertId,
          `${Math.floor(turn.at / 1000)}.000100`,
        ]);
      }
    },
  };
  worker = await Worker.create({
    connection: workerConnection,
    taskQueue,
    workflowBundle: await bundleWorkflowCode({ workflowsPath: require.resolve('../helpers/channel-test-workflows') }),
    activities: {
      ...createActivities({
        slack: createSlackApi({ token: TOKEN, apiUrl: slack.url, log }),
        db,
        log,
        metrics,
        temporal: client,
        channelPace: TEST_PACE,
      }),
      ...testActivities,
    },
  });
  workerRun = worker.run();
}, 120_000);

afterAll(async () => {
  worker?.shutdown();
  await workerRun;
  await Promise.all([connection?.close(), workerConnection?.close(), db?.$disconnect(), slack?.close()]);
});

interface Taker {
  alertId: string;
  severity: Severity;
  kind: ChannelTurnKind;
  title: string;
  handle: WorkflowHandle<typeof turnTaker>;
}

/** A fresh channel per test, with its team: its pacer starts with the first post that has to queue. */
async function newChannel(): Promise<{ channelId: string; teamId: string }> {
  const channelId = `C${randomUUID().replace(/-/g, '').slice(0, 10).toUpperCase()}`;
  const team = await db.team.create({ data: { name: `pacer-${channelId.toLowerCase()}`, slackChannelId: channelId } });
  return { channelId, teamId: team.id };
}

/** An alert of the channel's team asks for a turn; returns once its request is taken or queued. */
async function ask(
  channel: { channelId: string; teamId: string },
  severity: Severity,
  kind: ChannelTurnKind = 'post'
): Promise<Taker> {
  const alertId = randomUUID();
  const title = `${severity} alert ${alertId.slice(0, 4)}`;
  const workflowId = `alert/test/${alertId}`;
  await db.alert.create({
    data: { id: alertId, teamId: channel.teamId, workflowId, fingerprint: alertId, source: 'test', title, severity },
  });
  const handle = await client.workflow.start<typeof turnTaker>('turnTaker', {
    workflowId,
    taskQueue,
    args: [{ channelId: channel.channelId, alertId, kind, severity, title }],
  });
  await waitFor('the turn request', async () => {
    if (taken.some((t) => t.alertId === alertId)) return true;
    const { rowCount } = await sqlPoolOf(db).query('SELECT 1 FROM slack_channel_posts WHERE workflow_id = $1', [
      workflowId,
    ]);
    return (rowCount ?? 0) > 0;
  });
  return { alertId, severity, kind, title, handle };
}

/** What became of each taker's turn, in the takers' order (recorded by the taker itself). */
async function results(takers: Taker[]): Promise<TurnTaken[]> {
  const find = () => takers.map((taker) => taken.find((t) => t.alertId === taker.alertId));
  await waitFor('every turn taken or given up', () => find().every(Boolean), 40_000);
  return find() as TurnTaken[];
}

/** Lets the channel's pacer end the way it ends: idle, the channel let go. */
async function drain(channelId: string): Promise<void> {
  const pacer = client.workflow.getHandle(channelWorkflowId(channelId));
  await waitFor('the pacer to end', async () => (await pacer.describe()).status.name !== 'RUNNING', 30_000);
}

function digestsOf(channelId: string) {
  return slack.messages(channelId).filter((message) => message.text?.startsWith('Alert storm'));
}

describe('channel pacer', () => {
  test('posts go at the channel pace, by severity then arrival, once the burst is spent', async () => {
    const channel = await newChannel();
    const first = await ask(channel, 'info');
    const waiting = [
      await ask(channel, 'warning'),
      await ask(channel, 'critical'),
      await ask(channel, 'info'),
      await ask(channel, 'error'),
      await ask(channel, 'critical'),
    ];
    const [firstTaken] = await results([first]);
    const turns = await results(waiting);

    const order = [...turns].sort((a, b) => a.at - b.at).map((t) => waiting.find((w) => w.alertId === t.alertId));
    expect(order.map((t) => t?.severity)).toEqual(['critical', 'critical', 'error', 'warning', 'info']);
    // Arrival decides between equals.
    expect(order[0]?.alertId).toBe(waiting[1]?.alertId);
    // Turns are 2 s apart (their slots; `at` is the slot or when the turn came, whichever is later).
    const times = [firstTaken!.at, ...turns.map((t) => t.at).sort((a, b) => a - b)];
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(1_500);
    // A post that waited was told how many were ahead of it (the Web UI shows it).
    expect(turns.some((t) => (t.ahead ?? 0) > 0)).toBe(true);
    await drain(channel.channelId);
  });

  test('a thread call goes before every waiting post', async () => {
    const channel = await newChannel();
    const posts = [await ask(channel, 'critical'), await ask(channel, 'critical'), await ask(channel, 'critical')];
    const call = await ask(channel, 'info', 'call');
    const [callTaken] = await results([call]);
    const postTimes = (await results(posts)).map((t) => t.at).sort((a, b) => a - b);
    // The first post took the burst; the call comes before every post that was waiting with it.
    expect(callTaken!.at).toBeLessThan(postTimes[1]!);
    await drain(channel.channelId);
  });

  test('in a storm one digest counts every alert, is kept up to date, and says when the storm is over', async () => {
    const channel = await newChannel();
    const takers: Taker[] = [];
    for (const severity of ['warning', 'info', 'critical', 'error', 'info', 'warning'] as Severity[]) {
      takers.push(await ask(channel, severity));
    }
    const digest = await waitFor('the digest', () => digestsOf(channel.channelId)[0]);
    // The storm began with the burst that filled the queue: the first alert, posted at once, counts too.
    expect(digest?.text).toMatch(/^Alert storm: 6 alerts/);
    const buttons = JSON.stringify(digest?.blocks);
    expect(buttons).toContain('storm_ack');
    expect(buttons).toContain('storm_close');

    await results(takers);
    await waitFor(
      'the storm to be over',
      () => slack.message(channel.channelId, digest.ts)?.text?.startsWith('Alert storm over'),
      20_000
    );
    const over = slack.message(channel.channelId, digest.ts);
    expect(over?.text).toBe('Alert storm over: 6 alerts, 6 posted, 0 ended before their turn');
    expect(JSON.stringify(over?.blocks)).not.toContain('storm_ack');
    expect(digestsOf(channel.channelId)).toHaveLength(1);

    // Over means over: nothing rewrites it again.
    const updates = over!.updates;
    await drain(channel.channelId);
    expect(slack.message(channel.channelId, digest.ts)?.updates).toBe(updates);
  });

  test('an alert that ends before its turn in a storm is never given one and is listed in the digest', async () => {
    const channel = await newChannel();
    const takers: Taker[] = [];
    for (let i = 0; i < 6; i++) takers.push(await ask(channel, 'warning'));
    await waitFor('the storm', () => digestsOf(channel.channelId).length > 0);
    const withdrawn = takers[5]!;
    await withdrawn.handle.signal(endedSignal, 'resolved');
    const [gone] = await results([withdrawn]);
    expect(gone?.granted).toBe(false);

    const others = await results(takers.filter((t) => t !== withdrawn));
    expect(others.every((t) => t.granted)).toBe(true);
    const [digest] = digestsOf(channel.channelId);
    await waitFor(
      'the storm to be over',
      () => slack.message(channel.channelId, digest!.ts)?.text?.startsWith('Alert storm over'),
      20_000
    );
    const over = slack.message(channel.channelId, digest!.ts);
    expect(over?.text).toContain('1 ended before their turn');
    expect(JSON.stringify(over?.blocks)).toContain(`${withdrawn.title} · _resolved_`);
    await drain(channel.channelId);
  });

  test("a call asked again after Slack's 429 waits out the Retry-After, with every other call of the channel", async () => {
    const channel = await newChannel();
    await results([await ask(channel, 'info')]);
    const refusedAt = Date.now();
    // The refused call's new request passes Slack's Retry-After to the channel's bucket.
    await createChannelSlots(db).takeChannelSlot({
      channelId: channel.channelId,
      kind: 'call',
      horizonMs: 5_000,
      asker: 'direct',
      pauseUntil: refusedAt + 6_000,
      pace: { postsPerSecond: 0.5, burst: 2, reservedForCalls: 1 },
    });
    const [call] = await results([await ask(channel, 'critical', 'call')]);
    expect(call?.granted).toBe(true);
    expect(call!.at - refusedAt).toBeGreaterThanOrEqual(6_000);
  });

  test('the queue length is reported to metrics, down to 0 when the channel is let go', async () => {
    const channel = await newChannel();
    const takers = [await ask(channel, 'info'), await ask(channel, 'info'), await ask(channel, 'info')];
    const queueLength = async () => {
      const gauge = await metrics.registry.getSingleMetricAsString('escalator_slack_channel_queue_length');
      const line = gauge.split('\n').find((l) => l.includes(`channel="${channel.channelId}"`));
      return line === undefined ? undefined : Number(line.split(' ').at(-1));
    };
    await waitFor('a waiting post reported', async () => ((await queueLength()) ?? 0) >= 1);
    await results(takers);
    await waitFor('the empty queue reported', async () => (await queueLength()) === 0, 20_000);
    await drain(channel.channelId);
  });
});

describe("the pacer's bounds (docs/storm.md)", () => {
  test('two thousand waiting posts: one wake signal, a constant continue-as-new input, grants by severity', async () => {
    const channelId = `C${randomUUID().replace(/-/g, '').slice(0, 10).toUpperCase()}`;
    const queue = createChannelQueue(db);
    const fast: Partial<ChannelPace> = { ...TEST_PACE, postsPerSecond: 200, burst: 4, reservedForCalls: 0 };
    // Posts of alerts whose workflows are not running (their grant signals fail, which the pacer
    // shrugs off): only the pacer's side is under test. The first queued post wakes it.
    const severities: Severity[] = ['info', 'warning', 'error', 'critical'];
    let wakes = 0;
    let queued = 0;
    for (let i = 0; i < 2_001; i++) {
      const answer = await queue.requestPost({
        channelId,
        requestId: `r-${i}`,
        workflowId: `alert/bound-test/${channelId}/${i}`,
        alertId: randomUUID(),
        severity: severities[i % 4] as Severity,
        title: `bound ${i}`,
        horizonMs: 0,
        // The first takes the one turn there is; the rest queue.
        pace: { postsPerSecond: 0.001, burst: 1, reservedForCalls: 0 },
      });
      if (answer.wake) wakes += 1;
      if (answer.slot === undefined) queued += 1;
    }
    expect(queued).toBe(2_000);
    expect(wakes).toBe(1);
    const pacer = await client.workflow.signalWithStart<typeof channelWorkflow>(CHANNEL_WORKFLOW_TYPE, {
      workflowId: channelWorkflowId(channelId),
      taskQueue,
      args: [{ channelId, pace: fast, maxHistoryEvents: 300 }],
      signal: 'channelWake',
      signalArgs: [],
    });

    // The pacer works through the queue (it would take all 2,000; 400 make the point), continuing
    // as new on the way.
    const granted = async () => {
      const { rows } = await sqlPoolOf(db).query<{ severity_rank: number }>(
        "SELECT severity_rank FROM slack_channel_posts WHERE channel_id = $1 AND status = 'granted' ORDER BY slot, id",
        [channelId]
      );
      return rows.map((row) => row.severity_rank);
    };
    await waitFor('400 posts granted', async () => (await granted()).length >= 400, 120_000);
    await pacer.terminate('test over');
    const ranks = await granted();
    // Critical first (500 of them), by arrival within a severity.
    expect(ranks.every((rank) => rank === 0)).toBe(true);
    const { rows: firstGranted } = await sqlPoolOf(db).query<{ request_id: string }>(
      "SELECT request_id FROM slack_channel_posts WHERE channel_id = $1 AND status = 'granted' ORDER BY slot, id LIMIT 2",
      [channelId]
    );
    expect(firstGranted.map((row) => row.request_id)).toEqual(['r-3', 'r-7']);

    // Every run of the pacer: its input is a few numbers, it received at most the one wake, and
    // its history stayed near its bound.
    const runs = client.workflow.list({ query: `WorkflowId = '${channelWorkflowId(channelId)}'` });
    let runCount = 0;
    for await (const run of runs) {
      runCount += 1;
      const history = await client.workflow.getHandle(run.workflowId, run.runId).fetchHistory();
      const events = history.events ?? [];
      const started = events[0]?.workflowExecutionStartedEventAttributes;
      const inputBytes = (started?.input?.payloads ?? []).reduce((sum, p) => sum + (p.data?.length ?? 0), 0);
      expect(inputBytes).toBeLessThan(1_024);
      const signals = events.filter((e) => e.workflowExecutionSignaledEventAttributes).length;
      expect(signals).toBeLessThanOrEqual(1);
      expect(events.length).toBeLessThan(300 + 100);
    }
    expect(runCount).toBeGreaterThan(1);
  }, 180_000);
});
