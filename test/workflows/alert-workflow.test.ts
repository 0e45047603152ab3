/**
 * The alert lifecycle on the time-skipping test server, with the real 5-minute default timeout.
 * Activities are typed fakes that record what the workflow asked Slack and the database to do.
 * No test here queries the workflow: on the test server a query leaves its clock locked for the
 * tests after it (the state query is proven end to end on the dev server instead).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { ApplicationFailure } from '@temporalio/common';
import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { AlertActivities, ChannelActivities } from '../../src/activities';
import type { PageGuard } from '../../src/activities/slack-activities';
import type { AlertEventInput } from '../../src/activities/timeline-activities';
import type { OnCallAnswer } from '../../src/activities/oncall-activities';
import type { AlertContent, AlertHolder, AlertView } from '../../src/domain/alert';
import { SLACK_PACED_RATE_LIMITED, SLACK_PERMANENT_ERROR } from '../../src/domain/failures';
import {
  actionSignal,
  alertSearchAttributes,
  channelTurnSignal,
  maintenanceChangedSignal,
  occurrenceSignal,
  resolutionSignal,
  statusQuery,
  type AlertActionTaken,
  type AlertOccurrence,
  type AlertWorkflowInput,
} from '../../src/workflows/definitions';
import { REPEAT_REWRITE_INTERVAL_MS, type alertWorkflow } from '../../src/workflows/alert-workflow';
import { waitFor } from '../helpers/wait';

const FIVE_MINUTES = 5 * 60_000;

/** With RECORD_HISTORIES=1, keeps a scenario's history as a replay fixture (test/workflows/replay.test.ts). */
async function recordHistory(name: string, handle: WorkflowHandle): Promise<void> {
  if (process.env.RECORD_HISTORIES !== '1') return;
  const dir = path.join(__dirname, '../fixtures/histories');
  writeFileSync(
    path.join(dir, `${name}.binpb`),
    temporal.api.history.v1.History.encode(await handle.fetchHistory()).finish()
  );
  // Replayed under its own id (replay.test.ts): channel turns are named after it.
  const ids = path.join(dir, 'workflow-ids.json');
  const known = JSON.parse(readFileSync(ids, 'utf8')) as Record<string, string>;
  writeFileSync(ids, `${JSON.stringify({ ...known, [`${name}.binpb`]: handle.workflowId }, null, 2)}\n`);
}

interface SlackCall {
  activity: 'postAlertMessage' | 'updateAlertMessage' | 'notifyInThread' | 'sendDirectMessage';
  view: AlertView;
  calling?: AlertHolder;
  userId?: string;
}

/** Activities a test can hold: the Slack calls, and the turn of a busy channel. */
type Stallable = SlackCall['activity'] | 'requestChannelTurn';

/** A Slack call held until the test lets it go, as a slow Slack would hold it. */
interface StalledCall {
  /** Resolves once the workflow has made the call. */
  started: Promise<void>;
  release(): void;
}

/**
 * Fake activities that record every call, plus knobs to make Slack fail or stall. They keep a
 * fake intake journal as the gateway does: each press or resolution a test sends is written there
 * with its id before it is signalled, and paging activities check it as the real ones do.
 */
function recordingActivities() {
  const slackCalls: SlackCall[] = [];
  const events: AlertEventInput[] = [];
  let ts = 0;
  let postFailure: Error | undefined;
  const stalls = new Map<Stallable, { begin: () => void; released: Promise<void> }>();
  let threadRefusals = 0;
  const turnRequests: Array<{ kind: string; retryAfterMs?: number }> = [];
  /** What the team's schedule answers (null: the team has none). */
  let onCall: OnCallAnswer = null;
  const whoIsOnCall = jest.fn(async (_input: { teamId: string; at: number }) => onCall);
  /** The team's maintenance window: from when until when (workflow time, ms), or none. */
  let maintenance: { from: number; until: number | null; reason: string } | undefined;
  const maintenanceFor = jest.fn(async ({ at }: { at: number }) =>
    maintenance && at >= maintenance.from && (maintenance.until === null || at < maintenance.until)
      ? { active: true, until: maintenance.until, reason: maintenance.reason }
      : { active: false, until: null, reason: null }
  );
  /** Ids of the presses and resolutions taken so far. */
  const stopsTaken: number[] = [];
  let lastReportId = 0;
  const stopTaken = (guard: PageGuard | undefined) => !!guard && stopsTaken.some((id) => id > guard.seenReportId);
  async function stallIfAsked(activity: Stallable): Promise<void> {
    const stall = stalls.get(activity);
    if (!stall) return;
    stalls.delete(activity);
    stall.begin();
    await stall.released;
  }
  const activities: AlertActivities = {
    postAlertMessage: jest.fn(async (view: AlertView, guard?: PageGuard) => {
      if (postFailure) throw postFailure;
      if (stopTaken(guard)) return 'stopped' as const;
      slackCalls.push({ activity: 'postAlertMessage', view, calling: view.calling });
      return { channel: view.team.slackChannelId, ts: `1700000000.${String(++ts).padStart(6, '0')}` };
    }),
    updateAlertMessage: jest.fn(async ({ view }) => {
      await stallIfAsked('updateAlertMessage');
      slackCalls.push({ activity: 'updateAlertMessage', view, calling: view.calling });
    }),
    notifyInThread: jest.fn(async ({ view, calling, guard }) => {
      if (stopTaken(guard)) return 'stopped';
      await stallIfAsked('notifyInThread');
      if (threadRefusals > 0) {
        threadRefusals -= 1;
        // What the real activity throws when Slack answers 429 to a call made at its slot.
        throw ApplicationFailure.create({
          message: 'Slack rate-limited chat.postMessage; retrying after 3 s',
          type: SLACK_PACED_RATE_LIMITED,
          nonRetryable: true,
          details: [{ retryAfterSeconds: 3, method: 'chat.postMessage' }],
        });
      }
      slackCalls.push({ activity: 'notifyInThread', view, calling });
      return 'sent';
    }),
    sendDirectMessage: jest.fn(async ({ view, userId, guard }) => {
      if (stopTaken(guard)) return 'stopped';
      await stallIfAsked('sendDirectMessage');
      slackCalls.push({ activity: 'sendDirectMessage', view, userId });
      return 'sent';
    }),
    recordAlertEvent: jest.fn(async (event: AlertEventInput) => {
      events.push(event);
    }),
    whoIsOnCall,
    maintenanceFor,
  };
  return {
    activities,
    slackCalls,
    events,
    /** Who was called (thread mention or @channel), in order. */
    called: () =>
      slackCalls
        .filter((call) => call.activity === 'notifyInThread')
        .map((call) => (call.calling?.kind === 'engineer' ? call.calling.userId : 'team')),
    directMessages: () => slackCalls.filter((c) => c.activity === 'sendDirectMessage').map((c) => c.userId),
    posts: () => slackCalls.filter((c) => c.activity === 'postAlertMessage'),
    lastUpdate: () => slackCalls.filter((c) => c.activity === 'updateAlertMessage').at(-1)?.view,
    eventTypes: () => events.map((event) => event.type),
    failPostsWith: (error: Error) => (postFailure = error),
    whoIsOnCall,
    /** The team's schedule says this person is on call. */
    scheduleSays: (answer: OnCallAnswer) => (onCall = answer),
    /** A maintenance window of the team, in workflow time (ms); undefined: none. */
    maintenanceSays: (window: typeof maintenance) => (maintenance = window),
    maintenanceFor,
    /** Holds the next call of `activity` until released (`requestChannelTurn`: a turn slow to come). */
    stallNext(activity: Stallable): StalledCall {
      let begin!: () => void;
      let release!: () => void;
      const started = new Promise<void>((resolve) => (begin = resolve));
      const released = new Promise<void>((resolve) => (release = resolve));
      stalls.set(activity, { begin, released });
      return { started, release };
    },
    /** Called before the fake pacer grants a turn: a test can hold it (a channel that is busy). */
    awaitTurn: (request: { kind: string; retryAfterMs?: number }) => {
      turnRequests.push({ kind: request.kind, retryAfterMs: request.retryAfterMs });
      return stallIfAsked('requestChannelTurn');
    },
    turnRequests,
    /** Slack answers the next `times` thread calls 429 although their turn came. */
    refuseThreadCalls: (times: number) => (threadRefusals = times),
    /** Writes a journal entry as the gateway does before it answers; returns its id for the signal. */
    journal(kind: 'occurrence' | 'stop'): number {
      lastReportId += 1;
      if (kind === 'stop') stopsTaken.push(lastReportId);
      return lastReportId;
    },
  };
}

type Recording = ReturnType<typeof recordingActivities>;

let env: TestWorkflowEnvironment;
let worker: Worker;
let workerRun: Promise<void>;
const taskQueue = `alert-workflow-test-${randomUUID()}`;
/** The recording of the test that runs now: the one worker of this file forwards to it. */
let current: Recording;

beforeAll(async () => {
  env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: process.env.TEMPORAL_TEST_SERVER_PATH as string } },
  });
  // The test server knows no custom search attributes until they are registered.
  await env.connection.operatorService.addSearchAttributes({
    namespace: 'default',
    searchAttributes: Object.fromEntries(
      Object.values(alertSearchAttributes).map((key) => [
        key.name,
        temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
      ])
    ),
  });
  // One worker for the whole file: a worker shut down with a task in hand leaves the test server's
  // clock locked for the tests after it.
  const forwardTo = (): AlertActivities => current.activities;
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await bundleWorkflowCode({ workflowsPath: require.resolve('../../src/workflows') }),
    activities: {
      postAlertMessage: (view, guard) => forwardTo().postAlertMessage(view, guard),
      updateAlertMessage: (input) => forwardTo().updateAlertMessage(input),
      notifyInThread: (input) => forwardTo().notifyInThread(input),
      sendDirectMessage: (input) => forwardTo().sendDirectMessage(input),
      recordAlertEvent: (input) => forwardTo().recordAlertEvent(input),
      whoIsOnCall: (input) => forwardTo().whoIsOnCall(input),
      maintenanceFor: (input) => forwardTo().maintenanceFor(input),
      // The channel's pacer is not under test here (channel-workflow.test.ts): every turn comes at once.
      requestChannelTurn: async (request) => {
        const { workflowId, requestId } = request;
        await current.awaitTurn(request);
        await env.client.workflow.getHandle(workflowId).signal(channelTurnSignal, { requestId });
        return {};
      },
      withdrawChannelTurn: async () => ({ declined: false }),
    } satisfies AlertActivities & Pick<ChannelActivities, 'requestChannelTurn' | 'withdrawChannelTurn'>,
  });
  workerRun = worker.run();
}, 120_000);

afterAll(async () => {
  worker?.shutdown();
  await workerRun;
  await env?.teardown();
});

const content: AlertContent = { title: 'Disk full on db-1', severity: 'critical', source: 'generic' };

interface Scenario {
  handle: WorkflowHandle<typeof alertWorkflow>;
  rec: Recording;
  alertId: string;
  press: (action: AlertActionTaken['action'], userId: string, pressId?: string) => Promise<void>;
  repeat: () => Promise<void>;
}

/**
 * Starts an alert the way the gateway does (signal-with-start with the first occurrence) and runs
 * `body` while a worker with recording activities serves it.
 */
async function withAlert(
  options: { engineers?: string[]; maxHistoryEvents?: number; rec?: Recording; notice?: boolean; scheduleId?: string },
  body: (scenario: Scenario) => Promise<void>
): Promise<void> {
  const rec = options.rec ?? recordingActivities();
  current = rec;
  const alertId = randomUUID();
  const input: AlertWorkflowInput = {
    alertId,
    fingerprint: 'disk-full-db-1',
    team: {
      id: randomUUID(),
      name: 'ops',
      slackChannelId: 'C0OPS',
      engineers: options.engineers ?? ['U1ALICE', 'U2BOB', 'U3CAROL'],
      escalationTimeoutMs: FIVE_MINUTES,
      ...(options.scheduleId ? { scheduleId: options.scheduleId } : {}),
    },
    content,
    maxHistoryEvents: options.maxHistoryEvents,
    notice: options.notice,
  };
  const handle = await env.client.workflow.signalWithStart<typeof alertWorkflow, [AlertOccurrence]>('alertWorkflow', {
    workflowId: `alert/ops/${randomUUID()}`,
    taskQueue,
    args: [input],
    signal: occurrenceSignal,
    signalArgs: [{ alertId, content, receivedAt: new Date(await env.currentTimeMs()).toISOString() }],
  });
  let presses = 0;
  const scenario: Scenario = {
    handle,
    rec,
    alertId,
    press: (action, userId, pressId = `press-${++presses}`) =>
      handle.signal(actionSignal, {
        action,
        userId,
        userName: userId.toLowerCase(),
        pressId,
        reportId: rec.journal('stop'),
      }),
    repeat: async () =>
      handle.signal(occurrenceSignal, {
        alertId,
        content,
        receivedAt: new Date(await env.currentTimeMs()).toISOString(),
        reportId: rec.journal('occurrence'),
      }),
  };
  try {
    await waitFor('the alert to be posted', () => rec.posts().length === 1 || rec.eventTypes().includes('slack_error'));
    await body(scenario);
  } finally {
    // Each alert ends the way alerts end, never by termination: the test server keeps its clock
    // locked for good when a workflow is terminated while a worker holds one of its tasks.
    await handle
      .signal(actionSignal, { action: 'close', userId: 'U0CLEANUP', pressId: 'cleanup' })
      .catch(() => undefined);
    await handle.result().catch(() => undefined);
  }
}

describe('alert workflow', () => {
  test('posts the alert to the team channel, assigned to and mentioning the first engineer', async () => {
    await withAlert({}, async ({ rec }) => {
      const [post] = rec.posts();
      expect(post?.view.team.slackChannelId).toBe('C0OPS');
      expect(post?.view.holder).toEqual({ kind: 'engineer', userId: 'U1ALICE' });
      expect(post?.calling).toEqual({ kind: 'engineer', userId: 'U1ALICE' });
      expect(post?.view.state).toBe('open');
      expect(post?.view.occurrences).toBe(1);
      await waitFor('the posted event', () => rec.eventTypes().includes('posted'));
    });
  });

  test('a team with a schedule: assigned to whoever is on call, saying why, and escalated to the next person on call', async () => {
    const rec = recordingActivities();
    rec.scheduleSays({
      userId: 'U9DANA',
      users: ['U9DANA'],
      reason: 'on call in Primary until Mon 09:00',
      next: 'U3CAROL',
      until: null,
      scheduleId: 'schedule-1',
      version: 4,
    });
    await withAlert({ rec, scheduleId: 'schedule-1' }, async () => {
      const [post] = rec.posts();
      expect(post?.calling).toEqual({ kind: 'engineer', userId: 'U9DANA' });
      expect(post?.view.assignedBecause).toBe('on call in Primary until Mon 09:00');
      expect(rec.events[0]).toMatchObject({
        type: 'assigned',
        message: 'Assigned to U9DANA (on call in Primary until Mon 09:00)',
        data: { scheduleId: 'schedule-1', version: 4, next: 'U3CAROL' },
        update: { assignee: 'U9DANA' },
      });

      await env.sleep('310s');
      await waitFor('the escalation', () => rec.directMessages().length === 1);
      expect(rec.called()).toEqual(['U3CAROL']);
      expect(rec.lastUpdate()?.assignedBecause).toBeUndefined();
    });
  });

  test('a team with a schedule and nobody on call: the first engineer, and the timeline says so', async () => {
    const rec = recordingActivities();
    rec.scheduleSays({
      userId: null,
      users: [],
      reason: 'nobody is on call in Primary until Mon 09:00',
      next: null,
      until: null,
      scheduleId: 'schedule-2',
      version: 1,
    });
    await withAlert({ rec, scheduleId: 'schedule-2' }, async () => {
      expect(rec.posts()[0]?.calling).toEqual({ kind: 'engineer', userId: 'U1ALICE' });
      expect(rec.events[0]?.message).toBe('Assigned to U1ALICE: nobody is on call in Primary until Mon 09:00');
    });
  });

  test('a team without a schedule never asks for one', async () => {
    const rec = recordingActivities();
    await withAlert({ rec }, async () => {
      expect(rec.posts()[0]?.calling).toEqual({ kind: 'engineer', userId: 'U1ALICE' });
      expect(rec.whoIsOnCall).not.toHaveBeenCalled();
    });
  });

  describe('maintenance windows', () => {
    test('an alert opened in a window is shown but nobody is paged; when the window ends it is paged at once, then escalates as usual', async () => {
      const rec = recordingActivities();
      const now = await env.currentTimeMs();
      rec.maintenanceSays({ from: now - 60_000, until: now + 20 * 60_000, reason: 'deploy' });
      await withAlert({ rec }, async ({ handle }) => {
        expect(rec.posts()[0]?.calling).toBeUndefined();
        await waitFor('the timeline to say why', () => rec.eventTypes().includes('maintenance'));
        expect(rec.events.find((event) => event.type === 'maintenance')?.message).toMatch(
          /^Maintenance \(deploy\) until \d{4}-\d\d-\d\d \d\d:\d\d UTC: shown, nobody paged$/
        );
        expect((await handle.query(statusQuery)).maintenance).toMatchObject({ reason: 'deploy' });

        // Far past the escalation timeout: still nobody called, no DM.
        await env.sleep('15m');
        expect(rec.called()).toEqual([]);
        expect(rec.directMessages()).toEqual([]);

        await env.sleep('5m');
        await waitFor('the holder called when the window ends', () => rec.directMessages().length === 1);
        expect(rec.called()).toEqual(['U1ALICE']);
        expect(rec.events.map((event) => event.message)).toContain('Maintenance over: paged as if it had just arrived');
        expect((await handle.query(statusQuery)).maintenance).toBeUndefined();

        await env.sleep('310s');
        await waitFor('the escalation after the window', () => rec.called().length === 2);
        expect(rec.called()).toEqual(['U1ALICE', 'U2BOB']);
      });
    });

    test('a window that begins while an alert escalates holds its next step; deleting it pages at once', async () => {
      const rec = recordingActivities();
      await withAlert({ rec }, async ({ handle }) => {
        expect(rec.posts()[0]?.calling).toEqual({ kind: 'engineer', userId: 'U1ALICE' });
        rec.maintenanceSays({ from: await env.currentTimeMs(), until: null, reason: 'incident drill' });
        await handle.signal(maintenanceChangedSignal);
        await waitFor('the alert to go quiet', () => rec.eventTypes().includes('maintenance'));

        await env.sleep('20m');
        expect(rec.called()).toEqual([]);

        rec.maintenanceSays(undefined);
        await handle.signal(maintenanceChangedSignal);
        await waitFor('the holder called at once', () => rec.called().length === 1);
        expect(rec.called()).toEqual(['U1ALICE']);
      });
    });

    test('a step falling due inside a recurring window (no signal) is held, and a resolve during the window ends the alert with nobody paged', async () => {
      const rec = recordingActivities();
      await withAlert({ rec }, async ({ handle, alertId }) => {
        const now = await env.currentTimeMs();
        rec.maintenanceSays({ from: now + 60_000, until: now + 3_600_000, reason: 'nightly batch' });
        await env.sleep('310s');
        await waitFor('the step held', () => rec.eventTypes().includes('maintenance'));
        expect(rec.called()).toEqual([]);

        await handle.signal(resolutionSignal, {
          alertId,
          receivedAt: new Date(await env.currentTimeMs()).toISOString(),
          reportId: rec.journal('stop'),
        });
        await waitFor('the alert resolved', () => rec.eventTypes().includes('resolved'));
        await env.sleep('2h');
        expect(rec.called()).toEqual([]);
        expect(rec.directMessages()).toEqual([]);
      });
    });
  });

  test('escalates to the next engineer after 5 minutes and to the whole team after 10', async () => {
    await withAlert({}, async ({ handle, rec }) => {
      await env.sleep('290s');
      expect(rec.called()).toEqual([]);

      await env.sleep('20s');
      await waitFor('the escalation to Bob', () => rec.directMessages().length === 1);
      expect(rec.called()).toEqual(['U2BOB']);
      expect(rec.directMessages()).toEqual(['U2BOB']);
      expect(rec.lastUpdate()?.holder).toEqual({ kind: 'engineer', userId: 'U2BOB' });

      await env.sleep('270s');
      expect(rec.called()).toEqual(['U2BOB']);

      await env.sleep('30s');
      await waitFor('the team call', () => rec.called().length === 2);
      expect(rec.called()).toEqual(['U2BOB', 'team']);
      expect(rec.lastUpdate()?.holder).toEqual({ kind: 'team' });
      await waitFor(
        'both escalations in the timeline',
        () => rec.eventTypes().filter((t) => t === 'escalated').length === 2
      );
      const escalations = rec.events.filter((event) => event.type === 'escalated');
      expect(escalations.map((event) => event.update?.assignee)).toEqual(['U2BOB', null]);

      // The whole team has been called: nobody is paged again.
      await env.sleep('30m');
      expect(rec.called()).toEqual(['U2BOB', 'team']);
      await recordHistory('escalated-to-team', handle);
      expect(rec.lastUpdate()?.state).toBe('open');
      expect((await handle.describe()).status.name).toBe('RUNNING');
    });
  });

  test('an acknowledgement at 4 minutes stops escalation for good', async () => {
    await withAlert({}, async ({ handle, rec, press }) => {
      await env.sleep('4m');
      await press('ack', 'U1ALICE');
      await waitFor('the message to show the acknowledgement', () => rec.lastUpdate()?.state === 'acknowledged');
      expect(rec.lastUpdate()).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'u1alice' });
      expect(rec.eventTypes()).toContain('acknowledged');

      await env.sleep('2h');
      await recordHistory('acknowledged', handle);
      expect(rec.called()).toEqual([]);
      expect(rec.directMessages()).toEqual([]);
      expect(rec.lastUpdate()).toMatchObject({
        state: 'acknowledged',
        holder: { kind: 'engineer', userId: 'U1ALICE' },
      });
      expect((await handle.describe()).status.name).toBe('RUNNING');
    });
  });

  test('pass hands it to the next engineer at once and restarts the timer', async () => {
    await withAlert({}, async ({ rec, press }) => {
      await env.sleep('3m');
      await press('pass', 'U1ALICE');
      await waitFor('the hand-over to Bob', () => rec.directMessages().length === 1);
      expect(rec.called()).toEqual(['U2BOB']);
      expect(rec.directMessages()).toEqual(['U2BOB']);
      await waitFor('the pass in the timeline', () => rec.eventTypes().includes('passed'));

      // 4 minutes after the pass (7 after the alert) nothing has moved: the timer restarted.
      await env.sleep('4m');
      expect(rec.called()).toEqual(['U2BOB']);

      await env.sleep('70s');
      await waitFor('the next escalation', () => rec.called().length === 2);
      expect(rec.called()).toEqual(['U2BOB', 'U3CAROL']);
    });
  });

  test('pass from the last engineer wraps round to the first', async () => {
    await withAlert({ engineers: ['U1ALICE', 'U2BOB'] }, async ({ rec, press }) => {
      await press('pass', 'U1ALICE');
      await waitFor('the pass to Bob', () => rec.called().length === 1);
      await press('pass', 'U2BOB');
      await waitFor('the pass back to Alice', () => rec.called().length === 2);
      expect(rec.called()).toEqual(['U2BOB', 'U1ALICE']);
      await waitFor('both passes in the timeline', () => rec.eventTypes().filter((t) => t === 'passed').length === 2);
    });
  });

  test('escalation past the last engineer calls the whole team', async () => {
    await withAlert({ engineers: ['U1ALICE'] }, async ({ rec }) => {
      await env.sleep('310s');
      await waitFor('the team call', () => rec.called().length === 1);
      expect(rec.called()).toEqual(['team']);
      expect(rec.directMessages()).toEqual([]);
    });
  });

  test('close ends the alert and removes it from escalation', async () => {
    await withAlert({}, async ({ handle, rec, press }) => {
      await press('close', 'U2BOB');
      const final = await handle.result();
      expect(final).toMatchObject({ state: 'closed', endedBy: 'u2bob' });
      expect(rec.lastUpdate()).toMatchObject({ state: 'closed', endedBy: 'u2bob' });
      const closed = rec.events.find((event) => event.type === 'closed');
      expect(closed?.update).toMatchObject({ state: 'closed', endedBy: 'u2bob' });
      expect(rec.called()).toEqual([]);
    });
  });

  test('a resolution from the source resolves the alert', async () => {
    await withAlert({}, async ({ handle, rec, alertId }) => {
      await handle.signal(resolutionSignal, { alertId, receivedAt: new Date().toISOString() });
      expect(await handle.result()).toMatchObject({ state: 'resolved', endedBy: 'source' });
      expect(rec.lastUpdate()?.state).toBe('resolved');
      expect(rec.eventTypes()).toContain('resolved');
    });
  });

  test('a repeat is counted and shown without posting again', async () => {
    await withAlert({}, async ({ rec, repeat }) => {
      await repeat();
      await repeat();
      await waitFor('the message to show ×3', () => rec.lastUpdate()?.occurrences === 3);
      expect(rec.posts()).toHaveLength(1);
      expect(rec.called()).toEqual([]);
    });
  });

  test('repeats folded into one signal count once each, also when the fold is sent again whole or cut differently', async () => {
    await withAlert({}, async ({ handle, rec, alertId, repeat }) => {
      const occurrence = async (reportId: number, earlierReportIds: number[]) =>
        handle.signal(occurrenceSignal, {
          alertId,
          content: { ...content, text: `report ${reportId}` },
          receivedAt: new Date(await env.currentTimeMs()).toISOString(),
          reportId,
          earlierReportIds,
        });
      const [a, b, c, d] = [1, 2, 3, 4].map(() => rec.journal('occurrence')) as [number, number, number, number];

      await occurrence(b, [a]);
      await waitFor('the message to show ×3', () => rec.lastUpdate()?.occurrences === 3);
      // The dispatcher died before marking them: sent again whole, then with later reports.
      await occurrence(b, [a]);
      await occurrence(d, [a, b, c]);
      await waitFor('the message to show ×5', () => rec.lastUpdate()?.occurrences === 5);
      expect(rec.lastUpdate()?.content.text).toBe(`report ${d}`);
      await repeat();
      await waitFor('the message to show ×6', () => rec.lastUpdate()?.occurrences === 6);
      expect(rec.posts()).toHaveLength(1);
    });
  });

  test('repeats within a few seconds rewrite the message once, showing the latest count', async () => {
    await withAlert({}, async ({ rec, repeat }) => {
      const updates = () => rec.slackCalls.filter((c) => c.activity === 'updateAlertMessage').map((c) => c.view);
      await repeat();
      await waitFor('the first repeat shown at once', () => updates().length === 1);
      expect(updates()[0]?.occurrences).toBe(2);
      for (let i = 0; i < 5; i++) await repeat();
      // The test server skips time only once the workflow has handled the repeats.
      await env.sleep(`${REPEAT_REWRITE_INTERVAL_MS + 1_000}ms`);
      await waitFor('the coalesced rewrite', () => updates().length === 2);
      expect(updates()[1]?.occurrences).toBe(7);
      await env.sleep('1m');
      expect(updates()).toHaveLength(2);
      expect(rec.posts()).toHaveLength(1);
    });
  });

  test('a close cancels the pending rewrite of repeats and is the last rewrite of the message', async () => {
    await withAlert({}, async ({ handle, rec, repeat, press }) => {
      const updates = () => rec.slackCalls.filter((c) => c.activity === 'updateAlertMessage').map((c) => c.view);
      await repeat();
      await waitFor('the first repeat shown at once', () => updates().length === 1);
      for (let i = 0; i < 3; i++) await repeat();
      await press('close', 'U1ALICE');
      await handle.result();
      await env.sleep('1m');
      expect(updates().map((view) => view.state)).toEqual(['open', 'closed']);
      // The final rewrite shows the repeats too: nothing was lost by coalescing them.
      expect(updates()[1]?.occurrences).toBe(5);
    });
  });

  test('a thread call that Slack refuses at its turn asks the channel for a new turn after Retry-After, then goes', async () => {
    await withAlert({}, async ({ rec }) => {
      rec.refuseThreadCalls(1);
      await env.sleep('310s');
      await waitFor('the escalation to Bob', () => rec.directMessages().length === 1);
      expect(rec.called()).toEqual(['U2BOB']);
      expect(rec.turnRequests.filter((r) => r.kind === 'call')).toEqual([
        { kind: 'call', retryAfterMs: undefined },
        { kind: 'call', retryAfterMs: 3_000 },
      ]);
      // A refusal that a new turn made good is no failure of the alert's.
      expect(rec.eventTypes()).not.toContain('slack_error');
    });
  });

  test('a button press delivered twice acts once', async () => {
    await withAlert({}, async ({ rec, press }) => {
      await press('pass', 'U1ALICE', 'same-press');
      await press('pass', 'U1ALICE', 'same-press');
      await waitFor('the pass', () => rec.eventTypes().includes('passed'));
      await press('ack', 'U2BOB');
      await waitFor('the acknowledgement', () => rec.eventTypes().includes('acknowledged'));
      expect(rec.eventTypes().filter((type) => type === 'passed')).toHaveLength(1);
      expect(rec.called()).toEqual(['U2BOB']);
    });
  });

  test('presses after the alert is closed change nothing', async () => {
    await withAlert({}, async ({ handle, rec, press }) => {
      await press('close', 'U1ALICE');
      await handle.result();
      const eventsAtClose = rec.eventTypes().length;
      await expect(press('ack', 'U2BOB')).rejects.toThrow();
      expect(rec.eventTypes()).toHaveLength(eventsAtClose);
    });
  });

  test('an alert that repeats a great many times continues as new with its state intact', async () => {
    await withAlert({ maxHistoryEvents: 60 }, async ({ handle, rec, repeat }) => {
      const firstRunId = (await handle.describe()).runId;
      for (let i = 0; i < 80; i++) await repeat();
      await waitFor('all repeats to be counted', () => rec.lastUpdate()?.occurrences === 81, 30_000);
      // The message is rewritten in the workflow task before the one that continues as new: on a
      // loaded machine the new run may start a moment after the update is seen.
      const description = await waitFor(
        'the new run',
        async () => {
          const now = await handle.describe();
          return now.runId !== firstRunId ? now : undefined;
        },
        30_000
      );
      expect(description.runId).not.toBe(firstRunId);
      expect(description.historyLength).toBeLessThan(200);
      expect(rec.posts()).toHaveLength(1);
      expect(rec.lastUpdate()).toMatchObject({ state: 'open', holder: { kind: 'engineer', userId: 'U1ALICE' } });

      // The escalation clock survived the hand-over to the new run.
      await env.sleep('310s');
      await waitFor('the escalation to Bob', () => rec.called().length === 1);
      expect(rec.called()).toEqual(['U2BOB']);
    });
  });

  test('a notice is posted without mentioning anyone and never escalates', async () => {
    await withAlert({ notice: true }, async ({ rec }) => {
      expect(rec.posts()[0]?.calling).toBeUndefined();
      await env.sleep('1h');
      expect(rec.called()).toEqual([]);
      expect(rec.directMessages()).toEqual([]);
    });
  });

  test('a Slack refusal lands in the timeline and the alert goes on escalating', async () => {
    const rec = recordingActivities();
    rec.failPostsWith(ApplicationFailure.nonRetryable('channel_not_found', SLACK_PERMANENT_ERROR));
    await withAlert({ rec }, async ({ handle }) => {
      const error = rec.events.find((event) => event.type === 'slack_error');
      expect(error?.message).toMatch(/channel_not_found/);
      expect((await handle.describe()).status.name).toBe('RUNNING');
      await env.sleep('310s');
      await waitFor('the escalation step in the timeline', () => rec.eventTypes().includes('escalated'));
    });
  });

  describe('nobody is paged after a press or a resolution was answered', () => {
    test('an acknowledgement that arrives while the escalation waits for its turn in the channel: nobody is called', async () => {
      await withAlert({}, async ({ rec, press }) => {
        // The escalation's first step: its thread call waits for a turn in the channel.
        const turn = rec.stallNext('requestChannelTurn');
        // Not awaited: the test server skips no time while an activity runs.
        const escalationDue = env.sleep('310s');
        await turn.started;
        await press('ack', 'U1ALICE');
        turn.release();
        await escalationDue;
        await waitFor('the acknowledgement', () => rec.eventTypes().includes('acknowledged'));
        await waitFor('the message to show it', () => rec.lastUpdate()?.state === 'acknowledged');
        expect(rec.called()).toEqual([]);
        expect(rec.directMessages()).toEqual([]);
        expect(rec.eventTypes()).not.toContain('escalated');
        expect(rec.lastUpdate()?.holder).toEqual({ kind: 'engineer', userId: 'U1ALICE' });
      });
    });

    test('a resolution that arrives while the thread call is sent: no direct message follows', async () => {
      await withAlert({}, async ({ handle, rec, alertId }) => {
        const threadCall = rec.stallNext('notifyInThread');
        const escalationDue = env.sleep('310s');
        await threadCall.started;
        await handle.signal(resolutionSignal, {
          alertId,
          receivedAt: new Date().toISOString(),
          reportId: rec.journal('stop'),
        });
        threadCall.release();
        await escalationDue;
        await waitFor('the resolution', () => rec.eventTypes().includes('resolved'));
        expect(rec.called()).toEqual(['U2BOB']);
        expect(rec.directMessages()).toEqual([]);
      });
    });

    test('a pass that arrives while the escalation to the team is under way calls the next engineer, not the team', async () => {
      await withAlert({ engineers: ['U1ALICE', 'U2BOB'] }, async ({ rec, press }) => {
        await env.sleep('310s');
        await waitFor('the escalation to Bob', () => rec.directMessages().length === 1);
        const turn = rec.stallNext('requestChannelTurn');
        const teamCallDue = env.sleep('310s');
        await turn.started;
        await press('pass', 'U2BOB');
        turn.release();
        await teamCallDue;
        await waitFor('the pass', () => rec.eventTypes().includes('passed'));
        await waitFor('the hand-over to Alice', () => rec.directMessages().length === 2);
        expect(rec.called()).toEqual(['U2BOB', 'U1ALICE']);
        expect(rec.called()).not.toContain('team');
      });
    });

    test('when the journal holds a press the workflow has not had yet, the step pages nobody and waits for it', async () => {
      await withAlert({}, async ({ handle, rec }) => {
        // The press is taken (written to the journal, answered) but its signal is still on its way.
        const reportId = rec.journal('stop');
        await env.sleep('310s');
        await waitFor(
          'the paging activity to stand back',
          () => (rec.activities.notifyInThread as jest.Mock).mock.calls.length === 1
        );
        await handle.signal(actionSignal, { action: 'ack', userId: 'U1ALICE', pressId: 'late', reportId });
        await waitFor('the acknowledgement', () => rec.eventTypes().includes('acknowledged'));
        expect(rec.called()).toEqual([]);
        expect(rec.directMessages()).toEqual([]);
        expect(rec.eventTypes()).not.toContain('escalated');
      });
    });

    test('an alert resolved before its first post is posted as resolved, mentioning nobody', async () => {
      const rec = recordingActivities();
      current = rec;
      const firingId = rec.journal('occurrence');
      // Resolved at once: taken before the workflow ran its first step.
      const resolutionId = rec.journal('stop');
      const alertId = randomUUID();
      const handle = await env.client.workflow.signalWithStart<typeof alertWorkflow, [AlertOccurrence]>(
        'alertWorkflow',
        {
          workflowId: `alert/ops/${randomUUID()}`,
          taskQueue,
          args: [
            {
              alertId,
              fingerprint: 'flap',
              team: {
                id: randomUUID(),
                name: 'ops',
                slackChannelId: 'C0OPS',
                engineers: ['U1ALICE'],
                escalationTimeoutMs: FIVE_MINUTES,
              },
              content,
            },
          ],
          signal: occurrenceSignal,
          signalArgs: [{ alertId, content, receivedAt: new Date().toISOString(), reportId: firingId }],
        }
      );
      await handle.signal(resolutionSignal, { alertId, receivedAt: new Date().toISOString(), reportId: resolutionId });
      await handle.result();
      expect(rec.posts()).toHaveLength(1);
      expect(rec.posts()[0]?.view.state).toBe('resolved');
      expect(rec.posts()[0]?.calling).toBeUndefined();
      expect(rec.called()).toEqual([]);
    });

    test('a journal entry sent twice acts once', async () => {
      await withAlert({}, async ({ handle, rec }) => {
        const pass = { action: 'pass' as const, userId: 'U1ALICE', reportId: rec.journal('stop') };
        await handle.signal(actionSignal, { ...pass, pressId: 'first-press' });
        await handle.signal(actionSignal, { ...pass, pressId: 'another-press-id-same-entry' });
        await waitFor('the pass', () => rec.eventTypes().includes('passed'));
        await handle.signal(actionSignal, {
          action: 'ack',
          userId: 'U2BOB',
          pressId: 'ack',
          reportId: rec.journal('stop'),
        });
        await waitFor('the acknowledgement', () => rec.eventTypes().includes('acknowledged'));
        expect(rec.eventTypes().filter((type) => type === 'passed')).toHaveLength(1);
      });
    });
  });
});
