/**
 * The gateway (`npm run api`) and the worker (`npm run worker`) as separate processes, as docker
 * compose runs them, over the test run's Temporal dev server and PostgreSQL: an alert goes
 * through, each process serves its own metrics, and SIGTERM stops each one gracefully.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { findFreePort } from '../../src/infra/free-port';
import { startFakeSlack, type FakeSlack } from '../helpers/fake-slack';
import {
  exitWithin,
  killProcessGroup,
  runCommand,
  START_CAP_MS,
  STOP_CAP_MS,
  waitForOutput,
  waitForUrl,
  type RunningCommand,
} from '../helpers/processes';
import { signedInteraction, blockActionsPayload } from '../helpers/slack-requests';
import { waitFor } from '../helpers/wait';

// A safety net: the waits below end on what they wait for (a URL, a log line, an exit).
jest.setTimeout(START_CAP_MS + 2 * STOP_CAP_MS);

const BOT_TOKEN = `xoxb-${randomBytes(6).toString('hex')}-${randomBytes(12).toString('hex')}`;
const SIGNING_SECRET = randomBytes(16).toString('hex');
const ADMIN_TOKEN = randomBytes(24).toString('base64url');
const adminAuth = { Authorization: `Bearer ${ADMIN_TOKEN}` };

let slack: FakeSlack;
let gateway: RunningCommand;
let worker: RunningCommand;
let workerStartedAt: number;
let gatewayUrl: string;
let gatewayMetricsUrl: string;
let workerMetricsUrl: string;
let temporalMetricsUrl: string;

beforeAll(async () => {
  slack = await startFakeSlack({ token: BOT_TOKEN });
  const [port, gatewayMetricsPort, metricsPort, temporalMetricsPort] = [
    await findFreePort(),
    await findFreePort(),
    await findFreePort(),
    await findFreePort(),
  ];
  const env = {
    TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS,
    DATABASE_URL: process.env.DATABASE_URL,
    TEMPORAL_TASK_QUEUE: `processes-${randomUUID()}`,
    SLACK_API_URL: slack.url,
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    ADMIN_TOKEN,
    ESCALATION_TIMEOUT: '5m',
    LOG_LEVEL: 'debug',
  };
  gateway = runCommand('npm', ['run', 'api'], {
    ...env,
    PORT: String(port),
    GATEWAY_METRICS_PORT: String(gatewayMetricsPort),
  });
  workerStartedAt = Date.now();
  worker = runCommand('npm', ['run', 'worker'], {
    ...env,
    METRICS_PORT: String(metricsPort),
    TEMPORAL_METRICS_PORT: String(temporalMetricsPort),
  });
  gatewayUrl = `http://127.0.0.1:${port}`;
  gatewayMetricsUrl = `http://127.0.0.1:${gatewayMetricsPort}/metrics`;
  workerMetricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  temporalMetricsUrl = `http://127.0.0.1:${temporalMetricsPort}/metrics`;

  await waitForUrl(gateway, `${gatewayUrl}/readyz`);
  await waitForOutput(worker, '"msg":"worker running"');
}, 2 * START_CAP_MS);

afterAll(async () => {
  killProcessGroup(gateway);
  killProcessGroup(worker);
  await slack?.close();
});

async function createTeam(): Promise<{ name: string; channel: string; webhookPath: string; token: string }> {
  const name = `procs-${randomUUID().slice(0, 8)}`;
  const channel = `C${randomUUID().replace(/-/g, '').slice(0, 10).toUpperCase()}`;
  const response = await fetch(`${gatewayUrl}/api/teams`, {
    method: 'POST',
    headers: { ...adminAuth, 'Content-Type': 'application/json' },
    body: JSON.stringify({ name, slackChannelId: channel, engineers: ['U0ALICE', 'U0BOB'] }),
  });
  expect(response.status).toBe(201);
  const webhookPath = new URL(((await response.json()) as { webhookUrl: string }).webhookUrl).pathname;
  return { name, channel, webhookPath, token: webhookPath.split('/').pop() as string };
}

async function metricsText(url: string): Promise<string> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  return response.text();
}

/** The value of one sample line, such as `escalator_acknowledgements_total{team="ops"}`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test('an alert goes through gateway and worker processes, and each serves its own metrics', async () => {
  const team = await createTeam();
  const posted = await fetch(`${gatewayUrl}${team.webhookPath}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ title: 'Disk almost full on db-1', severity: 'critical', key: 'disk-db-1' }),
  });
  expect(posted.status).toBe(202);
  const { workflowId } = (await posted.json()) as { workflowId: string };
  await waitFor('the worker to post the alert', () => slack.messages(team.channel).length > 0);

  const press = signedInteraction(
    SIGNING_SECRET,
    blockActionsPayload({
      action: 'ack',
      workflowId,
      userId: 'U0ALICE',
      userName: 'alice',
      responseUrl: slack.responseUrl(),
      channelId: team.channel,
    })
  );
  const pressed = await fetch(`${gatewayUrl}/slack/interactions`, {
    method: 'POST',
    headers: press.headers,
    body: press.body,
  });
  expect(pressed.status).toBe(200);

  // The worker's own metrics server: the lifecycle steps its activities recorded.
  const workerMetrics = await waitFor('the acknowledgement in the worker metrics', async () => {
    const text = await metricsText(workerMetricsUrl);
    return sample(text, `escalator_acknowledgements_total{team="${team.name}"}`) === 1 ? text : undefined;
  });
  expect(sample(workerMetrics, `escalator_time_to_acknowledge_seconds_count{team="${team.name}"}`)).toBe(1);
  expect(
    sample(workerMetrics, 'escalator_slack_calls_total{method="chat.postMessage",outcome="ok"}')
  ).toBeGreaterThanOrEqual(1);
  // Teams and endpoints are counted by the gateway alone, so that Prometheus does not add them up twice.
  expect(workerMetrics).not.toContain('escalator_teams_configured');

  // The gateway's /metrics, on its own port (GATEWAY_METRICS_PORT), never on the public one.
  expect((await fetch(`${gatewayUrl}/metrics`)).status).toBe(404);
  const gatewayMetrics = await metricsText(gatewayMetricsUrl);
  expect(sample(gatewayMetrics, `escalator_alerts_opened_total{team="${team.name}",severity="critical"}`)).toBe(1);
  expect(sample(gatewayMetrics, 'escalator_teams_configured')).toBeGreaterThanOrEqual(1);
  expect(gatewayMetrics).toMatch(/^escalator_http_request_duration_seconds_count\{.*route="\/:token".*\} \d+$/m);

  // The Temporal SDK's own metrics, on the worker's second port.
  expect(await metricsText(temporalMetricsUrl)).toMatch(/^temporal_\w+/m);
});

test('the running worker has left no workflow bundle in the temporary directory', () => {
  // Every start of a worker bundles the workflows into a private directory there (mkdtemp,
  // `escalator-workflows-XXXXXX`, about 2 MB); it is read once, as the worker is made, and a
  // directory left by each start would pile up for good.
  const bundles = readdirSync(os.tmpdir()).filter(
    (name) =>
      name.startsWith('escalator-workflows-') &&
      statSync(path.join(os.tmpdir(), name)).ctimeMs >= workerStartedAt - 1_000
  );
  expect(bundles).toEqual([]);
});

test('SIGTERM: the gateway finishes the request in flight and exits 0, the worker drains and exits 0, no secret logged', async () => {
  const team = await createTeam();
  const body = JSON.stringify({ title: 'Queue backlog growing', key: 'queue-backlog' });

  // A webhook whose body is still arriving when the gateway is told to stop.
  const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
    const request = http.request(
      `${gatewayUrl}${team.webhookPath}`,
      {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'Content-Length': Buffer.byteLength(body),
          Expect: '100-continue',
        },
      },
      (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
      }
    );
    request.on('error', reject);
    // Node answers `100 Continue` once it has parsed the headers: the request is then in flight
    // (not an idle connection that stopping would close), whatever the machine's load.
    request.on('continue', () => {
      request.write(body.slice(0, 10));
      process.kill(gateway.pid, 'SIGTERM');
      // Once it stopped listening, the rest of the body arrives on the connection it kept.
      waitFor('the gateway to stop accepting connections', () =>
        fetch(`${gatewayUrl}/healthz`).then(
          () => false,
          () => true
        )
      ).then(() => request.end(body.slice(10)), reject);
    });
    request.flushHeaders();
  });

  const { status, body: answered } = await answer;
  expect(status).toBe(202);
  expect(JSON.parse(answered)).toMatchObject({ workflowId: `alert/${team.name}/queue-backlog`, duplicate: false });
  expect(await exitWithin(gateway)).toEqual({ code: 0, signal: null });
  expect(gateway.output()).toContain('"msg":"gateway stopped"');
  // The alert taken during the shutdown is durable: the worker, still running, posts it.
  await waitFor('the worker to post the alert taken during shutdown', () => slack.messages(team.channel).length > 0);

  process.kill(worker.pid, 'SIGTERM');
  expect(await exitWithin(worker)).toEqual({ code: 0, signal: null });
  expect(worker.output()).toContain('"msg":"worker stopped"');

  // Both logs at debug level, the Temporal SDK's lines included, hold none of the secrets.
  for (const [what, secret] of Object.entries({
    botToken: BOT_TOKEN,
    signingSecret: SIGNING_SECRET,
    adminToken: ADMIN_TOKEN,
    endpointToken: team.token,
  })) {
    expect({ what, inLogs: `${gateway.output()}\n${worker.output()}`.includes(secret) }).toEqual({
      what,
      inLogs: false,
    });
  }
});

test('Ctrl-C on npm run api and npm run worker in a terminal stops both cleanly', async () => {
  // SIGINT to each whole process group, as a terminal sends it; npm passes it on a second time.
  const env = {
    TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS,
    DATABASE_URL: process.env.DATABASE_URL,
    TEMPORAL_TASK_QUEUE: `processes-${randomUUID()}`,
    SLACK_API_URL: slack.url,
    SLACK_BOT_TOKEN: BOT_TOKEN,
  };
  const port = await findFreePort();
  const api = runCommand('npm', ['run', 'api'], { ...env, PORT: String(port) });
  const alone = runCommand('npm', ['run', 'worker'], {
    ...env,
    METRICS_PORT: String(await findFreePort()),
    TEMPORAL_METRICS_PORT: String(await findFreePort()),
  });
  try {
    await Promise.all([waitForOutput(api, 'gateway listening'), waitForOutput(alone, 'worker running')]);

    process.kill(-api.pid, 'SIGINT');
    process.kill(-alone.pid, 'SIGINT');

    expect({ exit: await exitWithin(api), output: api.output() }).toMatchObject({
      exit: { code: 0, signal: null },
    });
    expect(api.output()).toContain('"msg":"gateway stopped"');
    expect({ exit: await exitWithin(alone), output: alone.output() }).toMatchObject({
      exit: { code: 0, signal: null },
    });
    expect(alone.output()).toContain('"msg":"worker stopped"');
  } finally {
    killProcessGroup(api);
    killProcessGroup(alone);
  }
});
