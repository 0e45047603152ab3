import { randomUUID } from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import request from 'supertest';
import { startFakeSlack, type FakeSlack } from '../helpers/fake-slack';
import {
  CLOSED_PORT_ADDRESS,
  createTestGateway,
  randomSlackSuffix,
  registerTeam,
  type RegisteredTeam,
  type TestGateway,
} from '../helpers/gateway';
import {
  blockActionsPayload,
  interactionBody,
  signedEvent,
  signedInteraction,
  signSlackRequest,
} from '../helpers/slack-requests';
import { waitFor } from '../helpers/wait';

const SIX_MINUTES_MS = 6 * 60_000;

async function openAlert(gateway: TestGateway, team: RegisteredTeam): Promise<string> {
  const response = await request(gateway.app)
    .post(`/webhooks/${team.token}`)
    .send({ title: 'Checkout errors', key: `checkout-${randomUUID().slice(0, 8)}` })
    .expect(202);
  return response.body.workflowId as string;
}

async function actionSignals(gateway: TestGateway, workflowId: string): Promise<unknown[]> {
  const history = await gateway.temporal.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? [])
    .map((event) => event.workflowExecutionSignaledEventAttributes)
    .filter((attributes) => attributes?.signalName === 'action')
    .map((attributes) => defaultPayloadConverter.fromPayload(attributes!.input!.payloads![0]!));
}

describe('POST /slack/interactions', () => {
  let slack: FakeSlack;
  let gateway: TestGateway;
  let team: RegisteredTeam;

  beforeAll(async () => {
    slack = await startFakeSlack();
    gateway = createTestGateway();
    team = await registerTeam(gateway);
  });

  afterAll(async () => {
    await gateway?.close();
    await slack?.close();
  });

  test('a signed Acknowledge press reaches the alert workflow as an action signal, answered 200 with no body', async () => {
    const workflowId = await openAlert(gateway, team);
    const userId = `U${randomSlackSuffix()}`;
    const press = signedInteraction(
      gateway.signingSecret,
      blockActionsPayload({ action: 'ack', workflowId, userId, userName: 'jane', actionTs: '1700000000.123456' })
    );

    const response = await request(gateway.app)
      .post('/slack/interactions')
      .set(press.headers)
      .send(press.body)
      .expect(200);

    expect(response.text).toBe('');
    expect(await actionSignals(gateway, workflowId)).toEqual([
      { action: 'ack', userId, userName: 'jane', pressId: `1700000000.123456:${userId}` },
    ]);
  });

  test.each([
    ['forged', (secret: string, body: string) => signSlackRequest(`${secret}-not`, body)],
    [
      'stale (6 minutes old)',
      (secret: string, body: string) => signSlackRequest(secret, body, Date.now() - SIX_MINUTES_MS),
    ],
    [
      'from the future (6 minutes ahead)',
      (secret: string, body: string) => signSlackRequest(secret, body, Date.now() + SIX_MINUTES_MS),
    ],
  ])('refuses a %s signature with 401 and signals nothing', async (_kind, sign) => {
    const workflowId = await openAlert(gateway, team);
    const body = interactionBody(blockActionsPayload({ action: 'close', workflowId, userId: 'U0MALLORY' }));

    const response = await request(gateway.app)
      .post('/slack/interactions')
      .set({ ...sign(gateway.signingSecret, body), 'Content-Type': 'application/x-www-form-urlencoded' })
      .send(body)
      .expect(401);

    expect(response.body.error).toMatch(/^invalid Slack request signature: /);
    expect(await actionSignals(gateway, workflowId)).toEqual([]);
  });

  test('refuses a body that was re-serialised after signing (same JSON, other bytes)', async () => {
    const workflowId = await openAlert(gateway, team);
    const payload = blockActionsPayload({ action: 'close', workflowId, userId: 'U0MALLORY' });
    const signed = signedInteraction(gateway.signingSecret, payload);
    const reserialised = `payload=${encodeURIComponent(JSON.stringify(payload, null, 1))}`;

    await request(gateway.app).post('/slack/interactions').set(signed.headers).send(reserialised).expect(401);

    expect(await actionSignals(gateway, workflowId)).toEqual([]);
  });

  test('refuses a request without signature headers', async () => {
    const body = interactionBody(blockActionsPayload({ action: 'ack', workflowId: 'alert/x/y', userId: 'U0X' }));

    const response = await request(gateway.app)
      .post('/slack/interactions')
      .set('Content-Type', 'application/x-www-form-urlencoded')
      .send(body)
      .expect(401);

    expect(response.body.error).toMatch(/missing X-Slack-Request-Timestamp/);
  });

  test('a press on a closed alert answers 200 and tells the presser, only them, that it is closed', async () => {
    const workflowId = await openAlert(gateway, team);
    await gateway.temporal.workflow.getHandle(workflowId).terminate('alert closed');
    const responseUrl = slack.responseUrl();
    const press = signedInteraction(
      gateway.signingSecret,
      blockActionsPayload({ action: 'ack', workflowId, userId: 'U0LATE', responseUrl })
    );

    await request(gateway.app).post('/slack/interactions').set(press.headers).send(press.body).expect(200);

    const reply = await waitFor('the ephemeral reply', () =>
      slack.calls('response_url').find((call) => responseUrl.endsWith(`/${call.responseId}`))
    );
    expect(reply.body).toEqual({
      response_type: 'ephemeral',
      replace_original: false,
      text: 'This alert is already closed.',
    });
  });

  test('a press that is not one of the alert buttons is answered 200 and ignored', async () => {
    const workflowId = await openAlert(gateway, team);
    const press = signedInteraction(
      gateway.signingSecret,
      blockActionsPayload({ action: 'snooze', workflowId, userId: 'U0SOMEONE' })
    );

    await request(gateway.app).post('/slack/interactions').set(press.headers).send(press.body).expect(200);

    expect(await actionSignals(gateway, workflowId)).toEqual([]);
  });

  test('answers 400 when the signed body carries no usable payload', async () => {
    const body = 'payload=%7Bnot-json';
    const response = await request(gateway.app)
      .post('/slack/interactions')
      .set({ ...signSlackRequest(gateway.signingSecret, body), 'Content-Type': 'application/x-www-form-urlencoded' })
      .send(body)
      .expect(400);

    expect(response.body.error).toMatch(/^payload is not valid JSON: /);
  });
});

describe('POST /slack/interactions while Temporal is unreachable', () => {
  let slack: FakeSlack;
  let gateway: TestGateway;

  beforeAll(async () => {
    slack = await startFakeSlack();
    gateway = createTestGateway({ temporalAddress: CLOSED_PORT_ADDRESS });
  });

  afterAll(async () => {
    await gateway?.close();
    await slack?.close();
  });

  test('answers within Slack’s 3 seconds and asks the presser to try again', async () => {
    const responseUrl = slack.responseUrl();
    const press = signedInteraction(
      gateway.signingSecret,
      blockActionsPayload({ action: 'ack', workflowId: 'alert/ops/disk', userId: 'U0ONCALL', responseUrl })
    );

    const started = Date.now();
    await request(gateway.app).post('/slack/interactions').set(press.headers).send(press.body).expect(200);
    expect(Date.now() - started).toBeLessThan(3_000);

    const reply = await waitFor('the ephemeral reply', () => slack.calls('response_url')[0]);
    expect(reply.body).toMatchObject({
      response_type: 'ephemeral',
      text: expect.stringMatching(/could not record your press, try again/),
    });
  });
});

describe('POST /slack/events', () => {
  let gateway: TestGateway;

  beforeAll(() => {
    gateway = createTestGateway();
  });

  afterAll(async () => {
    await gateway?.close();
  });

  test('answers Slack’s URL verification with its challenge', async () => {
    const event = signedEvent(gateway.signingSecret, { type: 'url_verification', token: 'legacy', challenge: 'c-123' });

    const response = await request(gateway.app).post('/slack/events').set(event.headers).send(event.body).expect(200);

    expect(response.body).toEqual({ challenge: 'c-123' });
  });

  test('acknowledges other events and their redeliveries with 200', async () => {
    const event = signedEvent(gateway.signingSecret, {
      type: 'event_callback',
      event: { type: 'app_mention', user: 'U0X', text: 'hi' },
    });

    await request(gateway.app).post('/slack/events').set(event.headers).send(event.body).expect(200);
    await request(gateway.app)
      .post('/slack/events')
      .set({ ...event.headers, 'X-Slack-Retry-Num': '1', 'X-Slack-Retry-Reason': 'http_timeout' })
      .send(event.body)
      .expect(200);
  });

  test('refuses an unsigned URL verification', async () => {
    await request(gateway.app)
      .post('/slack/events')
      .set('Content-Type', 'application/json')
      .send({ type: 'url_verification', challenge: 'c-123' })
      .expect(401);
  });
});

describe('Slack routes without SLACK_SIGNING_SECRET', () => {
  let gateway: TestGateway;

  beforeAll(() => {
    gateway = createTestGateway({ env: { SLACK_SIGNING_SECRET: undefined } });
  });

  afterAll(async () => {
    await gateway?.close();
  });

  test('refuse every request with 401 saying why', async () => {
    const event = signedEvent('any-secret', { type: 'url_verification', challenge: 'c' });

    const response = await request(gateway.app).post('/slack/events').set(event.headers).send(event.body).expect(401);

    expect(response.body.error).toBe('SLACK_SIGNING_SECRET is not configured: Slack requests cannot be verified');
  });
});
