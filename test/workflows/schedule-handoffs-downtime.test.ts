/**
 * A schedule's handoff watcher whose worker is down while handoffs fall: on the Temporal dev
 * server in real time (the time-skipping server holds its clock while a fired timer's task waits
 * for a worker, which a real outage does not). Handoffs seconds apart come from overrides.
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import { addOverride, createSchedule } from '../../src/api/services/schedules';
import { createDatabase, type Database } from '../../src/db/client';
import { createLogger } from '../../src/logger';
import { tellHandoffWatcher } from '../../src/oncall/handoff-watch';
import { createSlackApi } from '../../src/slack/client';
import { scheduleHandoffsWorkflowId } from '../../src/workflows/definitions';
import { startFakeSlack, type FakeSlack } from '../helpers/fake-slack';
import { waitFor } from '../helpers/wait';

const TOKEN = 'xoxb-handoff-downtime';
const log = createLogger({ level: 'error' });
const taskQueue = `schedule-handoffs-downtime-${randomUUID()}`;

let slack: FakeSlack;
let db: Database;
let connection: Connection;
let client: Client;
let workerConnection: NativeConnection;
let workflowBundle: { code: string };

beforeAll(async () => {
  slack = await startFakeSlack({ token: TOKEN });
  db = createDatabase(process.env.DATABASE_URL as string);
  connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS as string });
  client = new Client({ connection });
  workerConnection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS as string });
  workflowBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../../src/workflows') });
}, 120_000);

afterAll(async () => {
  await Promise.all([connection?.close(), workerConnection?.close(), db?.$disconnect(), slack?.close()]);
});

/** A worker that caches no workflow: once it stops, the watcher's next task goes to whichever worker polls. */
async function startWorker(): Promise<{ stop: () => Promise<void> }> {
  const worker = await Worker.create({
    connection: workerConnection,
    taskQueue,
    workflowBundle,
    maxCachedWorkflows: 0,
    activities: createActivities({ slack: createSlackApi({ token: TOKEN, apiUrl: slack.url, log }), db, log }),
  });
  const running = worker.run();
  return {
    stop: async () => {
      worker.shutdown();
      await running;
    },
  };
}

test('handoffs that fall while no worker runs give one notice, for who is on call at the wake', async () => {
  const suffix = randomUUID().replace(/-/g, '').slice(0, 8).toUpperCase();
  const channel = `C${suffix}`;
  const usergroup = `S${suffix}`;
  const [ann, bob, cat, dan] = ['ANN', 'BOB', 'CAT', 'DAN'].map((name) => `U0${name}${suffix}`) as [
    string,
    string,
    string,
    string,
  ];
  const team = await db.team.create({ data: { name: `downtime-${suffix.toLowerCase()}`, slackChannelId: channel } });
  const schedule = await createSchedule(db, 'https://escalator.example.com', {
    name: 'Payments primary',
    timeZone: 'UTC',
    rotations: [{ name: 'Primary', kind: 'weekly', handoff: '2026-01-05T09:00', members: [ann] }],
    teamId: team.id,
    handoffNotices: true,
    slackUsergroupId: usergroup,
  });
  const first = await startWorker();
  const watcher = client.workflow.getHandle(scheduleHandoffsWorkflowId(schedule.id));
  let t0: number;
  try {
    await tellHandoffWatcher(client, { scheduleId: schedule.id, taskQueue, watched: true });
    await waitFor('the user group set to who is on call now', () => slack.usergroup(usergroup)?.[0] === ann);
    // Three handoffs two seconds apart: bob, then cat, then dan for a minute. The watcher looks
    // again (as after the API's override routes) and sleeps until the first; then its worker stops.
    t0 = Date.now();
    await addOverride(db, schedule.id, { start: t0 + 8_000, end: t0 + 10_000, addUserId: bob, removeUserId: ann });
    await addOverride(db, schedule.id, { start: t0 + 10_000, end: t0 + 12_000, addUserId: cat, removeUserId: ann });
    await addOverride(db, schedule.id, { start: t0 + 12_000, end: t0 + 70_000, addUserId: dan, removeUserId: ann });
    await tellHandoffWatcher(client, { scheduleId: schedule.id, taskQueue, watched: true });
    await waitFor('the watcher to look again and sleep', async () => {
      const events = (await watcher.fetchHistory()).events ?? [];
      const signals = events.filter((event) => event.workflowExecutionSignaledEventAttributes).length;
      return signals === 2 && events.at(-1)?.timerStartedEventAttributes;
    });
  } finally {
    await first.stop();
  }
  expect(Date.now()).toBeLessThan(t0 + 8_000);

  await new Promise((resolve) => setTimeout(resolve, t0 + 13_000 - Date.now()));
  const second = await startWorker();
  try {
    await waitFor('the notice on wake', () => slack.messages(channel).length >= 1);
    await waitFor('the group to follow', () => slack.usergroup(usergroup)?.[0] === dan);
    // Time for any further notice to show up: there must be none.
    await new Promise((resolve) => setTimeout(resolve, 1_000));

    const notices = slack.messages(channel).map((message) => message.text ?? '');
    expect(notices).toHaveLength(1);
    expect(notices[0]).toContain(`<@${dan}> on call for *Payments primary* now`);
    expect(notices[0]).toContain(`Off call: \`${ann}\``);
  } finally {
    await watcher.terminate('test over').catch(() => undefined);
    await second.stop();
  }
}, 60_000);
