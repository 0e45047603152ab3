/**
 * Every log line of a whole alert lifecycle, captured from the pino destination of gateway and
 * worker at debug level, with real secrets configured: none of them may appear anywhere, in any
 * form a reader could use (the bot token, signing secret, admin token, endpoint token, Slack
 * signatures). Lines about an alert carry its ids, so that one grep follows it.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import { Writable } from 'node:stream';
import { startTestEscalator, type RunningTestEscalator } from '../helpers/escalator';
import { blockActionsPayload, signedInteraction } from '../helpers/slack-requests';
import { waitFor } from '../helpers/wait';

const BOT_TOKEN = `xoxb-${randomBytes(6).toString('hex')}-${randomBytes(12).toString('hex')}`;

let escalator: RunningTestEscalator;
let captured = '';

beforeAll(async () => {
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      captured += chunk.toString('utf8');
      done();
    },
  });
  escalator = await startTestEscalator(
    { SLACK_BOT_TOKEN: BOT_TOKEN, LOG_LEVEL: 'debug', ESCALATION_TIMEOUT: '2s' },
    { logDestination: destination }
  );
  await driveLifecycle();
}, 90_000);

afterAll(async () => {
  await escalator?.stop();
});

function logLines(): Array<Record<string, unknown>> {
  return captured
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

async function rawPost(path: string, body: string, headers: Record<string, string>): Promise<number> {
  return (await fetch(`${escalator.url}${path}`, { method: 'POST', body, headers })).status;
}

/** A POST with the path sent exactly as written (fetch would resolve `..` and merge nothing else). */
function postRawPath(rawPath: string, body: string): Promise<number> {
  const { hostname, port } = new URL(escalator.url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { hostname, port, path: rawPath, method: 'POST', headers: { 'Content-Type': 'application/json' } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      }
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The secrets of this run, each as a reader of the log could misuse it. */
let secrets: Record<string, string>;

/**
 * One whole lifecycle with failures and forgeries along the way, driven once: the tests below
 * read what it logged.
 */
async function driveLifecycle(): Promise<void> {
  const adminToken = escalator.adminAuth.Authorization.replace(/^Bearer /, '');
  const signingSecret = escalator.config.slack.signingSecret as string;
  const name = `logs-${randomUUID().slice(0, 8)}`;
  const channel = `C${randomUUID().replace(/-/g, '').slice(0, 10).toUpperCase()}`;
  const created = await escalator.post(
    '/api/teams',
    { name, slackChannelId: channel, engineers: ['U0ALICE', 'U0BOB'] },
    escalator.adminAuth
  );
  expect(created.status).toBe(201);
  const webhookPath = new URL(created.body.webhookUrl as string).pathname;
  const endpointToken = webhookPath.split('/').pop() as string;

  // Slack misbehaves once on the first update: rate limited, so the worker logs a retry.
  escalator.slack.failNext('chat.update', { kind: 'rate_limited', retryAfter: 1 });
  const alert = { title: 'Disk almost full on db-1', key: 'disk-db-1' };
  const opened = await escalator.post(webhookPath, alert);
  expect(opened.status).toBe(202);
  const workflowId = opened.body.workflowId as string;
  const alertId = opened.body.alertId as string;
  // The endpoint token in other spellings of the URL that still reach the webhook route.
  expect((await escalator.post(`${webhookPath}?source=probe`, alert)).status).toBe(202);
  expect((await escalator.post(webhookPath.replace('/webhooks/', '/Webhooks/'), alert)).status).toBe(202);
  // Spellings that a base URL with a trailing slash, or a curious sender, produce; whatever they answer.
  for (const spelling of [`/${webhookPath}`, `/webhooks//${endpointToken}`, `/api/..${webhookPath}`]) {
    await postRawPath(spelling, JSON.stringify(alert));
  }
  // Refused requests are logged too: a body that does not parse, a wrong admin token, a forged press.
  expect(await rawPost(webhookPath, '{"title":', { 'Content-Type': 'application/json' })).toBe(400);
  expect((await escalator.get('/api/alerts', { Authorization: `Bearer ${adminToken}x` })).status).toBe(401);
  expect((await escalator.get('/api/alerts', escalator.adminAuth)).status).toBe(200);
  const forged = signedInteraction(
    `${signingSecret}x`,
    blockActionsPayload({ action: 'ack', workflowId, userId: 'U0MALLORY', channelId: 'C0ANY' })
  );
  expect(await rawPost('/slack/interactions', forged.body, forged.headers)).toBe(401);

  // Nobody acknowledges in time: escalation calls Bob in the thread and by DM.
  await waitFor(
    'the escalation to Bob',
    () => escalator.slack.messages().some((message) => message.channel.startsWith('D')),
    10_000
  );
  const ack = signedInteraction(
    signingSecret,
    blockActionsPayload({
      action: 'ack',
      workflowId,
      userId: 'U0BOB',
      userName: 'bob',
      responseUrl: escalator.slack.responseUrl(),
      channelId: channel,
    })
  );
  expect(await rawPost('/slack/interactions', ack.body, ack.headers)).toBe(200);
  expect(await escalator.press({ action: 'close', workflowId, userId: 'U0BOB', userName: 'bob' })).toBe(200);
  await waitFor('the alert to be closed', async () => {
    const detail = await escalator.get(`/api/alerts/${alertId}`, escalator.adminAuth);
    return detail.body.state === 'closed';
  });
  await waitFor('the rate-limited update to be retried', () =>
    escalator.slack.calls('chat.update').some((call) => call.outcome === 'rate_limited')
  );

  secrets = {
    botToken: BOT_TOKEN,
    signingSecret,
    adminToken,
    endpointToken,
    forgedSignature: forged.headers['X-Slack-Signature'].slice('v0='.length),
    ackSignature: ack.headers['X-Slack-Signature'].slice('v0='.length),
  };
}

test('a whole lifecycle, with failures and forgeries along the way, logs no secret', () => {
  // The capture is real: it holds the requests and the lifecycle, at debug level.
  const lines = logLines();
  expect(lines.length).toBeGreaterThan(10);
  expect(lines.some((line) => line.route === '/webhooks/:token')).toBe(true);
  expect(lines.some((line) => line.msg === 'button press')).toBe(true);

  for (const [what, secret] of Object.entries(secrets)) {
    expect({ what, found: captured.includes(secret) }).toEqual({ what, found: false });
    // A secret cut down to its first half is still a leak (a prefix is enough to confirm a guess).
    expect({ what, found: captured.includes(secret.slice(0, Math.ceil(secret.length / 2))) }).toEqual({
      what,
      found: false,
    });
  }
});

test('lines about an alert carry its alert id and workflow id', () => {
  const opened = logLines().find((line) => line.msg === 'alert opened');
  expect(opened).toMatchObject({ alertId: expect.any(String), workflowId: expect.stringMatching(/^alert\/logs-/) });
  const press = logLines().find((line) => line.msg === 'button press');
  expect(press).toMatchObject({ workflowId: opened?.workflowId, action: 'ack' });
  const slackRetry = logLines().find((line) => line.method === 'chat.update' && line.retry === true);
  expect(slackRetry).toMatchObject({ workflowId: opened?.workflowId, activity: 'updateAlertMessage' });
});
