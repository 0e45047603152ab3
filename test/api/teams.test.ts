import { Client as PgClient } from 'pg';
import request from 'supertest';
import {
  createTestGateway,
  randomSlackSuffix,
  randomTeamName,
  registerTeam,
  type TestGateway,
} from '../helpers/gateway';

function newTeamBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: randomTeamName(),
    slackChannelId: `C${randomSlackSuffix()}`,
    engineers: [`U${randomSlackSuffix()}`, `W${randomSlackSuffix()}`],
    ...overrides,
  };
}

/** Every text column of the endpoints table, read with plain SQL (not through the app's client). */
async function endpointsTableText(databaseUrl: string): Promise<string> {
  const pg = new PgClient({ connectionString: databaseUrl });
  await pg.connect();
  try {
    const { rows } = await pg.query('SELECT * FROM endpoints');
    return JSON.stringify(rows);
  } finally {
    await pg.end();
  }
}

describe('POST /api/teams', () => {
  let gateway: TestGateway;

  beforeAll(() => {
    gateway = createTestGateway();
  });

  afterAll(async () => {
    await gateway?.close();
  });

  test('creates a team and answers 201 with its id, token and endpoint URLs under PUBLIC_URL', async () => {
    const body = newTeamBody({ escalationTimeout: '30s' });

    const response = await request(gateway.app).post('/api/teams').set(gateway.adminAuth).send(body).expect(201);

    const { id, name, token, webhookUrl, snsUrl } = response.body;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(name).toBe(body.name);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(webhookUrl).toBe(`https://escalator.example.com/webhooks/${token}`);
    expect(snsUrl).toBe(`https://escalator.example.com/sns/${token}`);
    const stored = await gateway.db.team.findUniqueOrThrow({
      where: { id },
      include: { engineers: { orderBy: { position: 'asc' } } },
    });
    expect(stored.escalationTimeoutMs).toBe(30_000);
    expect(stored.engineers.map((engineer) => engineer.slackUserId)).toEqual(body.engineers);
  });

  test('the token it hands out opens the team webhook', async () => {
    const team = await registerTeam(gateway);

    const response = await request(gateway.app)
      .post(`/webhooks/${team.token}`)
      .send({ title: 'Disk almost full on db-1' })
      .expect(202);

    expect(response.body.workflowId).toMatch(new RegExp(`^alert/${team.name}/`));
  });

  test('keeps only a hash of the token: the raw token is nowhere in the endpoints table', async () => {
    const team = await registerTeam(gateway);

    const table = await endpointsTableText(gateway.config.databaseUrl as string);

    expect(table).not.toContain(team.token);
    expect(await gateway.db.endpoint.count({ where: { teamId: team.id } })).toBe(1);
  });

  test('refuses a request without a bearer token or with a wrong one (401)', async () => {
    const body = newTeamBody();

    const anonymous = await request(gateway.app).post('/api/teams').send(body).expect(401);
    const wrong = await request(gateway.app)
      .post('/api/teams')
      .set('Authorization', `Bearer ${gateway.adminToken}x`)
      .send(body)
      .expect(401);

    expect(anonymous.body.error).toMatch(/bearer token/);
    expect(wrong.body.error).toBe('invalid admin token');
    expect(await gateway.db.team.count({ where: { name: body.name as string } })).toBe(0);
  });

  test.each([
    ['name', { name: 'Payments Team' }, /^name: must be a slug/],
    ['name', { name: 'a'.repeat(41) }, /^name: must be at most 40 characters/],
    ['slackChannelId', { slackChannelId: '#ops' }, /^slackChannelId: must be a Slack channel id/],
    ['engineers', { engineers: [] }, /^engineers: at least one engineer is required/],
    ['engineers.1', { engineers: ['U0AAA', 'jane@example.com'] }, /^engineers\.1: must be a Slack user id/],
    ['engineers', { engineers: ['U0AAA', 'U0AAA'] }, /^engineers: must not list an engineer twice/],
    ['escalationTimeout', { escalationTimeout: 'soon' }, /^escalationTimeout: expected a duration/],
    ['slackChannelId', { slackChannelId: undefined }, /^slackChannelId: /],
  ])('answers 400 naming %s when it is invalid', async (_field, overrides, message) => {
    const response = await request(gateway.app)
      .post('/api/teams')
      .set(gateway.adminAuth)
      .send(newTeamBody(overrides))
      .expect(400);

    expect(response.body.error).toMatch(message);
  });

  test('answers 400 when the body is not JSON', async () => {
    const response = await request(gateway.app)
      .post('/api/teams')
      .set(gateway.adminAuth)
      .set('Content-Type', 'application/json')
      .send('{"name": "ops",')
      .expect(400);

    expect(response.body.error).toMatch(/^body is not valid JSON: /);
  });

  test('answers 409 when the name is taken, and leaves the first team as it was', async () => {
    const first = await registerTeam(gateway);

    const response = await request(gateway.app)
      .post('/api/teams')
      .set(gateway.adminAuth)
      .send(newTeamBody({ name: first.name }))
      .expect(409);

    expect(response.body.error).toBe(`a team named "${first.name}" already exists`);
    const stored = await gateway.db.team.findFirstOrThrow({ where: { name: first.name, installationId: null } });
    expect(stored.slackChannelId).toBe(first.slackChannelId);
  });
});

describe('the admin API without ADMIN_TOKEN', () => {
  let gateway: TestGateway;

  beforeAll(() => {
    gateway = createTestGateway({ env: { ADMIN_TOKEN: undefined } });
  });

  afterAll(async () => {
    await gateway?.close();
  });

  test('refuses every call with 401 saying that it is not configured', async () => {
    for (const call of [
      request(gateway.app).post('/api/teams').set('Authorization', 'Bearer anything').send(newTeamBody()),
      request(gateway.app).get('/api/alerts'),
      request(gateway.app).get('/api/alerts/3f2a3c52-4a47-4b55-9d4e-6a1b0c1e2d3f'),
    ]) {
      const response = await call.expect(401);
      expect(response.body.error).toBe('ADMIN_TOKEN is not configured: the admin API refuses every call');
    }
  });
});
