/**
 * The channel pacer: turns at the channel's pace, calls before posts, posts by severity then
 * arrival, the storm digest, withdrawals. The alerts are stand-ins (`turnTaker`) that take their
 * turn through the production turn-taking code; the activities are typed fakes, the turn request a
 * real signal-with-start to the pacer.
 *
 * On the dev server in real time with a slow pace (one turn per 2 s), not on the time-skipping
 * server: that one fails some of the pacer's workflow tasks ("invalid history builder state for
 * action") when signals arrive while its timers and signals to other workflows are in flight, and
 * then its clock stays locked. The real server takes the same histories.
 */
import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import type { ChannelActivities } from '../../src/activities';
import { createChannelSlots } from '../../src/activities/slot';
import { createDatabase, type Database } from '../../src/db/client';
import type { Severity } from '../../src/domain/alert';
import type { ChannelDigestView } from '../../src/slack/digest-message';
import type { ChannelPace, ChannelWorkflowInput } from '../../src/workflows/channel-workflow';
import {
  CHANNEL_WORKFLOW_TYPE,
  channelTurnRequestSignal,
  channelTurnWithdrawalSignal,
  channelWorkflowId,
  type ChannelTurnKind,
  type ChannelTurnRequest,
} from '../../src/workflows/definitions';
import {
  endedSignal,
  type TurnTaken,
  type TurnTakerActivities,
  type turnTaker,
} from '../helpers/channel-test-workflows';
import { waitFor } from '../helpers/wait';

/** One turn every 2 s, so that the arrivals of a test all land before the next turn. */
const TEST_PACE: Partial<ChannelPace> = {
  postsPerSecond: 0.5,
  burst: 2,
  reservedForCalls: 1,
  stormThreshold: 3,
  digestIntervalMs: 1_000,
  stormOverAfterMs: 3_000,
  idleExitMs: 4_000,
  // Granted at their slot, not ahead of it: `at` below is when each turn came, in the order given.
  grantAheadMs: 0,
};

interface Recording {
  requests: ChannelTurnRequest[];
  digests: Array<{ activity: 'post' | 'update'; view: ChannelDigestView }>;
  queueReports: number[];
  taken: TurnTaken[];
}

let connection: Connection;
let client: Client;
let workerConnection: NativeConnection;
let worker: Worker;
let workerRun: Promise<void>;
const taskQueue = `channel-workflow-test-${randomUUID()}`;
let current: Recording;
let db: Database;
const pace: Partial<ChannelPace> = TEST_PACE;

beforeAll(async () => {
  connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS as string });
  client = new Client({ connection });
  workerConnection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS as string });
  let ts = 0;
  db = createDatabase(process.env.DATABASE_URL as string);
  // The channel's shared bucket is the real one, in PostgreSQL.
  const { takeChannelSlot, releaseChannelPosts } = createChannelSlots(db);
  const activities: ChannelActivities = {
    takeChannelSlot,
    releaseChannelPosts,
    // The real request is a signal-with-start too; only the position query is left out (see above).
    requestChannelTurn: async ({ channelId, ...turn }) => {
      current.requests.push(turn);
      await client.workflow.signalWithStart(CHANNEL_WORKFLOW_TYPE, {
        workflowId: channelWorkflowId(channelId),
        taskQueue: Context.current().info.taskQueue,
        args: [{ channelId, pace } satisfies ChannelWorkflowInput],
        signal: channelTurnRequestSignal,
        signalArgs: [turn],
      });
      return {};
    },
    withdrawChannelTurn: async ({ channelId, ...withdrawal }) => {
      await client.workflow.getHandle(channelWorkflowId(channelId)).signal(channelTurnWithdrawalSignal, withdrawal);
    },
    postChannelDigest: async (view) => {
      current.digests.push({ activity: 'post', view });
      return { channel: view.channelId, ts: `1700000000.${String(++ts).padStart(6, '0')}` };
    },
    updateChannelDigest: async ({ view }) => {
      current.digests.push({ activity: 'update', view });
    },
    reportChannelQueue: async ({ waiting }) => {
      current.queueReports.push(waiting);
    },
  };
  const testActivities: TurnTakerActivities = {
    recordTurn: async (taken) => void current.taken.push(taken),
  };
  worker = await Worker.create({
    connection: workerConnection,
    taskQueue,
    workflowBundle: await bundleWorkflowCode({ workflowsPath: require.resolve('../helpers/channel-test-workflows') }),
    activities: { ...activities, ...testActivities },
  });
  workerRun = worker.run();
}, 120_000);

afterAll(async () => {
  worker?.shutdown();
  await workerRun;
  await Promise.all([connection?.close(), workerConnection?.close(), db?.$disconnect()]);
});

beforeEach(() => {
  current = { requests: [], digests: [], queueReports: [], taken: [] };
});

interface Taker {
  alertId: string;
  severity: Severity;
  kind: ChannelTurnKind;
  handle: WorkflowHandle<typeof turnTaker>;
}

/** A fresh channel per test: its pacer starts with the first request. */
function newChannel(): string {
  return `C${randomUUID().replace(/-/g, '').slice(0, 10).toUpperCase()}`;
}

/** Starts an alert stand-in that asks for a turn, and waits until its request reached the pacer. */
async function ask(channelId: string, severity: Severity, kind: ChannelTurnKind = 'post'): Promise<Taker> {
  const alertId = randomUUID();
  const before = current.requests.length;
  const handle = await client.workflow.start<typeof turnTaker>('turnTaker', {
    workflowId: `alert/test/${alertId}`,
    taskQueue,
    args: [{ channelId, alertId, kind, severity, title: `${severity} alert ${alertId.slice(0, 4)}` }],
  });
  await waitFor('the turn request', () => current.requests.length > before);
  return { alertId, severity, kind, handle };
}

/** What became of each taker's turn, in the takers' order (recorded by the taker itself). */
async function results(takers: Taker[]): Promise<TurnTaken[]> {
  const find = () => takers.map((taker) => current.taken.find((t) => t.alertId === taker.alertId));
  await waitFor('every turn taken or given up', () => find().every(Boolean), 40_000);
  return find() as TurnTaken[];
}

/** Lets the channel's pacer end the way it ends: idle. */
async function drain(channelId: string): Promise<void> {
  const pacer = client.workflow.getHandle(channelWorkflowId(channelId));
  await waitFor('the pacer to end', async () => (await pacer.describe()).status.name !== 'RUNNING', 20_000);
}

describe('channel pacer', () => {
  test('posts go at the channel pace, by severity then arrival, once the burst is spent', async () => {
    const channel = newChannel();
    const first = await ask(channel, 'info');
    const waiting = [
      await ask(channel, 'warning'),
      await ask(channel, 'critical'),
      await ask(channel, 'info'),
      await ask(channel, 'error'),
      await ask(channel, 'critical'),
    ];
    const [firstTaken] = await results([first]);
    const taken = await results(waiting);

    const order = [...taken].sort((a, b) => a.at - b.at).map((t) => waiting.find((w) => w.alertId === t.alertId));
    expect(order.map((t) => t?.severity)).toEqual(['critical', 'critical', 'error', 'warning', 'info']);
    // Arrival decides between equals.
    expect(order[0]?.alertId).toBe(waiting[1]?.alertId);
    // Turns are 2 s apart; `at` is when each stand-in saw its turn, which jitters by a worker task.
    const times = [firstTaken!.at, ...taken.map((t) => t.at).sort((a, b) => a - b)];
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(1_500);
    await drain(channel);
  });

  test('a thread call goes before every waiting post', async () => {
    const channel = newChannel();
    const posts = [await ask(channel, 'critical'), await ask(channel, 'critical'), await ask(channel, 'critical')];
    const call = await ask(channel, 'info', 'call');
    const [callTaken] = await results([call]);
    const postTimes = (await results(posts)).map((t) => t.at).sort((a, b) => a - b);
    // The first post took the burst; the call comes before every post that was waiting with it.
    expect(callTaken!.at).toBeLessThan(postTimes[1]!);
    await drain(channel);
  });

  test('in a storm one digest is kept up to date and says when the storm is over', async () => {
    const channel = newChannel();
    const takers: Taker[] = [];
    for (const severity of ['warning', 'info', 'critical', 'error', 'info', 'warning'] as Severity[]) {
      takers.push(await ask(channel, severity));
    }
    await waitFor('the digest', () => current.digests.length > 0);
    const [posted] = current.digests;
    expect(posted?.activity).toBe('post');
    expect(posted?.view.endedAt).toBeUndefined();
    expect(posted?.view.waiting.length).toBeGreaterThanOrEqual(3);
    // What waits is listed in the order it will be posted.
    const ranks = posted!.view.waiting.map((a) => ['critical', 'error', 'warning', 'info'].indexOf(a.severity));
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));

    await results(takers);
    await waitFor('the storm to be over', () => current.digests.at(-1)?.view.endedAt, 20_000);
    const last = current.digests.at(-1);
    expect(last?.activity).toBe('update');
    expect(last?.view.endedAt).toBeDefined();
    expect(last?.view.waiting).toEqual([]);
    const total = Object.values(last!.view.counts).reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThanOrEqual(posted!.view.waiting.length);
    expect(last?.view.posted).toBe(total);

    // Over means over: nothing rewrites it again.
    const written = current.digests.length;
    await drain(channel);
    expect(current.digests).toHaveLength(written);
    expect(current.digests.filter((d) => d.view.endedAt)).toHaveLength(1);
    await drain(channel);
  });

  test('an alert that ends before its turn is never given one and is listed in the digest', async () => {
    const channel = newChannel();
    const takers: Taker[] = [];
    for (let i = 0; i < 6; i++) takers.push(await ask(channel, 'warning'));
    const withdrawn = takers[4]!;
    await withdrawn.handle.signal(endedSignal, 'resolved');
    const [gone] = await results([withdrawn]);
    expect(gone?.granted).toBe(false);

    const taken = await results(takers.filter((t) => t !== withdrawn));
    expect(taken.every((t) => t.granted)).toBe(true);
    await waitFor('the storm to be over', () => current.digests.at(-1)?.view.endedAt, 20_000);
    const listed = current.digests.flatMap((d) => d.view.withdrawn);
    expect(listed).toContainEqual(expect.objectContaining({ alertId: withdrawn.alertId, state: 'resolved' }));
    expect(current.digests.at(-1)?.view.waiting.map((a) => a.alertId)).not.toContain(withdrawn.alertId);
    await drain(channel);
  });

  test("a call that Slack refused all the same asks again: no turn comes before Slack's Retry-After", async () => {
    const channel = newChannel();
    await results([await ask(channel, 'info')]);
    const refusedAt = Date.now();
    // The refused alert's new request, as channel-turns sends it after the 429.
    await client.workflow.getHandle(channelWorkflowId(channel)).signal(channelTurnRequestSignal, {
      requestId: `refused/${refusedAt}/call-2`,
      workflowId: `alert/test/refused-${refusedAt}`,
      alertId: 'refused',
      kind: 'call',
      severity: 'critical',
      title: 'refused call',
      requestedAt: new Date().toISOString(),
      retryAfterMs: 6_000,
    });
    const [taken] = await results([await ask(channel, 'critical', 'call')]);
    // Both calls wait out the 6 s (the pacer's clock is a workflow task's, hence the small slack).
    expect(taken!.at - refusedAt).toBeGreaterThanOrEqual(5_500);
    await drain(channel);
  });

  test('the queue length is reported to metrics, down to 0 when it empties', async () => {
    const channel = newChannel();
    const takers = [await ask(channel, 'info'), await ask(channel, 'info'), await ask(channel, 'info')];
    await results(takers);
    await drain(channel);
    expect(Math.max(...current.queueReports)).toBeGreaterThanOrEqual(1);
    expect(current.queueReports.at(-1)).toBe(0);
  });
});
