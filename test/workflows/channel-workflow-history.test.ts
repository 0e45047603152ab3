/**
 * The channel pacer on the dev server with its real activities and the Slack
 * stand-in enforcing Slack's pace: a storm of alert stand-ins (`turnTaker`, which posts its alert
 * once its turn comes) reaches the channel without a single 429, with the digest, and
 * the pacer's history stays bounded through continue-as-new while signals keep arriving.
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import { waitForSlot } from '../../src/activities/slot';
import { createChannelSpacer } from '../../src/slack/channel-spacer';
import { createDatabase, type Database } from '../../src/db/client';
import type { Severity } from '../../src/domain/alert';
import { createLogger } from '../../src/logger';
import { createMetrics } from '../../src/observability/metrics';
import { createSlackApi } from '../../src/slack/client';
import type { channelWorkflow } from '../../src/workflows/channel-workflow';
import { CHANNEL_WORKFLOW_TYPE, channelWorkflowId } from '../../src/workflows/definitions';
import type { TurnTaken, TurnTakerActivities, turnTaker } from '../helpers/channel-test-workflows';
import { startFakeSlack, type FakeSlack } from '../helpers/fake-slack';
import { waitFor } from '../helpers/wait';

const TOKEN = 'xoxb-test';
const log = createLogger({ level: 'warn' });
const taskQueue = `channel-history-test-${randomUUID()}`;
const metrics = createMetrics(undefined, { defaultMetrics: false });
let slack: FakeSlack;
let db: Database;
let connection: Connection;
let client: Client;
let workerConnection: NativeConnection;
const workers: Worker[] = [];
const runs: Promise<void>[] = [];
const taken: TurnTaken[] = [];

beforeAll(async () => {
  slack = await startFakeSlack({ token: TOKEN, pace: true });
  db = createDatabase(process.env.DATABASE_URL as string);
  connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS as string });
  client = new Client({ connection });
  workerConnection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS as string });
  const slackApi = createSlackApi({ token: TOKEN, apiUrl: slack.url, log });
  const spacer = createChannelSpacer();
  const testActivities: TurnTakerActivities = {
    // The stand-in posts its alert once its turn came, as the alert workflow does.
    recordTurn: async (turn) => {
      taken.push(turn);
      if (!turn.granted) return;
      // As postAlertMessage does: the slot, then this process's spacing of the channel's posts.
      await waitForSlot(turn.notBefore);
      await spacer.take(turn.channelId);
      await slackApi.postMessage({ channel: turn.channelId, text: turn.title });
    },
  };
  const workflowBundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('../helpers/channel-test-workflows'),
  });
  // One worker per task queue in a process (the SDK refuses two); several processes: e2e tests.
  {
    const worker = await Worker.create({
      connection: workerConnection,
      taskQueue,
      workflowBundle,
      activities: {
        ...createActivities({ slack: slackApi, db, log, metrics, temporal: client, channelSpacer: spacer }),
        ...testActivities,
      },
    });
    workers.push(worker);
    runs.push(worker.run());
  }
}, 120_000);

afterAll(async () => {
  for (const worker of workers) worker.shutdown();
  await Promise.all(runs);
  await Promise.all([connection?.close(), workerConnection?.close(), db?.$disconnect(), slack?.close()]);
});

test('a storm reaches the channel at its pace, with the digest, and the pacer continues as new', async () => {
  const channelId = `C${randomUUID().replace(/-/g, '').slice(0, 10).toUpperCase()}`;
  const pacer = await client.workflow.start<typeof channelWorkflow>(CHANNEL_WORKFLOW_TYPE, {
    workflowId: channelWorkflowId(channelId),
    taskQueue,
    args: [
      {
        channelId,
        maxHistoryEvents: 60,
        pace: { stormOverAfterMs: 3_000, digestIntervalMs: 2_000, stormThreshold: 3 },
      },
    ],
  });
  const firstRun = pacer.firstExecutionRunId;
  const severities: Severity[] = ['info', 'warning', 'critical', 'info', 'error', 'critical', 'warning', 'info'];
  const alerts = Array.from({ length: 12 }, (_, i) => ({
    alertId: randomUUID(),
    severity: severities[i % severities.length] as Severity,
    title: `Storm alert ${i}`,
  }));
  await Promise.all(
    alerts.map((alert) =>
      client.workflow.start<typeof turnTaker>('turnTaker', {
        workflowId: `alert/test/${alert.alertId}`,
        taskQueue,
        args: [{ channelId, kind: 'post', ...alert }],
      })
    )
  );

  await waitFor('every alert posted', () => slack.messages(channelId).length === alerts.length + 1, 45_000);
  expect(taken.filter((t) => alerts.some((a) => a.alertId === t.alertId)).every((t) => t.granted)).toBe(true);
  expect(slack.counts().rateLimited).toBe(0);

  const digests = slack.messages(channelId).filter((m) => m.text?.startsWith('Alert storm'));
  expect(digests).toHaveLength(1);
  const digest = digests[0];
  // (Order by severity is proven where arrivals are controlled: channel-workflow.test.ts.)
  // The Web UI's "N ahead" comes from the pacer's own answer.
  expect(taken.some((t) => (t.ahead ?? 0) > 0)).toBe(true);

  await waitFor(
    'the digest to say the storm is over',
    () => slack.message(channelId, digest!.ts)?.text?.startsWith('Alert storm over'),
    20_000
  );
  const description = await client.workflow.getHandle(channelWorkflowId(channelId)).describe();
  expect(description.runId).not.toBe(firstRun);
  expect(description.historyLength).toBeLessThan(200);
  await client.workflow.getHandle(channelWorkflowId(channelId)).terminate('test over');
}, 90_000);
