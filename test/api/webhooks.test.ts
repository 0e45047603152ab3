import { randomBytes, randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { Registry } from 'prom-client';
import request from 'supertest';
import { createMetrics } from '../../src/observability/metrics';
import { alertSearchAttributes, type AlertWorkflowInput } from '../../src/workflows/definitions';
import {
  CLOSED_PORT_ADDRESS,
  createTestGateway,
  registerTeam,
  type RegisteredTeam,
  type TestGateway,
} from '../helpers/gateway';
import { reportsSignalled } from '../helpers/workflow-history';

/** The signals a workflow received so far, decoded, oldest first. */
async function signalsOf(handle: WorkflowHandle): Promise<Array<{ name: string; args: unknown[] }>> {
  const history = await handle.fetchHistory();
  return (history.events ?? [])
    .map((event) => event.workflowExecutionSignaledEventAttributes)
    .filter((attributes) => !!attributes)
    .map((attributes) => ({
      name: attributes.signalName ?? '',
      args: (attributes.input?.payloads ?? []).map((payload) => defaultPayloadConverter.fromPayload(payload)),
    }));
}

/** The input the workflow was started with. */
async function startInputOf(handle: WorkflowHandle): Promise<AlertWorkflowInput> {
  const history = await handle.fetchHistory();
  const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
  return defaultPayloadConverter.fromPayload(started!.input!.payloads![0]!);
}

/** The types of an alert's timeline events, in order. */
function timelineTypes(body: { timeline: Array<{ type: string }> }): string[] {
  return body.timeline.map((event) => event.type);
}

/** The alert's workflow, once the intake dispatcher has handed it everything the gateway took. */
async function handleOf(gateway: TestGateway, workflowId: string): Promise<WorkflowHandle> {
  await gateway.dispatched(workflowId);
  return gateway.temporal.workflow.getHandle(workflowId);
}

describe('POST /webhooks/:token', () => {
  let gateway: TestGateway;
  let team: RegisteredTeam;

  beforeAll(async () => {
    gateway = createTestGateway();
    team = await registerTeam(gateway, { escalationTimeout: '2m' });
  });

  afterAll(async () => {
    await gateway?.close();
  });

  test('opens an alert: 202, a running workflow named after team and key, started with the occurrence signal', async () => {
    const key = `disk-${randomUUID().slice(0, 8)}`;

    const response = await request(gateway.app)
      .post(`/webhooks/${team.token}`)
      .send({ title: 'Disk almost full on db-1', text: '95% used', severity: 'critical', key, source: 'nagios' })
      .expect(202);

    expect(response.body).toEqual({
      alertId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      workflowId: `alert/${team.name}/${key}`,
      duplicate: false,
    });
    const handle = await handleOf(gateway, response.body.workflowId);
    const description = await handle.describe();
    expect(description.status.name).toBe('RUNNING');
    expect(description.taskQueue).toBe(gateway.config.temporal.taskQueue);
    expect(description.typedSearchAttributes.get(alertSearchAttributes.state)).toBe('open');
    expect(description.typedSearchAttributes.get(alertSearchAttributes.team)).toBe(team.name);
    expect(description.typedSearchAttributes.get(alertSearchAttributes.severity)).toBe('critical');
    expect(description.typedSearchAttributes.get(alertSearchAttributes.source)).toBe('nagios');
    expect(await description.staticSummary()).toBe('Disk almost full on db-1');

    const input = await startInputOf(handle);
    expect(input).toMatchObject({
      alertId: response.body.alertId,
      fingerprint: key,
      team: {
        id: team.id,
        name: team.name,
        slackChannelId: team.slackChannelId,
        engineers: team.engineers,
        escalationTimeoutMs: 120_000,
      },
      content: { title: 'Disk almost full on db-1', text: '95% used', severity: 'critical', source: 'nagios' },
    });
    const signals = await signalsOf(handle);
    expect(signals).toEqual([
      {
        name: 'occurrence',
        args: [
          {
            alertId: response.body.alertId,
            content: { title: 'Disk almost full on db-1', text: '95% used', severity: 'critical', source: 'nagios' },
            receivedAt: expect.any(String),
            reportId: expect.any(Number),
          },
        ],
      },
    ]);
  });

  test('masks secrets a sender put in the alert, and drops hidden characters, before the workflow or the database sees them', async () => {
    const secret = `hunter2-${randomUUID().slice(0, 8)}`;
    const response = await request(gateway.app)
      .post(`/webhooks/${team.token}`)
      .send({
        title: `Login failed on https://admin:${secret}@db-1.example.com \u202Egnp.exe\u202C`,
        text: `retried with password=${secret} and Authorization: Bearer ${secret}`,
        link: `https://grafana.example.com/d/abc?orgId=1&api_key=${secret}`,
        key: `secrets-${randomUUID().slice(0, 8)}`,
        db: { host: 'db-1', password: secret },
        api_key: secret,
      })
      .expect(202);

    const input = await startInputOf(await handleOf(gateway, response.body.workflowId));
    const detail = await request(gateway.app).get(`/api/alerts/${response.body.alertId}`).set(gateway.adminAuth);
    for (const seen of [JSON.stringify(input), JSON.stringify(detail.body), JSON.stringify(gateway.logLines())]) {
      expect(seen).not.toContain(secret);
      expect(seen).not.toMatch(/[\u202A-\u202E\u200B]/);
    }
    expect(input.content).toMatchObject({
      title: 'Login failed on https://[masked]@db-1.example.com gnp.exe',
      text: 'retried with password=[masked] and Authorization: Bearer [masked]',
      link: 'https://grafana.example.com/d/abc?orgId=1&api_key=[masked]',
      fields: expect.arrayContaining([
        { label: 'db.host', value: 'db-1' },
        { label: 'db.password', value: '[masked]' },
        { label: 'api_key', value: '[masked]' },
      ]),
    });
  });

  test('a repeat of an open alert counts on it: duplicate true, 2 occurrences, both reports signalled', async () => {
    const key = `cpu-${randomUUID().slice(0, 8)}`;
    const alert = { title: 'CPU high on web-3', key };

    const first = await request(gateway.app).post(`/webhooks/${team.token}`).send(alert).expect(202);
    const second = await request(gateway.app).post(`/webhooks/${team.token}`).send(alert).expect(202);

    expect(first.body.duplicate).toBe(false);
    expect(second.body).toEqual({ alertId: first.body.alertId, workflowId: first.body.workflowId, duplicate: true });
    const details = await request(gateway.app)
      .get(`/api/alerts/${first.body.alertId}`)
      .set(gateway.adminAuth)
      .expect(200);
    expect(details.body).toMatchObject({
      id: first.body.alertId,
      teamName: team.name,
      state: 'open',
      occurrences: 2,
      assignee: team.engineers[0],
    });
    expect(timelineTypes(details.body)).toEqual(['received', 'repeated']);
    const reports = await reportsSignalled(gateway, first.body.workflowId);
    expect(reports.map((report) => report.signal)).toEqual(['occurrence', 'occurrence']);
  });

  test('without a key, the same title from the same source is the same alert', async () => {
    const title = `Backup failed ${randomUUID()}`;

    const first = await request(gateway.app).post(`/webhooks/${team.token}`).send({ title }).expect(202);
    const second = await request(gateway.app).post(`/webhooks/${team.token}`).send({ title }).expect(202);

    expect(second.body).toEqual({ alertId: first.body.alertId, workflowId: first.body.workflowId, duplicate: true });
  });

  test('accepts JSON sent without a JSON content type, as `curl -d` sends it', async () => {
    const response = await request(gateway.app)
      .post(`/webhooks/${team.token}`)
      .set('Content-Type', 'application/x-www-form-urlencoded')
      .send(JSON.stringify({ title: `From curl ${randomUUID()}` }))
      .expect(202);

    expect(response.body.duplicate).toBe(false);
  });

  test('answers 400 naming the field when the title is missing', async () => {
    const response = await request(gateway.app).post(`/webhooks/${team.token}`).send({ text: 'no title' }).expect(400);

    expect(response.body.error).toMatch(/^title is required/);
  });

  test('answers 400 for a severity it does not know, naming the ones it accepts', async () => {
    const response = await request(gateway.app)
      .post(`/webhooks/${team.token}`)
      .send({ title: 'Odd severity', severity: 'hgih' })
      .expect(400);

    expect(response.body.error).toBe(
      'severity: "hgih" is not a severity: use critical, error, warning, info (aliases such as p1, high, warn and low are mapped, see docs/sources.md)'
    );
  });

  test('takes a severity alias and says in the answer what it became', async () => {
    const mapped = await request(gateway.app)
      .post(`/webhooks/${team.token}`)
      .send({ title: 'Replica lag', severity: 'high', key: `lag-${randomUUID()}` })
      .expect(202);
    const exact = await request(gateway.app)
      .post(`/webhooks/${team.token}`)
      .send({ title: 'Replica lag', severity: 'Error', key: `lag-${randomUUID()}` })
      .expect(202);

    expect(mapped.body.severityMapped).toEqual({ from: 'high', to: 'error' });
    expect(exact.body).not.toHaveProperty('severityMapped');
    const stored = await gateway.db.alert.findUniqueOrThrow({ where: { id: mapped.body.alertId } });
    expect(stored.severity).toBe('error');
  });

  test('answers 400 naming the field when the link is not a URL', async () => {
    const response = await request(gateway.app)
      .post(`/webhooks/${team.token}`)
      .send({ title: 'Bad link', link: 'javascript:alert(1)' })
      .expect(400);

    expect(response.body.error).toMatch(/^link: /);
  });

  test('answers 400 when the JSON is truncated, and keeps serving', async () => {
    const response = await request(gateway.app)
      .post(`/webhooks/${team.token}`)
      .set('Content-Type', 'application/json')
      .send('{"title": "Disk full", "sever')
      .expect(400);

    expect(response.body.error).toMatch(/^body is not valid JSON: /);
    await request(gateway.app).get('/healthz').expect(200);
  });

  test('answers 400, not a crash, for 10,000 nested lists in an extra field, and keeps serving', async () => {
    const deep = `{"title":"x","extra":${'['.repeat(10_000)}${']'.repeat(10_000)}}`;

    const response = await request(gateway.app)
      .post(`/webhooks/${team.token}`)
      .set('Content-Type', 'application/json')
      .send(deep)
      .expect(400);

    expect(response.body.error).toBe('extra is nested more than 32 levels deep');
    await request(gateway.app).get('/healthz').expect(200);
  });

  test('answers 400 for an extra field with more entries than any alert needs', async () => {
    const wide = Object.fromEntries(Array.from({ length: 5_000 }, (_, i) => [`k${i}`, i]));

    const response = await request(gateway.app)
      .post(`/webhooks/${team.token}`)
      .send({ title: 'Wide', labels: wide })
      .expect(400);

    expect(response.body.error).toBe('labels has more than 1000 entries in one object or list');
  });

  test('answers 404 for an unknown token and for a malformed one', async () => {
    const unknown = await request(gateway.app)
      .post(`/webhooks/${randomBytes(32).toString('base64url')}`)
      .send({ title: 'x' })
      .expect(404);
    const malformed = await request(gateway.app).post('/webhooks/not%20a%20token!').send({ title: 'x' }).expect(404);

    expect(unknown.body).toEqual({ error: 'unknown endpoint token' });
    expect(malformed.body).toEqual({ error: 'unknown endpoint token' });
  });

  test('answers 413 for a body over 256 KB', async () => {
    const response = await request(gateway.app)
      .post(`/webhooks/${team.token}`)
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ title: 'Huge', text: 'x'.repeat(300 * 1024) }))
      .expect(413);

    expect(response.body.error).toMatch(/^body is larger than the limit/);
  });

  test('a resolution with no open alert is accepted and ignored', async () => {
    const response = await request(gateway.app)
      .post(`/webhooks/${team.token}`)
      .send({ title: 'Never fired', key: `ghost-${randomUUID()}`, status: 'resolved' })
      .expect(202);

    expect(response.body).toEqual({
      alertId: null,
      workflowId: expect.stringMatching(new RegExp(`^alert/${team.name}/ghost-`)),
      duplicate: false,
      ignored: 'no open alert for this key',
    });
  });

  test('a resolution of an open alert is signalled to its workflow', async () => {
    const key = `latency-${randomUUID().slice(0, 8)}`;
    const opened = await request(gateway.app)
      .post(`/webhooks/${team.token}`)
      .send({ title: 'p99 high', key })
      .expect(202);

    const resolved = await request(gateway.app)
      .post(`/webhooks/${team.token}`)
      .send({ title: 'p99 high', key, status: 'resolved' })
      .expect(202);

    expect(resolved.body).toEqual({
      alertId: opened.body.alertId,
      workflowId: opened.body.workflowId,
      duplicate: false,
    });
    const signals = await signalsOf(await handleOf(gateway, opened.body.workflowId));
    expect(signals.map((signal) => signal.name)).toEqual(['occurrence', 'resolution']);
    expect(signals[1]!.args[0]).toMatchObject({ alertId: opened.body.alertId });
  });

  test('a resolution whose workflow is gone ends the alert in the database, and the next report opens a new one', async () => {
    const key = `queue-${randomUUID().slice(0, 8)}`;
    const opened = await request(gateway.app)
      .post(`/webhooks/${team.token}`)
      .send({ title: 'Queue stuck', key })
      .expect(202);
    await (await handleOf(gateway, opened.body.workflowId)).terminate('operator cleaned up');

    await request(gateway.app)
      .post(`/webhooks/${team.token}`)
      .send({ title: 'Queue stuck', key, status: 'resolved', source: 'prometheus' })
      .expect(202);
    const reopened = await request(gateway.app)
      .post(`/webhooks/${team.token}`)
      .send({ title: 'Queue stuck', key })
      .expect(202);

    // The source's resolution is in the database at once; its timeline line comes with its relay.
    await gateway.dispatched(opened.body.workflowId);
    const ended = await request(gateway.app)
      .get(`/api/alerts/${opened.body.alertId}`)
      .set(gateway.adminAuth)
      .expect(200);
    expect(ended.body).toMatchObject({ state: 'resolved', endedBy: 'prometheus' });
    expect(timelineTypes(ended.body)).toEqual(['received', 'resolved']);
    expect(reopened.body).toMatchObject({ workflowId: opened.body.workflowId, duplicate: false });
    expect(reopened.body.alertId).not.toBe(opened.body.alertId);
    const description = await (await handleOf(gateway, reopened.body.workflowId)).describe();
    expect(description.status.name).toBe('RUNNING');
  });

  test('the endpoint token never appears in the log', async () => {
    await request(gateway.app)
      .post(`/webhooks/${team.token}`)
      .send({ title: `Logged ${randomUUID()}` })
      .expect(202);
    await request(gateway.app).post(`/webhooks/${team.token}`).send({}).expect(400);

    const lines = gateway.logLines();
    expect(lines.some((line) => line.route === '/webhooks/:token')).toBe(true);
    expect(JSON.stringify(lines)).not.toContain(team.token);
  });
});

describe('POST /webhooks/:token while Temporal is unreachable', () => {
  let gateway: TestGateway;
  let team: RegisteredTeam;

  beforeAll(async () => {
    gateway = createTestGateway({ temporalAddress: CLOSED_PORT_ADDRESS });
    team = await registerTeam(gateway);
  });

  afterAll(async () => {
    await gateway?.close();
  });

  test('answers 503 so that the sender retries, and writes nothing to PostgreSQL', async () => {
    const response = await request(gateway.app)
      .post(`/webhooks/${team.token}`)
      .send({ title: 'Disk full', key: 'disk' })
      .expect(503);

    expect(response.body).toEqual({ error: 'Temporal is unavailable, retry later' });
    expect(await gateway.db.alert.count({ where: { teamId: team.id } })).toBe(0);
    expect(await gateway.db.alertEvent.count({ where: { alert: { teamId: team.id } } })).toBe(0);
  });
});

describe('POST /webhooks/:token with metrics', () => {
  let registry: Registry;
  let gateway: TestGateway;
  let team: RegisteredTeam;

  beforeAll(async () => {
    registry = new Registry();
    gateway = createTestGateway({ metrics: createMetrics(registry, { defaultMetrics: false }) });
    team = await registerTeam(gateway);
  });

  afterAll(async () => {
    await gateway?.close();
  });

  test('by default the public port does not serve /metrics (team names and counts): 404', async () => {
    await request(gateway.app).get('/metrics').expect(404);
  });

  test('counts opened and repeated alerts by team, and times requests by route pattern, never by token', async () => {
    const alert = { title: 'Disk full', key: 'disk', severity: 'critical' };
    await request(gateway.app).post(`/webhooks/${team.token}`).send(alert).expect(202);
    await request(gateway.app).post(`/webhooks/${team.token}`).send(alert).expect(202);

    const text = await registry.metrics();

    expect(text).toContain(`escalator_alerts_opened_total{team="${team.name}",severity="critical"} 1`);
    expect(text).toContain(`escalator_alert_repeats_total{team="${team.name}"} 1`);
    expect(text).toContain('escalator_alerts_received_total{source="generic"} 2');
    expect(text).toMatch(
      /escalator_http_request_duration_seconds_count\{method="POST",route="\/:token",status="202"\} 2/
    );
    expect(text).not.toContain(team.token);
  });
});
