/**
 * Maintenance windows end to end: the API on the real gateway, the worker, the Temporal dev server,
 * PostgreSQL and the Slack stand-in. During a window an alert is shown without mentioning anyone
 * and nobody is paged; when the window ends (deleted here) an alert still open is paged within
 * seconds; a scoped window leaves other alerts alone; recurring windows answer at any instant.
 */
import { startTestEscalator, type RunningTestEscalator, type TestTeam } from '../helpers/escalator';
import { waitFor } from '../helpers/wait';

let escalator: RunningTestEscalator;

beforeAll(async () => {
  escalator = await startTestEscalator({ ESCALATION_TIMEOUT: '3s' });
}, 60_000);

afterAll(async () => {
  await escalator?.stop();
});

async function api(method: 'POST' | 'DELETE' | 'GET', path: string, body?: unknown) {
  const response = await fetch(`${escalator.url}${path}`, {
    method,
    headers: { ...escalator.adminAuth, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

function alertMessage(channel: string, title: string) {
  return escalator.slack.messages(channel).find((message) => !message.threadTs && message.text?.includes(title));
}

function pagesOf(channel: string, userId: string) {
  return escalator.slack
    .calls('chat.postMessage')
    .filter(
      (call) => call.body.channel === userId || (call.body.thread_ts && String(call.body.text).includes(`<@${userId}>`))
    )
    .filter((call) => call.body.channel === userId || call.body.channel === channel);
}

async function openAlert(team: TestTeam, title: string, extra: Record<string, unknown> = {}) {
  const accepted = await escalator.post(team.webhookPath, { title, severity: 'critical', key: title, ...extra });
  expect(accepted.status).toBe(202);
  return accepted.body as { alertId: string; workflowId: string };
}

test('an alert during a window is shown without a mention and pages nobody; deleting the window pages it within seconds', async () => {
  const team = await escalator.createTeam({ prefix: 'maint', engineers: ['U5ANN', 'U5BOB'] });
  const window = await api('POST', `/api/teams/${team.id}/maintenance`, { reason: 'deploy of checkout' });
  expect(window.status).toBe(201);
  const state = await api('GET', `/api/teams/${team.id}/maintenance`);
  expect(state.body).toMatchObject({
    active: true,
    windows: [{ id: window.body.id, reason: 'deploy of checkout', until: null }],
  });

  const alert = await openAlert(team, 'Checkout 5xx during deploy');

  const posted = await waitFor('the alert shown in the channel', () => alertMessage(team.channel, 'Checkout 5xx'));
  expect(posted.text).not.toContain('<@');
  // Three escalation timeouts pass: nobody is called, no DM.
  await new Promise((resolve) => setTimeout(resolve, 9_000));
  expect(pagesOf(team.channel, 'U5ANN')).toEqual([]);
  expect(pagesOf(team.channel, 'U5BOB')).toEqual([]);
  const detail = await escalator.get(`/api/alerts/${alert.alertId}`, escalator.adminAuth);
  expect(detail.body.timeline.map((event: { message: string }) => event.message)).toContain(
    'Maintenance (deploy of checkout): shown, nobody paged'
  );

  const deletedAt = Date.now();
  expect((await api('DELETE', `/api/teams/${team.id}/maintenance/${window.body.id}`)).status).toBe(204);
  const dm = await waitFor('the holder paged once the window ended', () =>
    escalator.slack.calls('chat.postMessage').find((call) => call.body.channel === 'U5ANN')
  );
  expect(dm.at - deletedAt).toBeLessThan(10_000);
  expect((await api('GET', `/api/teams/${team.id}/maintenance`)).body.active).toBe(false);
}, 60_000);

test('a window scoped by label leaves other alerts alone', async () => {
  const team = await escalator.createTeam({ prefix: 'scoped', engineers: ['U6ANN'] });
  await api('POST', `/api/teams/${team.id}/maintenance`, {
    match: { labels: { service: 'search' } },
    reason: 'reindex',
  });

  await openAlert(team, 'Search is slow', { labels: { service: 'search' } });
  await openAlert(team, 'Payments are down', { labels: { service: 'payments' } });

  const payments = await waitFor('the payments alert', () => alertMessage(team.channel, 'Payments are down'));
  expect(payments.text).toContain('<@U6ANN>');
  const search = await waitFor('the search alert', () => alertMessage(team.channel, 'Search is slow'));
  expect(search.text).not.toContain('<@');
});

test('recurring windows answer at any instant; invalid windows are a 400 naming what is wrong', async () => {
  const team = await escalator.createTeam({ prefix: 'recur' });
  const created = await api('POST', `/api/teams/${team.id}/maintenance`, {
    reason: 'weekend batch',
    recurrence: {
      weekdays: ['saturday', 'sunday'],
      times: [{ start_time: '01:00', end_time: '05:00' }],
      location: 'Europe/Berlin',
    },
  });
  expect(created.status).toBe(201);

  const inside = await api('GET', `/api/teams/${team.id}/maintenance?at=2027-01-02T02:00:00%2B01:00`);
  expect(inside.body).toEqual({
    active: true,
    windows: [{ id: created.body.id, reason: 'weekend batch', until: '2027-01-02T04:00:00.000Z', match: null }],
    next: null,
  });
  const outside = await api('GET', `/api/teams/${team.id}/maintenance?at=2027-01-04T02:00:00Z`);
  expect(outside.body).toMatchObject({ active: false, windows: [], next: { startsAt: '2027-01-09T00:00:00.000Z' } });

  const bad = await api('POST', `/api/teams/${team.id}/maintenance`, { recurrence: { days_of_month: ['-1:5'] } });
  expect(bad.status).toBe(400);
  expect(bad.body.error).toContain('recurrence.days_of_month.0: end day must be negative if start day is negative');
  const backwards = await api('POST', `/api/teams/${team.id}/maintenance`, {
    startsAt: '2027-01-02T10:00:00Z',
    endsAt: '2027-01-02T09:00:00Z',
  });
  expect(backwards.status).toBe(400);
  expect(backwards.body.error).toContain('endsAt');
  expect((await api('DELETE', `/api/teams/${team.id}/maintenance/00000000-0000-4000-8000-000000000000`)).status).toBe(
    404
  );
});
