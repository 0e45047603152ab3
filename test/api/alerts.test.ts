import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { createTestGateway, registerTeam, type RegisteredTeam, type TestGateway } from '../helpers/gateway';

/** The ids of a list response, in the order listed. */
function alertIds(body: { alerts: Array<{ id: string }> }): string[] {
  return body.alerts.map((alert) => alert.id);
}

describe('GET /api/alerts', () => {
  let gateway: TestGateway;
  let team: RegisteredTeam;
  let otherTeam: RegisteredTeam;
  let clockMs: number;

  async function report(forTeam: RegisteredTeam, alert: Record<string, unknown>): Promise<string> {
    clockMs += 1_000;
    const response = await request(gateway.app).post(`/webhooks/${forTeam.token}`).send(alert).expect(202);
    return response.body.alertId as string;
  }

  beforeAll(async () => {
    clockMs = Date.now();
    gateway = createTestGateway({ clock: () => clockMs });
    [team, otherTeam] = await Promise.all([registerTeam(gateway), registerTeam(gateway)]);
  });

  afterAll(async () => {
    await gateway?.close();
  });

  test('lists a team’s alerts newest first, each with title, state, assignee and occurrence count', async () => {
    const older = await report(team, { title: 'Disk full on db-1', key: 'disk', severity: 'warning' });
    const newer = await report(team, {
      title: 'API down',
      key: 'api',
      text: 'HTTP 502 from /health',
      severity: 'critical',
      link: 'https://grafana.example.com/d/api',
    });
    await report(team, { title: 'Disk full on db-1', key: 'disk' });

    const response = await request(gateway.app).get(`/api/alerts?team=${team.name}`).set(gateway.adminAuth).expect(200);

    expect(alertIds(response.body)).toEqual([newer, older]);
    expect(response.body.alerts[0]).toEqual({
      id: newer,
      teamName: team.name,
      workflowId: `alert/${team.name}/api`,
      fingerprint: 'api',
      title: 'API down',
      text: 'HTTP 502 from /health',
      severity: 'critical',
      source: 'generic',
      link: 'https://grafana.example.com/d/api',
      state: 'open',
      assignee: team.engineers[0],
      occurrences: 1,
      firstSeenAt: expect.any(String),
      lastSeenAt: expect.any(String),
      acknowledgedBy: null,
      endedBy: null,
    });
    expect(response.body.alerts[1]).toMatchObject({ id: older, occurrences: 2 });
    expect(Date.parse(response.body.alerts[1].lastSeenAt)).toBeGreaterThan(
      Date.parse(response.body.alerts[1].firstSeenAt)
    );
  });

  test('filters by state and caps the list with limit', async () => {
    const open = await report(otherTeam, { title: 'Open one', key: `open-${randomUUID()}` });
    const resolvedKey = `resolved-${randomUUID()}`;
    const resolved = await report(otherTeam, { title: 'Resolved one', key: resolvedKey });
    await gateway.dispatched(`alert/${otherTeam.name}/${resolvedKey}`);
    await gateway.temporal.workflow.getHandle(`alert/${otherTeam.name}/${resolvedKey}`).terminate('test');
    await report(otherTeam, { title: 'Resolved one', key: resolvedKey, status: 'resolved' });

    const openOnes = await request(gateway.app)
      .get(`/api/alerts?team=${otherTeam.name}&state=open`)
      .set(gateway.adminAuth)
      .expect(200);
    const resolvedOnes = await request(gateway.app)
      .get(`/api/alerts?team=${otherTeam.name}&state=resolved`)
      .set(gateway.adminAuth)
      .expect(200);
    const newestOnly = await request(gateway.app)
      .get(`/api/alerts?team=${otherTeam.name}&limit=1`)
      .set(gateway.adminAuth)
      .expect(200);

    expect(alertIds(openOnes.body)).toEqual([open]);
    expect(alertIds(resolvedOnes.body)).toEqual([resolved]);
    expect(alertIds(newestOnly.body)).toEqual([resolved]);
  });

  test('answers 400 naming the query parameter that is wrong', async () => {
    const badState = await request(gateway.app).get('/api/alerts?state=snoozed').set(gateway.adminAuth).expect(400);
    const badLimit = await request(gateway.app).get('/api/alerts?limit=0').set(gateway.adminAuth).expect(400);

    expect(badState.body.error).toMatch(/^state: /);
    expect(badLimit.body.error).toMatch(/^limit: /);
  });

  test('refuses a caller without the admin token', async () => {
    await request(gateway.app).get('/api/alerts').expect(401);
    await request(gateway.app).get('/api/alerts').set('Authorization', 'Bearer nope').expect(401);
  });
});

describe('GET /api/alerts/:id', () => {
  let gateway: TestGateway;
  let team: RegisteredTeam;

  beforeAll(async () => {
    gateway = createTestGateway();
    team = await registerTeam(gateway);
  });

  afterAll(async () => {
    await gateway?.close();
  });

  test('shows one alert with its timeline in the order things happened; a run of repeats is one line with the count', async () => {
    const alert = { title: 'Memory leak in worker', key: `mem-${randomUUID()}`, source: 'datadog' };
    const opened = await request(gateway.app).post(`/webhooks/${team.token}`).send(alert).expect(202);
    await request(gateway.app).post(`/webhooks/${team.token}`).send(alert).expect(202);
    await request(gateway.app).post(`/webhooks/${team.token}`).send(alert).expect(202);
    const read = () =>
      request(gateway.app).get(`/api/alerts/${opened.body.alertId}`).set(gateway.adminAuth).expect(200);

    const afterThree = await read();
    await request(gateway.app)
      .post(`/webhooks/${team.token}`)
      .send({ ...alert, source: 'grafana' })
      .expect(202);
    await request(gateway.app).post(`/webhooks/${team.token}`).send(alert).expect(202);
    const afterFive = await read();

    expect(afterThree.body).toMatchObject({ id: opened.body.alertId, title: 'Memory leak in worker', occurrences: 3 });
    expect(afterThree.body.timeline).toEqual([
      { type: 'received', actor: 'datadog', message: 'Received from datadog', at: expect.any(String) },
      { type: 'repeated', actor: 'datadog', message: 'Reported again by datadog (×3)', at: afterThree.body.lastSeenAt },
    ]);
    expect(afterFive.body).toMatchObject({ occurrences: 5 });
    expect(afterFive.body.timeline).toEqual([
      { type: 'received', actor: 'datadog', message: 'Received from datadog', at: expect.any(String) },
      { type: 'repeated', actor: 'datadog', message: 'Reported again by datadog (×3)', at: afterThree.body.lastSeenAt },
      { type: 'repeated', actor: 'grafana', message: 'Reported again by grafana (×4)', at: expect.any(String) },
      { type: 'repeated', actor: 'datadog', message: 'Reported again by datadog (×5)', at: afterFive.body.lastSeenAt },
    ]);
  });

  test('answers 404 for an id that matches no alert, malformed or not, as for teams and schedules', async () => {
    const unknown = await request(gateway.app).get(`/api/alerts/${randomUUID()}`).set(gateway.adminAuth).expect(404);
    const malformed = await request(gateway.app).get('/api/alerts/42').set(gateway.adminAuth).expect(404);

    expect(unknown.body.error).toBe('no alert with this id');
    expect(malformed.body.error).toBe('no alert with this id');
  });
});

describe('a failure the gateway did not expect', () => {
  let gateway: TestGateway;

  beforeAll(() => {
    gateway = createTestGateway({ databaseUrl: 'postgresql://escalator:nothing@127.0.0.1:1/escalator' });
  });

  afterAll(async () => {
    await gateway?.close();
  });

  test('answers 500 "Internal Server Error" without details, logged with the request id it answers with', async () => {
    const response = await request(gateway.app).get('/api/alerts').set(gateway.adminAuth).expect(500);

    expect(response.body).toEqual({ error: 'Internal Server Error' });
    const requestId = response.headers['x-request-id'];
    expect(requestId).toBeTruthy();
    const logged = gateway.logLines().find((line) => line.msg === 'request failed');
    expect(logged).toMatchObject({ level: 50, req: { id: requestId } });
    expect(logged?.err).toBeDefined();
    await request(gateway.app).get('/healthz').expect(200);
  });
});
