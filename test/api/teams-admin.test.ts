/**
 * The admin API over existing teams: list, read, change, delete, and rotate the endpoint token,
 * on the real gateway app and database. Engineers given by e-mail are looked up through the Slack
 * stand-in's users.lookupByEmail.
 */
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { startFakeSlack, type FakeSlack } from '../helpers/fake-slack';
import {
  createTestGateway,
  randomSlackSuffix,
  registerTeam,
  type RegisteredTeam,
  type TestGateway,
} from '../helpers/gateway';

let gateway: TestGateway;

beforeAll(() => {
  gateway = createTestGateway();
});

afterAll(async () => {
  await gateway?.close();
});

describe('reading teams', () => {
  test('GET /api/teams lists teams with their engineers in order; GET /api/teams/:id reads one', async () => {
    const team = await registerTeam(gateway, { escalationTimeout: '2m' });

    const list = await request(gateway.app).get('/api/teams').set(gateway.adminAuth).expect(200);
    const one = await request(gateway.app).get(`/api/teams/${team.id}`).set(gateway.adminAuth).expect(200);

    const listed = (list.body.teams as Array<{ id: string }>).find((t) => t.id === team.id);
    expect(listed).toEqual(one.body);
    expect(one.body).toMatchObject({
      id: team.id,
      name: team.name,
      slackChannelId: team.slackChannelId,
      engineers: team.engineers,
      // Read back in the form it was written; milliseconds kept for scripts written before.
      escalationTimeout: '2m',
      escalationTimeoutMs: 120_000,
      activeAlerts: 0,
    });
    expect(one.body).not.toHaveProperty('token');
  });

  test('an unknown or malformed id is 404, and every route needs the admin token', async () => {
    await request(gateway.app).get(`/api/teams/${randomUUID()}`).set(gateway.adminAuth).expect(404);
    await request(gateway.app).get('/api/teams/not-a-uuid').set(gateway.adminAuth).expect(404);
    await request(gateway.app)
      .patch(`/api/teams/${randomUUID()}`)
      .set(gateway.adminAuth)
      .send({ slackChannelId: 'C1' })
      .expect(404);
    await request(gateway.app).get('/api/teams').expect(401);
    await request(gateway.app).delete(`/api/teams/${randomUUID()}`).expect(401);
    await request(gateway.app).post(`/api/teams/${randomUUID()}/token`).expect(401);
  });
});

describe('PATCH /api/teams/:id', () => {
  test('changes the escalation order, the channel and the timeout; null returns to the default timeout', async () => {
    const team = await registerTeam(gateway, { escalationTimeout: '30s' });
    const engineers = [`U${randomSlackSuffix()}`, team.engineers[0], `W${randomSlackSuffix()}`];
    const channel = `C${randomSlackSuffix()}`;

    const changed = await request(gateway.app)
      .patch(`/api/teams/${team.id}`)
      .set(gateway.adminAuth)
      .send({ engineers, slackChannelId: channel, escalationTimeout: '10m' })
      .expect(200);
    expect(changed.body).toMatchObject({
      engineers,
      slackChannelId: channel,
      escalationTimeout: '10m',
      escalationTimeoutMs: 600_000,
    });

    const reset = await request(gateway.app)
      .patch(`/api/teams/${team.id}`)
      .set(gateway.adminAuth)
      .send({ escalationTimeout: null })
      .expect(200);
    expect(reset.body).toMatchObject({
      engineers,
      slackChannelId: channel,
      escalationTimeout: null,
      escalationTimeoutMs: null,
    });
  });

  test.each([
    [{ slackChannelId: 'general' }, 'slackChannelId: must be a Slack channel id'],
    [{ engineers: [] }, 'engineers: at least one engineer is required'],
    [{ engineers: ['U0A', 'U0A'] }, 'engineers: must not list an engineer twice'],
    [{ engineers: ['<!channel>'] }, 'engineers.0: must be a Slack user id such as U0123ABCD, or the e-mail address'],
    [{ escalationTimeout: 'soon' }, 'escalationTimeout: expected a duration between 1s and 24h'],
    [{ name: 'renamed' }, 'name'],
    [{}, 'nothing to change'],
    [
      { engineers: ['alice@example.com'] },
      'engineers.0: must be a Slack user id such as U0123ABCD here: e-mail addresses are looked up in Slack, which needs SLACK_BOT_TOKEN',
    ],
  ])('refuses %j with a 400 that names what is wrong', async (body, message) => {
    const team = await registerTeam(gateway);

    const response = await request(gateway.app)
      .patch(`/api/teams/${team.id}`)
      .set(gateway.adminAuth)
      .send(body)
      .expect(400);

    expect(response.body.error).toContain(message);
    const unchanged = await request(gateway.app).get(`/api/teams/${team.id}`).set(gateway.adminAuth).expect(200);
    expect(unchanged.body.engineers).toEqual(team.engineers);
  });
});

describe('DELETE /api/teams/:id', () => {
  /** An alert of the team as the intake would have written it (no workflow runs for it here). */
  async function openAlert(team: RegisteredTeam, key = randomUUID()) {
    return gateway.db.alert.create({
      data: {
        teamId: team.id,
        workflowId: `alert/${team.name}/${key}`,
        fingerprint: key,
        openFingerprint: key,
        source: 'generic',
        title: 'Disk full',
        severity: 'error',
      },
    });
  }

  test('archives the team: it is gone from the API, its token opens nothing, its name is free again', async () => {
    const team = await registerTeam(gateway);

    const deleted = await request(gateway.app).delete(`/api/teams/${team.id}`).set(gateway.adminAuth).expect(200);

    expect(deleted.body).toMatchObject({ id: team.id, name: team.name, alertsKept: 0, closedAlertIds: [] });
    expect(Date.parse(deleted.body.archivedAt)).not.toBeNaN();
    await request(gateway.app).get(`/api/teams/${team.id}`).set(gateway.adminAuth).expect(404);
    const list = await request(gateway.app).get('/api/teams').set(gateway.adminAuth).expect(200);
    expect((list.body.teams as Array<{ id: string }>).map((t) => t.id)).not.toContain(team.id);
    await request(gateway.app).post(`/webhooks/${team.token}`).send({ title: 'Disk full' }).expect(404);
    await request(gateway.app).post(`/api/teams/${team.id}/token`).set(gateway.adminAuth).expect(404);
    await request(gateway.app).delete(`/api/teams/${team.id}`).set(gateway.adminAuth).expect(404);
    await registerTeam(gateway, { name: team.name, slackChannelId: team.slackChannelId });
  });

  test('keeps the history of its alerts readable', async () => {
    const team = await registerTeam(gateway);
    const alert = await openAlert(team);
    await gateway.db.alert.update({ where: { id: alert.id }, data: { state: 'closed', openFingerprint: null } });
    await gateway.db.alertEvent.create({
      data: { alertId: alert.id, key: `test/${alert.id}`, type: 'closed', message: 'Closed by alice' },
    });

    const deleted = await request(gateway.app).delete(`/api/teams/${team.id}`).set(gateway.adminAuth).expect(200);

    expect(deleted.body).toMatchObject({ alertsKept: 1, closedAlertIds: [] });
    const read = await request(gateway.app).get(`/api/alerts/${alert.id}`).set(gateway.adminAuth).expect(200);
    expect(read.body).toMatchObject({ teamName: team.name, state: 'closed' });
    expect(read.body.timeline).toEqual([expect.objectContaining({ message: 'Closed by alice' })]);
  });

  test('refuses with 409 while an alert is open, and says how to go ahead', async () => {
    const team = await registerTeam(gateway);
    await openAlert(team);

    const refused = await request(gateway.app).delete(`/api/teams/${team.id}`).set(gateway.adminAuth).expect(409);

    expect(refused.body.error).toContain('1 open or acknowledged alert');
    expect(refused.body.error).toContain(`DELETE /api/teams/${team.id}?closeOpenAlerts=true`);
    await request(gateway.app).get(`/api/teams/${team.id}`).set(gateway.adminAuth).expect(200);
  });

  test('?closeOpenAlerts=true closes open alerts with the deletion as the reason on their timelines', async () => {
    const team = await registerTeam(gateway);
    const alert = await openAlert(team);

    const deleted = await request(gateway.app)
      .delete(`/api/teams/${team.id}?closeOpenAlerts=true`)
      .set(gateway.adminAuth)
      .expect(200);

    expect(deleted.body).toMatchObject({ alertsKept: 1, closedAlertIds: [alert.id] });
    // No workflow runs for this alert: the dispatcher ends it in the database (with a worker, the
    // workflow does: test/e2e/alert-lifecycle.test.ts).
    await gateway.dispatched(alert.workflowId);
    const read = await request(gateway.app).get(`/api/alerts/${alert.id}`).set(gateway.adminAuth).expect(200);
    expect(read.body).toMatchObject({ state: 'closed', endedBy: 'the admin API' });
    expect(read.body.timeline).toEqual([
      expect.objectContaining({
        type: 'closed',
        message: `Closed by the admin API: team ${team.name} was deleted (its workflow was no longer running)`,
      }),
    ]);
  });

  test('a closeOpenAlerts that is not true or false is a 400', async () => {
    const team = await registerTeam(gateway);

    const refused = await request(gateway.app)
      .delete(`/api/teams/${team.id}?closeOpenAlerts=yes`)
      .set(gateway.adminAuth)
      .expect(400);

    expect(refused.body.error).toBe('closeOpenAlerts: must be true or false');
  });
});

describe('POST /api/teams/:id/token', () => {
  test('issues a new endpoint token: the new one opens the webhook, the old one stops working', async () => {
    const team = await registerTeam(gateway);

    const rotated = await request(gateway.app).post(`/api/teams/${team.id}/token`).set(gateway.adminAuth).expect(200);

    expect(rotated.body.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(rotated.body.token).not.toBe(team.token);
    expect(rotated.body.webhookUrl).toBe(`https://escalator.example.com/webhooks/${rotated.body.token}`);
    expect(rotated.body.snsUrl).toBe(`https://escalator.example.com/sns/${rotated.body.token}`);
    await request(gateway.app).post(`/webhooks/${team.token}`).send({ title: 'Disk full' }).expect(404);
    await request(gateway.app).post(`/webhooks/${rotated.body.token}`).send({ title: 'Disk full' }).expect(202);
  });
});

describe('engineers given by e-mail, with a Slack bot token', () => {
  let slack: FakeSlack;
  let withSlack: TestGateway;

  beforeAll(async () => {
    slack = await startFakeSlack({ token: 'xoxb-directory', users: { 'alice@example.com': 'U0ALICE' } });
    withSlack = createTestGateway({ env: { SLACK_BOT_TOKEN: 'xoxb-directory', SLACK_API_URL: slack.url } });
  });

  afterAll(async () => {
    await withSlack?.close();
    await slack?.close();
  });

  test('are looked up in Slack and kept as user ids, in the order given', async () => {
    slack.addUser('Bob@Example.com', 'U0BOB');
    const created = await request(withSlack.app)
      .post('/api/teams')
      .set(withSlack.adminAuth)
      .send({
        name: `mail-${randomUUID().slice(0, 8)}`,
        slackChannelId: 'C0MAIL',
        engineers: ['bob@example.com', 'U0CAROL', 'alice@example.com'],
      })
      .expect(201);

    const team = await request(withSlack.app).get(`/api/teams/${created.body.id}`).set(withSlack.adminAuth).expect(200);
    expect(team.body.engineers).toEqual(['U0BOB', 'U0CAROL', 'U0ALICE']);
    expect(slack.calls('users.lookupByEmail').map((call) => call.body.email)).toEqual(
      expect.arrayContaining(['bob@example.com', 'alice@example.com'])
    );
  });

  test('an address nobody in the workspace has is a 400 naming it; Slack down is a 502', async () => {
    const team = await registerTeam(withSlack);

    const unknown = await request(withSlack.app)
      .patch(`/api/teams/${team.id}`)
      .set(withSlack.adminAuth)
      .send({ engineers: ['U0CAROL', 'nobody@example.com'] })
      .expect(400);
    expect(unknown.body.error).toBe(
      'engineers.1: no member of the Slack workspace has the e-mail address nobody@example.com'
    );

    slack.failNext('users.lookupByEmail', { kind: 'http', status: 503 });
    const down = await request(withSlack.app)
      .patch(`/api/teams/${team.id}`)
      .set(withSlack.adminAuth)
      .send({ engineers: ['alice@example.com'] })
      .expect(502);
    expect(down.body.error).toContain('could not reach Slack');

    slack.failNext('users.lookupByEmail', { kind: 'error', error: 'missing_scope' });
    const scope = await request(withSlack.app)
      .patch(`/api/teams/${team.id}`)
      .set(withSlack.adminAuth)
      .send({ engineers: ['alice@example.com'] })
      .expect(502);
    expect(scope.body.error).toContain('users:read.email');
  });
});
