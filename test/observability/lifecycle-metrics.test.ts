/**
 * `GET /metrics` on the gateway, scraped as Prometheus would (with METRICS_TOKEN as its bearer),
 * while real alerts go through their life: gateway and worker share one registry here, as they do
 * under `npm start`.
 */
import { randomBytes } from 'node:crypto';
import { startTestEscalator, type RunningTestEscalator } from '../helpers/escalator';
import { waitFor } from '../helpers/wait';

const METRICS_TOKEN = randomBytes(24).toString('base64url');
let escalator: RunningTestEscalator;

beforeAll(async () => {
  escalator = await startTestEscalator({ METRICS_TOKEN });
}, 60_000);

afterAll(async () => {
  await escalator?.stop();
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text exposition format (the lines a scrape reads). */
function parseExposition(text: string): Sample[] {
  return text.split('\n').flatMap((line) => {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) return [];
    const labels = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((label) => [
        label[1],
        label[2],
      ])
    );
    return [{ name: match[1] as string, labels, value: Number(match[3]) }];
  });
}

async function scrape(): Promise<Sample[]> {
  const response = await fetch(`${escalator.url}/metrics`, { headers: { Authorization: `Bearer ${METRICS_TOKEN}` } });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseExposition(await response.text());
}

/** Sum of the samples of `name` whose labels include `labels` (0 when there are none yet). */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((sample) => sample.name === name)
    .filter((sample) => Object.entries(labels).every(([key, value]) => sample.labels[key] === value))
    .reduce((sum, sample) => sum + sample.value, 0);
}

async function waitForMetric(name: string, labels: Record<string, string>, expected: number): Promise<Sample[]> {
  return waitFor(`${name}${JSON.stringify(labels)} to reach ${expected}`, async () => {
    const samples = await scrape();
    return valueOf(samples, name, labels) === expected ? samples : undefined;
  });
}

test('an alert posted, repeated, acknowledged and closed moves the counters a team lead asks about', async () => {
  const team = await escalator.createTeam({ prefix: 'metrics', escalationTimeout: '5m' });
  const before = await scrape();
  const receivedBefore = valueOf(before, 'escalator_alerts_received_total', { source: 'generic' });
  const postsBefore = valueOf(before, 'escalator_slack_calls_total', { method: 'chat.postMessage', outcome: 'ok' });

  const alert = { title: 'Disk almost full on db-1', severity: 'critical', key: 'disk-db-1' };
  const opened = await escalator.post(team.webhookPath, alert);
  expect(opened.status).toBe(202);
  const afterOpen = await scrape();
  expect(valueOf(afterOpen, 'escalator_alerts_received_total', { source: 'generic' })).toBe(receivedBefore + 1);
  expect(valueOf(afterOpen, 'escalator_alerts_opened_total', { team: team.name, severity: 'critical' })).toBe(1);
  // Latency is labelled by route pattern: the endpoint token in the URL never becomes a label.
  expect(
    valueOf(afterOpen, 'escalator_http_request_duration_seconds_count', {
      method: 'POST',
      route: '/:token',
      status: '202',
    })
  ).toBeGreaterThanOrEqual(1);

  const repeated = await escalator.post(team.webhookPath, alert);
  expect(repeated.body.duplicate).toBe(true);
  const afterRepeat = await scrape();
  expect(valueOf(afterRepeat, 'escalator_alerts_received_total', { source: 'generic' })).toBe(receivedBefore + 2);
  expect(valueOf(afterRepeat, 'escalator_alert_repeats_total', { team: team.name })).toBe(1);
  expect(valueOf(afterRepeat, 'escalator_alerts_opened_total', { team: team.name })).toBe(1);

  await waitFor('the alert message in Slack', () =>
    escalator.slack.messages(team.channel).find((message) => !message.threadTs)
  );
  const afterPost = await scrape();
  expect(valueOf(afterPost, 'escalator_slack_calls_total', { method: 'chat.postMessage', outcome: 'ok' })).toBe(
    postsBefore + 1
  );

  const workflowId = opened.body.workflowId as string;
  expect(await escalator.press({ action: 'ack', workflowId, userId: 'U0ALICE', userName: 'alice' })).toBe(200);
  const afterAck = await waitForMetric('escalator_acknowledgements_total', { team: team.name }, 1);
  expect(valueOf(afterAck, 'escalator_time_to_acknowledge_seconds_count', { team: team.name })).toBe(1);
  expect(valueOf(afterAck, 'escalator_escalations_total', { team: team.name })).toBe(0);

  expect(await escalator.press({ action: 'close', workflowId, userId: 'U0ALICE', userName: 'alice' })).toBe(200);
  const afterClose = await waitForMetric(
    'escalator_alerts_ended_total',
    { team: team.name, state: 'closed', by: 'person' },
    1
  );
  expect(valueOf(afterClose, 'escalator_time_to_close_seconds_count', { team: team.name, state: 'closed' })).toBe(1);
  expect(valueOf(afterClose, 'escalator_alerts_ended_total', { team: team.name, state: 'resolved' })).toBe(0);
});

test('an alert nobody acknowledges counts each escalation step, then its resolution by the source', async () => {
  const team = await escalator.createTeam({
    prefix: 'metrics',
    escalationTimeout: '2s',
    engineers: ['U0CAROL', 'U0DAVE'],
  });
  const alert = { title: 'API 5xx rate high', key: 'api-5xx' };
  expect((await escalator.post(team.webhookPath, alert)).status).toBe(202);

  await waitForMetric('escalator_escalations_total', { team: team.name, step: 'engineer' }, 1);
  const afterTeamCall = await waitForMetric('escalator_escalations_total', { team: team.name, step: 'team' }, 1);
  expect(
    valueOf(afterTeamCall, 'escalator_slack_calls_total', { method: 'chat.postMessage', outcome: 'ok' })
  ).toBeGreaterThanOrEqual(3); // the alert, the call to Dave in the thread and his DM, then the team call

  expect((await escalator.post(team.webhookPath, { ...alert, status: 'resolved' })).status).toBe(202);
  const afterResolve = await waitForMetric(
    'escalator_alerts_ended_total',
    { team: team.name, state: 'resolved', by: 'source' },
    1
  );
  expect(valueOf(afterResolve, 'escalator_acknowledgements_total', { team: team.name })).toBe(0);
  expect(valueOf(afterResolve, 'escalator_time_to_close_seconds_count', { team: team.name, state: 'resolved' })).toBe(
    1
  );
});

test('without the METRICS_TOKEN bearer, /metrics shows nothing: 401', async () => {
  const anonymous = await fetch(`${escalator.url}/metrics`);
  const wrong = await fetch(`${escalator.url}/metrics`, { headers: { Authorization: 'Bearer guess' } });

  expect([anonymous.status, wrong.status]).toEqual([401, 401]);
  expect(await wrong.text()).not.toContain('escalator_');
});
