/**
 * A schedule's handoff watcher on the time-skipping test server, with its real activities: the
 * schedule in the test PostgreSQL (written by the API's own services), notices and the user group
 * at the Slack stand-in. The watcher is started and woken as the gateway does it
 * (oncall/handoff-watch.ts). A wake after downtime is proven on the dev server, in real time
 * (schedule-handoffs-downtime.test.ts): here a timer that fires with no worker holds the clock.
 */
import { randomUUID } from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import { addOverride, createSchedule, deleteSchedule } from '../../src/api/services/schedules';
import { createDatabase, type Database } from '../../src/db/client';
import { createLogger } from '../../src/logger';
import { tellHandoffWatcher } from '../../src/oncall/handoff-watch';
import { createSlackApi } from '../../src/slack/client';
import { scheduleHandoffsWorkflowId } from '../../src/workflows/definitions';
import { startFakeSlack, type FakeSlack } from '../helpers/fake-slack';
import { waitFor } from '../helpers/wait';

const TOKEN = 'xoxb-handoff-test';
const HOUR = 3_600_000;
const WEEK = 7 * 24 * HOUR;
const log = createLogger({ level: 'error' });
const taskQueue = `schedule-handoffs-test-${randomUUID()}`;

let env: TestWorkflowEnvironment;
let slack: FakeSlack;
let db: Database;
let workflowBundle: { code: string };
let worker: Worker;
let workerRun: Promise<void>;

function newWorker(queue: string): Promise<Worker> {
  return Worker.create({
    connection: env.nativeConnection,
    taskQueue: queue,
    workflowBundle,
    activities: createActivities({ slack: createSlackApi({ token: TOKEN, apiUrl: slack.url, log }), db, log }),
  });
}

beforeAll(async () => {
  env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: process.env.TEMPORAL_TEST_SERVER_PATH as string } },
  });
  slack = await startFakeSlack({ token: TOKEN });
  db = createDatabase(process.env.DATABASE_URL as string);
  workflowBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../../src/workflows') });
  worker = await newWorker(taskQueue);
  workerRun = worker.run();
}, 120_000);

afterAll(async () => {
  worker?.shutdown();
  await workerRun;
  await Promise.all([env?.teardown(), slack?.close(), db?.$disconnect()]);
});

const id = () => randomUUID().replace(/-/g, '').slice(0, 8).toUpperCase();

/** `YYYY-MM-DDTHH:MM` of an instant in UTC: a handoff for a schedule in zone UTC. */
function utcLocal(instant: number): string {
  return new Date(instant).toISOString().slice(0, 16);
}

interface Fixture {
  scheduleId: string;
  channel: string;
  usergroup: string;
  members: [string, string, string];
  /** The first handoff named in the rotation: members[0]'s shift starts then (members[2] is on call before). */
  firstHandoff: number;
}

/** A team and a weekly rotation of three people whose next handoff is an hour away, both options on. */
async function weeklySchedule(queue = taskQueue): Promise<Fixture> {
  const suffix = id();
  const channel = `C${suffix}`;
  const usergroup = `S${suffix}`;
  const members: Fixture['members'] = [`U0ANN${suffix}`, `U0BOB${suffix}`, `U0CAT${suffix}`];
  const team = await db.team.create({ data: { name: `handoffs-${suffix.toLowerCase()}`, slackChannelId: channel } });
  const now = await env.currentTimeMs();
  const firstHandoff = Math.ceil((now + HOUR) / 60_000) * 60_000;
  const schedule = await createSchedule(db, 'https://escalator.example.com', {
    name: 'Payments primary',
    timeZone: 'UTC',
    rotations: [{ name: 'Primary', kind: 'weekly', handoff: utcLocal(firstHandoff), members }],
    teamId: team.id,
    handoffNotices: true,
    slackUsergroupId: usergroup,
  });
  await tellHandoffWatcher(env.client, { scheduleId: schedule.id, taskQueue: queue, watched: true });
  return { scheduleId: schedule.id, channel, usergroup, members, firstHandoff };
}

const texts = (channel: string) => slack.messages(channel).map((message) => message.text ?? '');

/** Moves the test server's clock to `instant` (and a second past it), letting the watcher's timer fire. */
async function sleepUntil(instant: number): Promise<void> {
  const now = await env.currentTimeMs();
  await env.sleep(Math.max(instant - now + 1_000, 1));
}

describe('schedule handoff watcher', () => {
  test('sets the user group at once, then posts a notice at each weekly handoff, in order, mentioning who comes on', async () => {
    const { channel, usergroup, members, firstHandoff } = await weeklySchedule();
    const [ann, bob, cat] = members;

    await waitFor('the user group set to who is on call now', () => slack.usergroup(usergroup)?.[0] === cat);
    expect(slack.messages(channel)).toHaveLength(0);

    await sleepUntil(firstHandoff);
    await waitFor('the first notice', () => texts(channel).length === 1);
    await waitFor('the group to follow', () => slack.usergroup(usergroup)?.[0] === ann);
    await sleepUntil(firstHandoff + WEEK);
    await waitFor('the second notice', () => texts(channel).length === 2);
    await sleepUntil(firstHandoff + 2 * WEEK);
    await waitFor('the third notice', () => texts(channel).length === 3);

    const notices = texts(channel);
    expect(notices[0]).toContain(`<@${ann}> on call for *Payments primary* now`);
    expect(notices[0]).toContain(`Off call: \`${cat}\``);
    expect(notices[1]).toContain(`<@${bob}> on call`);
    expect(notices[2]).toContain(`<@${cat}> on call`);
    // Only the person coming on call is pinged; the one going off is named without a ping.
    expect(notices[1]).not.toContain(`<@${ann}>`);
    // Until the next handoff, shown in each reader's own time zone.
    expect(notices[0]).toContain(`<!date^${(firstHandoff + WEEK) / 1000}^`);
    await waitFor('the group to follow', () => slack.usergroup(usergroup)?.[0] === cat);
    expect(slack.usergroup(usergroup)).toEqual([cat]);
  });

  test('an override added mid-shift: the watcher looks again, posts a notice and the user group follows', async () => {
    const { scheduleId, channel, usergroup, members } = await weeklySchedule();
    const cat = members[2];
    await waitFor('the user group set', () => slack.usergroup(usergroup)?.[0] === cat);
    const dan = `U0DAN${id()}`;

    const now = await env.currentTimeMs();
    await addOverride(db, scheduleId, { start: now, end: now + 30 * 60_000, addUserId: dan, removeUserId: cat });
    await tellHandoffWatcher(env.client, { scheduleId, taskQueue, watched: true });

    await waitFor('the group to follow the override', () => slack.usergroup(usergroup)?.[0] === dan);
    await waitFor('a notice of the override', () => texts(channel).length === 1);
    expect(texts(channel)[0]).toContain(`<@${dan}> on call`);
    expect(texts(channel)[0]).toContain(`Off call: \`${cat}\``);

    // The override ends: the watcher had slept until then, and the group goes back.
    await sleepUntil(now + 30 * 60_000);
    await waitFor('the group back to the rotation', () => slack.usergroup(usergroup)?.[0] === cat);
    await waitFor('a notice of the override ending', () => texts(channel).length === 2);
    expect(texts(channel)[1]).toContain(`<@${cat}> on call`);
  });

  test('the schedule deleted: the watcher ends', async () => {
    const { scheduleId, usergroup, members } = await weeklySchedule();
    await waitFor('the user group set', () => slack.usergroup(usergroup)?.[0] === members[2]);

    await deleteSchedule(db, scheduleId);
    await tellHandoffWatcher(env.client, { scheduleId, taskQueue, watched: false });

    await env.client.workflow.getHandle(scheduleHandoffsWorkflowId(scheduleId)).result();
    const { status } = await env.client.workflow.getHandle(scheduleHandoffsWorkflowId(scheduleId)).describe();
    expect(status.name).toBe('COMPLETED');
  });
});
