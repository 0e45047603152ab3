/**
 * End to end on real parts: the gateway over HTTP, the Temporal dev server, a worker, PostgreSQL,
 * and the Slack stand-in. Escalation timeouts are short here; the 5-minute default is proven on
 * the time-skipping server (test/workflows).
 */
import { WorkflowNotFoundError } from '@temporalio/client';
import { channelWorkflowId, statusQuery } from '../../src/workflows/definitions';
import { startTestEscalator, type RunningTestEscalator } from '../helpers/escalator';
import { waitFor } from '../helpers/wait';

let escalator: RunningTestEscalator;
/** A safety net for waits on 2-second escalation steps: they end when the step happens. */
const ESCALATION_CAP_MS = 45_000;

beforeAll(async () => {
  escalator = await startTestEscalator({ ESCALATION_TIMEOUT: '2s' });
}, 60_000);

afterAll(async () => {
  await escalator?.stop();
});

/** Thread replies in a channel, each as its text. */
function threadReplies(channel: string): string[] {
  return escalator.slack
    .calls('chat.postMessage')
    .filter((call) => call.body.channel === channel && call.body.thread_ts)
    .map((call) => String(call.body.text));
}

/** Replies in the thread of the message `ts`, each as its text. */
function repliesIn(ts: string): string[] {
  return escalator.slack
    .calls('chat.postMessage')
    .filter((call) => call.body.thread_ts === ts)
    .map((call) => String(call.body.text));
}

function directMessages() {
  return escalator.slack.messages().filter((message) => message.channel.startsWith('D'));
}

function alertMessage(channel: string) {
  return escalator.slack.messages(channel).find((message) => !message.threadTs);
}

function buttons(channel: string): string[] {
  const blocks = alertMessage(channel)?.blocks ?? [];
  return blocks.flatMap((block) => (block.type === 'actions' ? block.elements.map((e: any) => e.action_id) : []));
}

test('webhook → Slack post → signed ack → message shows the owner, and nobody is escalated to', async () => {
  const team = await escalator.createTeam({ prefix: 'e2e' });
  const accepted = await escalator.post(team.webhookPath, {
    title: 'Disk almost full on db-1',
    severity: 'critical',
    key: 'disk-db-1',
  });
  expect(accepted.status).toBe(202);
  expect(accepted.body).toMatchObject({ duplicate: false, workflowId: `alert/${team.name}/disk-db-1` });

  const posted = await waitFor('the alert message', () => alertMessage(team.channel));
  expect(posted.text).toContain('Disk almost full on db-1');
  expect(posted.text).toContain('<@U0ALICE>');
  expect(buttons(team.channel)).toEqual(['ack', 'close', 'pass']);

  expect(
    await escalator.press({ action: 'ack', workflowId: accepted.body.workflowId, userId: 'U0ALICE', userName: 'alice' })
  ).toBe(200);
  await waitFor('the message to show the acknowledgement', () =>
    /acknowledged/i.test(alertMessage(team.channel)?.text ?? '')
  );
  expect(alertMessage(team.channel)?.text).toContain('alice');

  const handle = escalator.temporal.workflow.getHandle(accepted.body.workflowId);
  // The acknowledger is kept as their Slack id, and shown by the name Slack gave with the press.
  expect(await handle.query(statusQuery)).toMatchObject({
    state: 'acknowledged',
    acknowledgedBy: 'U0ALICE',
    acknowledgedByName: 'alice',
  });

  // A control alert of the same team, raised after the acknowledgement, runs through both escalation
  // steps: the acknowledged alert's timers, due earlier, have had every chance to fire by then.
  await escalator.post(team.webhookPath, { title: 'Control: certificate expiring', key: 'control-cert' });
  const control = await waitFor('the control alert', () =>
    escalator.slack.messages(team.channel).find((message) => message.text?.includes('Control: certificate'))
  );
  await waitFor(
    'the control alert to call the whole team',
    () => repliesIn(control.ts).some((text) => text.includes('<!channel>')),
    ESCALATION_CAP_MS
  );
  expect(repliesIn(posted.ts)).toEqual([]);
  expect(directMessages().filter((message) => message.text?.includes('Disk almost full on db-1'))).toEqual([]);

  const detail = await escalator.get(`/api/alerts/${accepted.body.alertId}`, escalator.adminAuth);
  expect(detail.status).toBe(200);
  expect(detail.body).toMatchObject({ state: 'acknowledged', occurrences: 1, acknowledgedBy: 'U0ALICE' });
  expect(detail.body.timeline.map((event: { type: string }) => event.type)).toEqual(
    expect.arrayContaining(['received', 'posted', 'acknowledged'])
  );
  // A quiet channel: every post and call took its turn from the channel's shared bucket at once,
  // and no pacer workflow was ever started for it.
  await expect(escalator.temporal.workflow.getHandle(channelWorkflowId(team.channel)).describe()).rejects.toThrow(
    WorkflowNotFoundError
  );
});

test('nobody acknowledges: the next engineer is called, then the team; the source resolves it', async () => {
  const team = await escalator.createTeam({ prefix: 'e2e', engineers: ['U0CAROL', 'U0DAVE', 'U0ERIN'] });
  const path = team.webhookPath;
  const opened = await escalator.post(path, { title: 'API 5xx rate high', key: 'api-5xx' });
  const repeated = await escalator.post(path, { title: 'API 5xx rate high', key: 'api-5xx' });
  expect(repeated.body).toMatchObject({ alertId: opened.body.alertId, duplicate: true });

  const handle = escalator.temporal.workflow.getHandle(opened.body.workflowId);
  const { escalationDueAt } = await waitFor('the escalation clock', async () => {
    const status = await handle.query(statusQuery);
    return status.escalationDueAt ? status : undefined;
  });
  await waitFor('the call to Dave', () => threadReplies(team.channel).length >= 1, ESCALATION_CAP_MS);
  expect(threadReplies(team.channel)[0]).toContain('<@U0DAVE>');
  // The call's turn is booked ahead of its time, and the call still never goes before it.
  const call = escalator.slack
    .calls('chat.postMessage')
    .find((c) => c.body.channel === team.channel && c.body.thread_ts);
  expect(call!.at).toBeGreaterThanOrEqual(Date.parse(escalationDueAt!));
  await waitFor('a direct message to Dave', () => escalator.slack.messages('DU0DAVE').length === 1);
  await waitFor('the team call', () => threadReplies(team.channel).length >= 2, ESCALATION_CAP_MS);
  expect(threadReplies(team.channel)[1]).toContain('<!channel>');
  expect(threadReplies(team.channel).join('\n')).not.toContain('<@U0ERIN>');

  const resolved = await escalator.post(path, { title: 'API 5xx rate high', key: 'api-5xx', status: 'resolved' });
  expect(resolved.status).toBe(202);
  await waitFor('the message to show it resolved', () => /resolved/i.test(alertMessage(team.channel)?.text ?? ''));
  expect(buttons(team.channel)).toEqual([]);
  await waitFor('the alert to be resolved in the database', async () => {
    const detail = await escalator.get(`/api/alerts/${opened.body.alertId}`, escalator.adminAuth);
    return detail.body.state === 'resolved' && detail.body.occurrences === 2;
  });
  // Only one alert message was ever posted to the channel.
  expect(escalator.slack.messages(team.channel).filter((message) => !message.threadTs)).toHaveLength(1);
});

test('deleting a team with ?closeOpenAlerts=true ends its running alerts: workflow, timeline and message say why', async () => {
  const team = await escalator.createTeam({ prefix: 'e2e' });
  const opened = await escalator.post(team.webhookPath, { title: 'Queue backlog growing', key: 'queue-backlog' });
  await waitFor('the alert message', () => alertMessage(team.channel));

  const response = await fetch(`${escalator.url}/api/teams/${team.id}?closeOpenAlerts=true`, {
    method: 'DELETE',
    headers: escalator.adminAuth,
  });

  expect(response.status).toBe(200);
  expect(await response.json()).toMatchObject({ closedAlertIds: [opened.body.alertId], alertsKept: 1 });
  const handle = escalator.temporal.workflow.getHandle(opened.body.workflowId);
  expect(await handle.result()).toMatchObject({ state: 'closed', endedBy: 'the admin API' });
  const detail = await escalator.get(`/api/alerts/${opened.body.alertId}`, escalator.adminAuth);
  expect(detail.status).toBe(200);
  expect(detail.body).toMatchObject({ teamName: team.name, state: 'closed', endedBy: 'the admin API' });
  expect(detail.body.timeline).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ type: 'closed', message: `Closed by the admin API: team ${team.name} was deleted` }),
    ])
  );
  await waitFor('the message to show it closed', () => /closed/i.test(alertMessage(team.channel)?.text ?? ''));
  expect(buttons(team.channel)).toEqual([]);
});

test('16 senders repeating one alert at once: database, workflow and Slack message each count every report once, then it resolves', async () => {
  const team = await escalator.createTeam({ prefix: 'e2e' });
  const alert = { title: 'CPU high on web-1', key: 'cpu-web-1' };
  const opened = await escalator.post(team.webhookPath, alert);

  const answers = await Promise.all(
    Array.from({ length: 16 }, async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await escalator.post(team.webhookPath, alert)).status);
      return statuses;
    })
  );
  const resolved = await escalator.post(team.webhookPath, { ...alert, status: 'resolved' });

  expect(answers.flat()).toEqual(Array(80).fill(202));
  expect(resolved.status).toBe(202);
  const handle = escalator.temporal.workflow.getHandle(opened.body.workflowId);
  expect(await handle.result()).toMatchObject({ state: 'resolved', occurrences: 81 });
  const detail = await escalator.get(`/api/alerts/${opened.body.alertId}`, escalator.adminAuth);
  expect(detail.body).toMatchObject({ state: 'resolved', occurrences: 81 });
  expect(JSON.stringify(alertMessage(team.channel)?.blocks)).toContain('×81');
});

test('alert text can never ping anyone or become a link in Slack', async () => {
  const team = await escalator.createTeam({ prefix: 'e2e' });
  await escalator.post(team.webhookPath, {
    title: '<!channel> <@U0BOB> <https://evil.example|click me>',
    text: '<!here> & <!subteam^S123>',
  });
  const posted = await waitFor('the alert message', () => alertMessage(team.channel));
  const everything = JSON.stringify(posted.blocks) + posted.text;
  expect(everything).not.toMatch(/<!channel>|<!here>|<@U0BOB>|<https:\/\/evil|<!subteam/);
  expect(everything).toContain('&lt;!channel&gt;');
});

test('a Pass delivered twice at once (same action_ts, as a proxy or a client retry sends it) acts once: the next engineer is called once', async () => {
  // An hour's timeout: the next escalation step must not come into what this test counts.
  const team = await escalator.createTeam({
    prefix: 'twice',
    engineers: ['U7ANN', 'U7BOB', 'U7CAT'],
    escalationTimeout: '1h',
  });
  const accepted = await escalator.post(team.webhookPath, {
    title: 'Queue backing up',
    severity: 'error',
    key: 'queue',
  });
  await waitFor('the alert message', () => alertMessage(team.channel));

  const press = {
    action: 'pass',
    workflowId: accepted.body.workflowId,
    userId: 'U7ANN',
    actionTs: '1765000000.000100',
  };
  const answers = await Promise.all([escalator.press(press), escalator.press(press)]);

  expect(answers).toEqual([200, 200]);
  await waitFor('the next engineer called', () =>
    escalator.slack.calls('chat.postMessage').find((call) => call.body.channel === 'U7BOB')
  );
  const detail = await waitFor('the pass in the timeline', async () => {
    const read = await escalator.get(`/api/alerts/${accepted.body.alertId}`, escalator.adminAuth);
    return read.body.timeline.some((event: { type: string }) => event.type === 'passed') ? read.body : undefined;
  });
  expect(detail.timeline.filter((event: { type: string }) => event.type === 'passed')).toHaveLength(1);
  expect(detail.assignee).toBe('U7BOB');
  expect(escalator.slack.calls('chat.postMessage').filter((call) => call.body.channel === 'U7BOB')).toHaveLength(1);
  expect(escalator.slack.calls('chat.postMessage').filter((call) => call.body.channel === 'U7CAT')).toHaveLength(0);
});
