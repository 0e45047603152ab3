/**
 * Every non-SNS source through `/webhooks/:token` and `/webhooks/:token/alertmanager` on the real
 * gateway app, over the run's PostgreSQL and Temporal dev server (no worker: what reached Temporal
 * is read from the workflow histories and the alerts table).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import request from 'supertest';
import { loadFixture } from '../fixtures';
import {
  CLOSED_PORT_ADDRESS,
  createTestGateway,
  registerTeam,
  type RegisteredTeam,
  type TestGateway,
} from '../helpers/gateway';
import { signalNames, startInputOf } from '../helpers/workflow-history';

describe('webhook sources', () => {
  let gateway: TestGateway;
  let team: RegisteredTeam;

  beforeAll(async () => {
    gateway = createTestGateway();
  });

  beforeEach(async () => {
    // A team per test: fixtures carry fixed keys (fingerprints, monitor ids).
    team = await registerTeam(gateway);
  });

  afterAll(async () => {
    await gateway?.close();
  });

  describe('POST /webhooks/:token/alertmanager', () => {
    test('opens one alert per firing entry, keyed by its fingerprint, and answers the list', async () => {
      const group = loadFixture('alertmanager/firing-and-resolved.json');

      const response = await request(gateway.app).post(`/webhooks/${team.token}/alertmanager`).send(group).expect(202);

      expect(response.body).toEqual({
        alerts: [
          {
            alertId: expect.stringMatching(/^[0-9a-f-]{36}$/),
            workflowId: `alert/${team.name}/c2a7d1f4b6e8a0b3`,
            duplicate: false,
          },
          {
            alertId: null,
            workflowId: `alert/${team.name}/7e0f1a2b3c4d5e6f`,
            duplicate: false,
            ignored: 'no open alert for this key',
          },
        ],
      });
      const input = await startInputOf(gateway, response.body.alerts[0].workflowId);
      expect(input.content).toMatchObject({
        title: 'API error rate above 5% on api-1',
        severity: 'critical',
        source: 'alertmanager',
        link: expect.stringContaining('prometheus.example.com'),
      });
      expect(input.content.fields).toEqual(
        expect.arrayContaining([
          { label: 'instance', value: 'api-1:9100' },
          { label: 'runbook_url', value: 'https://wiki.example.com/runbooks/high-error-rate' },
        ])
      );
    });

    test('the group sent again is a re-send of the same firings, not counted; the entry turned resolved resolves its alert', async () => {
      const group = loadFixture<{ alerts: Array<{ status: string; startsAt: string }> }>(
        'alertmanager/firing-and-resolved.json'
      );
      const first = await request(gateway.app).post(`/webhooks/${team.token}/alertmanager`).send(group).expect(202);

      const again = await request(gateway.app).post(`/webhooks/${team.token}/alertmanager`).send(group).expect(202);
      group.alerts[0]!.status = 'resolved';
      const resolved = await request(gateway.app).post(`/webhooks/${team.token}/alertmanager`).send(group).expect(202);

      const opened = first.body.alerts[0];
      expect(again.body.alerts[0]).toEqual({ ...opened, duplicate: true });
      expect(resolved.body.alerts[0]).toEqual({ ...opened, duplicate: false });
      const alert = await gateway.db.alert.findUniqueOrThrow({ where: { id: opened.alertId } });
      expect(alert.occurrences).toBe(1);
      expect(await signalNames(gateway, opened.workflowId)).toEqual(['occurrence', 'resolution']);
    });

    test('the same alert firing again (a new startsAt) counts a second occurrence', async () => {
      const group = loadFixture<{ alerts: Array<{ status: string; startsAt: string; fingerprint: string }> }>(
        'alertmanager/firing-and-resolved.json'
      );
      group.alerts[0]!.fingerprint = `refire-${randomUUID().slice(0, 8)}`;
      const first = await request(gateway.app).post(`/webhooks/${team.token}/alertmanager`).send(group).expect(202);
      group.alerts[0]!.startsAt = '2026-12-01T09:00:00Z';
      await request(gateway.app).post(`/webhooks/${team.token}/alertmanager`).send(group).expect(202);

      const alert = await gateway.db.alert.findUniqueOrThrow({ where: { id: first.body.alerts[0].alertId } });
      expect(alert.occurrences).toBe(2);
    });

    test("Grafana's variant: source grafana, linked to the panel", async () => {
      const response = await request(gateway.app)
        .post(`/webhooks/${team.token}/alertmanager`)
        .send(loadFixture('grafana/firing-and-resolved.json'))
        .expect(202);

      const input = await startInputOf(gateway, response.body.alerts[0].workflowId);
      expect(input.content).toMatchObject({
        title: 'CPU above 90% on web-3',
        source: 'grafana',
        link: 'https://grafana.example.com/d/node-exporter?orgId=1&viewPanel=3',
      });
      expect(response.body.alerts[0].workflowId).toBe(`alert/${team.name}/57c6d9296de2ad39`);
    });

    test('400 naming what is wrong: truncated JSON, an unknown status, no alerts', async () => {
      const path = `/webhooks/${team.token}/alertmanager`;
      const group = loadFixture<{ alerts: Array<{ status: string }> }>('alertmanager/firing-and-resolved.json');

      const truncated = await request(gateway.app)
        .post(path)
        .set('Content-Type', 'application/json')
        .send(JSON.stringify(group).slice(0, 120))
        .expect(400);
      group.alerts[0]!.status = 'pending';
      const badStatus = await request(gateway.app).post(path).send(group).expect(400);
      const empty = await request(gateway.app).post(path).send({ receiver: 'x', alerts: [] }).expect(400);

      expect(truncated.body.error).toMatch(/^body is not valid JSON: /);
      expect(badStatus.body.error).toMatch(/alerts\.0\.status/);
      expect(empty.body.error).toMatch(/alerts.*at least one alert/);
      expect(await gateway.db.alert.count({ where: { teamId: team.id } })).toBe(0);
    });

    test('413 for a group over 256 KB', async () => {
      const response = await request(gateway.app)
        .post(`/webhooks/${team.token}/alertmanager`)
        .set('Content-Type', 'application/json')
        .send(JSON.stringify({ receiver: 'x', alerts: [], padding: 'x'.repeat(300 * 1024) }))
        .expect(413);

      expect(response.body.error).toMatch(/larger than the limit/);
    });
  });

  describe('POST /webhooks/:token', () => {
    test('an Alertmanager group posted to the plain webhook URL is recognised and answers the list', async () => {
      const response = await request(gateway.app)
        .post(`/webhooks/${team.token}`)
        .send(loadFixture('alertmanager/firing-and-resolved.json'))
        .expect(202);

      expect(response.body.alerts).toHaveLength(2);
      expect(response.body.alerts[0].workflowId).toBe(`alert/${team.name}/c2a7d1f4b6e8a0b3`);
    });

    test('form fields: the title, and unknown fields kept as fields, never refused', async () => {
      const response = await request(gateway.app)
        .post(`/webhooks/${team.token}`)
        .type('form')
        .send({ title: 'Backup failed on db-2', severity: 'critical', host: 'db-2', job: 'nightly' })
        .expect(202);

      expect(response.body).toEqual({ alertId: expect.any(String), workflowId: expect.any(String), duplicate: false });
      const input = await startInputOf(gateway, response.body.workflowId);
      expect(input.content).toMatchObject({ title: 'Backup failed on db-2', severity: 'critical', source: 'generic' });
      expect(input.content.fields).toEqual([
        { label: 'host', value: 'db-2' },
        { label: 'job', value: 'nightly' },
      ]);
      const alert = await gateway.db.alert.findUniqueOrThrow({ where: { id: response.body.alertId } });
      expect(alert.details).toEqual(input.content.fields);
    });

    test('text/plain: the first line is the title, the rest the text; X-Alert-Key names the alert', async () => {
      const key = `cron-${randomUUID().slice(0, 8)}`;

      const response = await request(gateway.app)
        .post(`/webhooks/${team.token}`)
        .set('Content-Type', 'text/plain')
        .set('X-Alert-Key', key)
        .send('Nightly backup failed\nexit code 2 after 14 minutes')
        .expect(202);

      expect(response.body.workflowId).toBe(`alert/${team.name}/${key}`);
      const input = await startInputOf(gateway, response.body.workflowId);
      expect(input.content).toMatchObject({ title: 'Nightly backup failed', text: 'exit code 2 after 14 minutes' });
    });

    test('an EventBridge CloudWatch alarm event is keyed by the alarm ARN, as through SNS', async () => {
      const response = await request(gateway.app)
        .post(`/webhooks/${team.token}`)
        .send(loadFixture('eventbridge/cloudwatch-alarm-state-change.json'))
        .expect(202);

      const alert = await gateway.db.alert.findUniqueOrThrow({ where: { id: response.body.alertId } });
      expect(alert).toMatchObject({
        fingerprint: 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:api-5xx-rate-high',
        title: 'api-5xx-rate-high',
        source: 'cloudwatch',
      });
    });

    test('a New Relic issue', async () => {
      const response = await request(gateway.app)
        .post(`/webhooks/${team.token}`)
        .send(loadFixture('newrelic/issue-activated.json'))
        .expect(202);

      const alert = await gateway.db.alert.findUniqueOrThrow({ where: { id: response.body.alertId } });
      expect(alert).toMatchObject({
        title: 'checkout-service: Error percentage > 5% for at least 5 minutes',
        severity: 'critical',
      });
    });

    test('a CloudWatch INSUFFICIENT_DATA alarm is ignored by default and said so', async () => {
      const response = await request(gateway.app)
        .post(`/webhooks/${team.token}`)
        .send(loadFixture('cloudwatch/alarm-insufficient-data-metric-math.json'))
        .expect(202);

      expect(response.body).toMatchObject({ alertId: null, ignored: expect.stringMatching(/INSUFFICIENT_DATA/) });
      expect(await gateway.db.alert.count({ where: { teamId: team.id } })).toBe(0);
    });

    test('an unknown token is 404 before the body is read, even an oversized one', async () => {
      const response = await request(gateway.app)
        .post(`/webhooks/${randomBytes(32).toString('base64url')}`)
        .set('Content-Type', 'application/json')
        .send(JSON.stringify({ title: 'x', text: 'x'.repeat(300 * 1024) }))
        .expect(404);

      expect(response.body).toEqual({ error: 'unknown endpoint token' });
    });
  });

  describe('GET /webhooks/:token (Uptime Robot style)', () => {
    test('query parameters open the alert for a monitor going down; its up notice resolves it', async () => {
      const down = loadFixture<Record<string, string>>('uptimerobot/monitor-down-query.json');
      const up = loadFixture<Record<string, string>>('uptimerobot/monitor-up-query.json');

      const opened = await request(gateway.app).get(`/webhooks/${team.token}`).query(down).expect(202);
      const resolved = await request(gateway.app).get(`/webhooks/${team.token}`).query(up).expect(202);

      expect(opened.body).toEqual({
        alertId: expect.any(String),
        workflowId: `alert/${team.name}/uptimerobot-793482113`,
        duplicate: false,
      });
      expect(resolved.body).toEqual(opened.body);
      const input = await startInputOf(gateway, opened.body.workflowId);
      expect(input.content).toMatchObject({ title: 'Shop is down', text: 'Connection Timeout', source: 'uptimerobot' });
      expect(await signalNames(gateway, opened.body.workflowId)).toEqual(['occurrence', 'resolution']);
    });

    test('plain query parameters make a generic alert; none at all is 400 naming the title', async () => {
      const ok = await request(gateway.app)
        .get(`/webhooks/${team.token}`)
        .query({ title: 'Deploy stuck', severity: 'warning' })
        .expect(202);
      const missing = await request(gateway.app).get(`/webhooks/${team.token}`).expect(400);

      expect(ok.body.duplicate).toBe(false);
      expect(missing.body.error).toMatch(/^title is required/);
    });
  });
});

describe('POST /webhooks/:token/alertmanager while Temporal is unreachable', () => {
  let gateway: TestGateway;
  let team: RegisteredTeam;

  beforeAll(async () => {
    gateway = createTestGateway({ temporalAddress: CLOSED_PORT_ADDRESS });
    team = await registerTeam(gateway);
  });

  afterAll(async () => {
    await gateway?.close();
  });

  test('answers 503, which Alertmanager retries, and keeps nothing', async () => {
    const response = await request(gateway.app)
      .post(`/webhooks/${team.token}/alertmanager`)
      .send(loadFixture('alertmanager/firing-and-resolved.json'))
      .expect(503);

    expect(response.body).toEqual({ error: 'Temporal is unavailable, retry later' });
    expect(await gateway.db.alert.count({ where: { teamId: team.id } })).toBe(0);
  });
});
