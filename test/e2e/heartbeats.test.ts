/**
 * Heartbeat monitors end to end: the admin API and the ping URL over HTTP, the gateway's sweeper,
 * the intake, the Temporal dev server, a worker, PostgreSQL and the Slack stand-in. The gateway's
 * clock is the test's, so that a deadline minutes away passes when the test says; the sweeper is
 * also run on demand, after which whatever it had to report is in PostgreSQL.
 */
import { startTestEscalator, type RunningTestEscalator } from '../helpers/escalator';
import { missingSenders, startAlertmanager } from '../helpers/real-senders';
import { waitFor } from '../helpers/wait';

let escalator: RunningTestEscalator;
/** How far the gateway's clock is ahead of the real one. */
let aheadMs = 0;
const now = () => Date.now() + aheadMs;

beforeAll(async () => {
  escalator = await startTestEscalator({ ESCALATION_TIMEOUT: '1h' }, { gateway: { clock: now } });
}, 60_000);

afterAll(async () => {
  await escalator?.stop();
});

/** Moves the gateway's clock to `at` (never backwards). */
function setClock(at: number): void {
  aheadMs = Math.max(aheadMs, at - Date.now());
}

async function call(method: string, path: string, body?: unknown) {
  const response = await fetch(`${escalator.url}${path}`, {
    method,
    headers: { ...escalator.adminAuth, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

interface TestMonitor {
  id: string;
  pingPath: string;
}

async function createMonitor(teamId: string, fields: Record<string, unknown>): Promise<TestMonitor> {
  const created = await call('POST', '/api/heartbeats', { teamId, ...fields });
  expect(created.status).toBe(201);
  return { id: created.body.id, pingPath: new URL(created.body.pingUrl as string).pathname };
}

/** Pings as a cron job's `curl` would; returns the status and when the gateway recorded the ping. */
async function ping(monitor: TestMonitor, method = 'GET', init: RequestInit = {}) {
  const response = await fetch(`${escalator.url}${monitor.pingPath}`, { method, ...init });
  await response.arrayBuffer();
  const read = await call('GET', `/api/heartbeats/${monitor.id}`);
  return { status: response.status, at: Date.parse(read.body?.lastPingAt as string) };
}

function heartbeatAlert(monitorId: string) {
  return escalator.db.alert.findFirst({ where: { fingerprint: `heartbeat/${monitorId}` } });
}

function hhmm(at: number): string {
  return new Date(at).toISOString().slice(11, 16);
}

test('a monitor is inactive until its first ping, then healthy until interval + grace later', async () => {
  const team = await escalator.createTeam({ prefix: 'hb' });
  const monitor = await createMonitor(team.id, { name: 'nightly-backup', interval: '5m', grace: '30s' });
  expect((await call('GET', `/api/heartbeats/${monitor.id}`)).body).toMatchObject({
    name: 'nightly-backup',
    interval: '5m',
    grace: '30s',
    state: 'inactive',
    paused: false,
    dueAt: null,
  });

  // Never pinged: no deadline to miss, however long it stays quiet.
  setClock(now() + 3_600_000);
  await escalator.sweepHeartbeats();
  expect(await heartbeatAlert(monitor.id)).toBeNull();

  const first = await ping(monitor);
  expect(first.status).toBe(204);
  const read = await call('GET', `/api/heartbeats/${monitor.id}`);
  expect(read.body).toMatchObject({ state: 'healthy' });
  expect(Date.parse(read.body.lastPingAt as string)).toBeGreaterThanOrEqual(first.at);
  expect(Date.parse(read.body.dueAt as string) - Date.parse(read.body.lastPingAt as string)).toBe(330_000);
});

test('a silent monitor opens an alert in its team channel, paging its team, and the next ping resolves it', async () => {
  const team = await escalator.createTeam({ prefix: 'hb' });
  const monitor = await createMonitor(team.id, { name: 'nightly-backup', interval: '1m', grace: '10s' });
  const last = await ping(monitor);

  setClock(last.at + 70_001);
  const posted = await waitFor(
    'the alert message in the team channel',
    () => escalator.slack.messages(team.channel).find((message) => !message.threadTs),
    20_000
  );
  expect(posted.text).toContain(`No heartbeat from nightly-backup since ${hhmm(last.at)}`);
  expect(posted.text).toContain('<@U0ALICE>');
  const alert = await heartbeatAlert(monitor.id);
  expect(alert).toMatchObject({ state: 'open', source: 'heartbeat', teamId: team.id });
  expect((await call('GET', `/api/heartbeats/${monitor.id}`)).body).toMatchObject({ state: 'unhealthy' });

  // Alertmanager's webhook to the ping URL: its body is not read.
  const alertmanagerPing = await ping(monitor, 'POST', {
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ version: '4', status: 'firing', alerts: [{ labels: { alertname: 'Watchdog' } }] }),
  });
  expect(alertmanagerPing.status).toBe(204);
  await waitFor('the alert to be resolved', async () => (await heartbeatAlert(monitor.id))?.state === 'resolved');
  await waitFor('the message to show it resolved', () =>
    /resolved/i.test(escalator.slack.messages(team.channel).find((message) => !message.threadTs)?.text ?? '')
  );
  expect((await call('GET', `/api/heartbeats/${monitor.id}`)).body).toMatchObject({ state: 'healthy' });
});

test('a ping 1 s before each deadline never alerts', async () => {
  const team = await escalator.createTeam({ prefix: 'hb' });
  const monitor = await createMonitor(team.id, { name: 'every-10s', interval: '10s', grace: '0s' });
  let last = await ping(monitor);
  for (let round = 0; round < 5; round += 1) {
    setClock(last.at + 9_000);
    await escalator.sweepHeartbeats();
    last = await ping(monitor);
    expect(last.status).toBe(204);
  }
  // The first deadline of the last period has not come: nothing to report.
  setClock(last.at + 9_000);
  await escalator.sweepHeartbeats();
  expect(await heartbeatAlert(monitor.id)).toBeNull();
  expect((await call('GET', `/api/heartbeats/${monitor.id}`)).body).toMatchObject({ state: 'healthy' });
});

test('a paused monitor never alerts; resumed, it gets a full period from the resume', async () => {
  const team = await escalator.createTeam({ prefix: 'hb' });
  const monitor = await createMonitor(team.id, { name: 'paused-job', interval: '10s', grace: '0s' });
  const last = await ping(monitor);
  expect((await call('PATCH', `/api/heartbeats/${monitor.id}`, { paused: true })).body).toMatchObject({
    paused: true,
    dueAt: null,
  });

  setClock(last.at + 600_000);
  await escalator.sweepHeartbeats();
  expect(await heartbeatAlert(monitor.id)).toBeNull();

  const resumed = await call('PATCH', `/api/heartbeats/${monitor.id}`, { paused: false });
  expect(resumed.body).toMatchObject({ paused: false, state: 'healthy' });
  expect(Date.parse(resumed.body.dueAt as string)).toBeGreaterThanOrEqual(now() + 9_000);
  await escalator.sweepHeartbeats();
  expect(await heartbeatAlert(monitor.id)).toBeNull();
  expect(escalator.slack.messages(team.channel)).toEqual([]);
});

test('a deleted monitor never alerts again, its ping URL is 404, and deleting a silent one resolves its alert', async () => {
  const team = await escalator.createTeam({ prefix: 'hb' });
  const quiet = await createMonitor(team.id, { name: 'retired-job', interval: '10s', grace: '0s' });
  const last = await ping(quiet);
  expect((await call('DELETE', `/api/heartbeats/${quiet.id}`)).status).toBe(204);
  setClock(last.at + 600_000);
  await escalator.sweepHeartbeats();
  expect(await heartbeatAlert(quiet.id)).toBeNull();
  expect((await ping(quiet)).status).toBe(404);
  expect((await call('GET', `/api/heartbeats/${quiet.id}`)).status).toBe(404);

  const silent = await createMonitor(team.id, { name: 'silent-job', interval: '10s', grace: '0s' });
  const silentLast = await ping(silent);
  setClock(silentLast.at + 10_001);
  await escalator.sweepHeartbeats();
  expect(await heartbeatAlert(silent.id)).toMatchObject({ state: 'open' });
  expect((await call('DELETE', `/api/heartbeats/${silent.id}`)).status).toBe(204);
  expect(await heartbeatAlert(silent.id)).toMatchObject({ state: 'resolved' });

  // The deadline passes while the delete is under way: whichever takes the monitor first wins, and
  // no alert is left open (a sweep that won reported a deadline that came before the delete).
  const racing = await createMonitor(team.id, { name: 'racing-job', interval: '10s', grace: '0s' });
  const racingLast = await ping(racing);
  setClock(racingLast.at + 10_001);
  const [deleted] = await Promise.all([call('DELETE', `/api/heartbeats/${racing.id}`), escalator.sweepHeartbeats()]);
  expect(deleted.status).toBe(204);
  await escalator.sweepHeartbeats();
  expect((await heartbeatAlert(racing.id))?.state ?? 'none').toMatch(/^(none|resolved)$/);
});

test('changing the interval moves the deadline from the last ping', async () => {
  const team = await escalator.createTeam({ prefix: 'hb' });
  const monitor = await createMonitor(team.id, { name: 'hourly-report', interval: '1h', grace: '0s' });
  await ping(monitor);
  const changed = await call('PATCH', `/api/heartbeats/${monitor.id}`, { interval: '2m', name: 'report' });
  expect(changed.body).toMatchObject({ name: 'report', interval: '2m' });
  expect(Date.parse(changed.body.dueAt as string)).toBe(Date.parse(changed.body.lastPingAt as string) + 120_000);
});

test('the ping URL answers GET, POST and HEAD; an unknown token is 404', async () => {
  const team = await escalator.createTeam({ prefix: 'hb' });
  const monitor = await createMonitor(team.id, { name: 'methods', interval: '1m' });
  for (const method of ['GET', 'POST', 'HEAD']) expect((await ping(monitor, method)).status).toBe(204);
  const unknown = await fetch(`${escalator.url}/heartbeats/${'x'.repeat(43)}`);
  expect(unknown.status).toBe(404);
  expect(await unknown.json()).toEqual({ error: 'unknown heartbeat token' });
});

test('bad input is a 400 naming what is wrong; no bearer is 401; an unknown monitor is 404', async () => {
  const team = await escalator.createTeam({ prefix: 'hb' });
  const tooShort = await call('POST', '/api/heartbeats', { teamId: team.id, name: 'x', interval: '5s' });
  expect(tooShort.status).toBe(400);
  expect(tooShort.body.error).toMatch(/^interval: expected a duration between 10s/);
  const noName = await call('POST', '/api/heartbeats', { teamId: team.id, interval: '1m', grace: 'soon' });
  expect(noName.status).toBe(400);
  expect(noName.body.error).toMatch(/name: /);
  expect(noName.body.error).toMatch(/grace: /);
  const noTeam = await call('POST', '/api/heartbeats', {
    teamId: '00000000-0000-4000-8000-000000000000',
    name: 'x',
    interval: '1m',
  });
  expect(noTeam).toMatchObject({ status: 400, body: { error: 'teamId: no team with this id' } });

  const monitor = await createMonitor(team.id, { name: 'taken', interval: '1m' });
  expect((await call('POST', '/api/heartbeats', { teamId: team.id, name: 'taken', interval: '1m' })).status).toBe(409);
  const nothing = await call('PATCH', `/api/heartbeats/${monitor.id}`, {});
  expect(nothing.status).toBe(400);
  expect(nothing.body.error).toMatch(/nothing to change/);
  const badPause = await call('PATCH', `/api/heartbeats/${monitor.id}`, { paused: 'yes' });
  expect(badPause.status).toBe(400);
  expect(badPause.body.error).toMatch(/^paused: /);

  expect((await fetch(`${escalator.url}/api/heartbeats`)).status).toBe(401);
  expect((await call('GET', '/api/heartbeats/not-an-id')).status).toBe(404);
  const listed = await call('GET', `/api/heartbeats?teamId=${team.id}`);
  expect(listed.body.heartbeats.map((m: { name: string }) => m.name)).toEqual(['taken']);
});

const missing = missingSenders();
if (missing) process.stderr.write(`the Watchdog test of test/e2e/heartbeats.test.ts skipped: ${missing}\n`);
// The one skip allowed, as in alertmanager.test.ts: without Debian's Alertmanager there is nothing real to test.
const testWithAlertmanager = missing ? test.skip : test;

testWithAlertmanager("Alertmanager's Watchdog routed to the ping URL keeps its monitor healthy", async () => {
  const team = await escalator.createTeam({ prefix: 'hb' });
  const monitor = await createMonitor(team.id, { name: 'prometheus', interval: '5m', grace: '1m' });
  const alertmanager = await startAlertmanager({
    webhookUrl: `${escalator.url}${monitor.pingPath}`,
    groupWait: '0s',
    groupInterval: '1s',
    repeatInterval: '2s',
  });
  try {
    await alertmanager.fire({ labels: { alertname: 'Watchdog', severity: 'none' }, startsAt: new Date() });
    const read = async () => (await call('GET', `/api/heartbeats/${monitor.id}`)).body;
    const first = await waitFor('the first ping from Alertmanager', async () => (await read()).lastPingAt, 30_000);
    const repeated = await waitFor(
      "Alertmanager's repeat to ping again",
      async () => {
        const now = await read();
        return now.lastPingAt !== first ? now : undefined;
      },
      30_000
    );
    expect(repeated).toMatchObject({ state: 'healthy', paused: false });
  } finally {
    await alertmanager.stop();
  }
  expect(await heartbeatAlert(monitor.id)).toBeNull();
});
