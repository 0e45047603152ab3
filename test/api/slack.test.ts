import { randomUUID } from 'node:crypto';
import net from 'node:net';
import request from 'supertest';
import { sqlPoolOf } from '../../src/db/client';
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
import { actionSignals } from '../helpers/workflow-history';
import { UNKNOWN_ALERT_REPLY } from '../../src/api/handlers/slack';

const SIX_MINUTES_MS = 6 * 60_000;

async function openAlert(gateway: TestGateway, team: RegisteredTeam): Promise<string> {
  const response = await request(gateway.app)
    .post(`/webhooks/${team.token}`)
    .send({ title: 'Checkout errors', key: `checkout-${randomUUID().slice(0, 8)}` })
    .expect(202);
  return response.body.workflowId as string;
}

describe('POST /slack/interactions', () => {
  let slack: FakeSlack;
  let gateway: TestGateway;
  let team: RegisteredTeam;

  beforeAll(async () => {
    slack = await startFakeSlack();
    // The stand-in's response_url is on its own origin: the gateway posts only to Slack or to it.
    gateway = createTestGateway({ env: { SLACK_API_URL: slack.url, SLACK_BOT_TOKEN: 'xoxb-test' } });
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
      blockActionsPayload({
        action: 'ack',
        workflowId,
        userId,
        userName: 'jane',
        actionTs: '1700000000.123456',
        channelId: team.slackChannelId,
      })
    );

    const response = await request(gateway.app)
      .post('/slack/interactions')
      .set(press.headers)
      .send(press.body)
      .expect(200);

    expect(response.text).toBe('');
    expect(await actionSignals(gateway, workflowId)).toEqual([
      {
        action: 'ack',
        userId,
        userName: 'jane',
        pressId: `1700000000.123456:${userId}`,
        reportId: expect.any(Number),
      },
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
    const body = interactionBody(
      blockActionsPayload({ action: 'close', workflowId, userId: 'U0MALLORY', channelId: team.slackChannelId })
    );

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
    const payload = blockActionsPayload({
      action: 'close',
      workflowId,
      userId: 'U0MALLORY',
      channelId: team.slackChannelId,
    });
    const signed = signedInteraction(gateway.signingSecret, payload);
    const reserialised = `payload=${encodeURIComponent(JSON.stringify(payload, null, 1))}`;

    await request(gateway.app).post('/slack/interactions').set(signed.headers).send(reserialised).expect(401);

    expect(await actionSignals(gateway, workflowId)).toEqual([]);
  });

  test('refuses a request without signature headers', async () => {
    const body = interactionBody(
      blockActionsPayload({ action: 'ack', workflowId: 'alert/x/y', userId: 'U0X', channelId: 'C0X' })
    );

    const response = await request(gateway.app)
      .post('/slack/interactions')
      .set('Content-Type', 'application/x-www-form-urlencoded')
      .send(body)
      .expect(401);

    expect(response.body.error).toMatch(/missing X-Slack-Request-Timestamp/);
  });

  /** Ends the alert in the database as its workflow does when it closes or resolves. */
  async function endAlert(workflowId: string, state: 'closed' | 'resolved', endedBy: string, endedAt: Date) {
    await gateway.dispatched(workflowId);
    await gateway.db.alert.updateMany({
      where: { workflowId },
      data: { state, openFingerprint: null, endedBy, endedAt },
    });
  }

  async function ephemeralReplyTo(press: { action: 'ack'; workflowId: string; userId: string }) {
    const responseUrl = slack.responseUrl();
    const signed = signedInteraction(
      gateway.signingSecret,
      blockActionsPayload({ ...press, responseUrl, channelId: team.slackChannelId })
    );
    await request(gateway.app).post('/slack/interactions').set(signed.headers).send(signed.body).expect(200);
    const reply = await waitFor('the ephemeral reply', () =>
      slack.calls('response_url').find((call) => responseUrl.endsWith(`/${call.responseId}`))
    );
    return reply.body as Record<string, unknown>;
  }

  test('a press on a closed alert answers 200 and tells the presser, only them, who closed it and when', async () => {
    const workflowId = await openAlert(gateway, team);
    await endAlert(workflowId, 'closed', 'alice', new Date());

    const reply = await ephemeralReplyTo({ action: 'ack', workflowId, userId: 'U0LATE' });

    expect(reply).toEqual({
      response_type: 'ephemeral',
      replace_original: false,
      text: expect.stringMatching(/^This alert was already closed by alice at \d\d:\d\d UTC\.$/),
    });
    expect(await actionSignals(gateway, workflowId)).toEqual([]);
  });

  test('a press on an alert its source resolved says so, and when', async () => {
    const workflowId = await openAlert(gateway, team);
    await endAlert(workflowId, 'resolved', 'cloudwatch', new Date('2026-11-30T21:34:00Z'));

    const reply = await ephemeralReplyTo({ action: 'ack', workflowId, userId: 'U0LATE' });

    expect(reply.text).toBe('This alert was already resolved by its source (cloudwatch) at 2026-11-30 21:34 UTC.');
  });

  test("a signed press from another channel on this team's alert acts on nothing and says why", async () => {
    const workflowId = await openAlert(gateway, team);
    const responseUrl = slack.responseUrl();
    const press = signedInteraction(
      gateway.signingSecret,
      blockActionsPayload({ action: 'close', workflowId, userId: 'U0MALLORY', responseUrl, channelId: 'C0ELSEWHERE' })
    );

    await request(gateway.app).post('/slack/interactions').set(press.headers).send(press.body).expect(200);

    const reply = await waitFor('the ephemeral reply', () =>
      slack.calls('response_url').find((call) => responseUrl.endsWith(`/${call.responseId}`))
    );
    expect((reply.body as { text: string }).text).toMatch(/belongs to an alert of another channel/);
    expect(await actionSignals(gateway, workflowId)).toEqual([]);
  });

  test('a signed press from a workspace Escalator does not know acts on nothing, is answered 200 and logged', async () => {
    const workflowId = await openAlert(gateway, team);
    const press = signedInteraction(
      gateway.signingSecret,
      blockActionsPayload({
        action: 'close',
        workflowId,
        userId: 'U0MALLORY',
        channelId: team.slackChannelId,
        teamId: 'T0STRANGER',
      })
    );

    await request(gateway.app).post('/slack/interactions').set(press.headers).send(press.body).expect(200);

    expect(await actionSignals(gateway, workflowId)).toEqual([]);
    expect(
      gateway.logLines().some((line) => line.slackTeamId === 'T0STRANGER' && /does not know/.test(String(line.msg)))
    ).toBe(true);
  });

  test('a press by someone whose name has quotes and backslashes reaches the workflow with that name, as they wrote it', async () => {
    const workflowId = await openAlert(gateway, team);
    const userName = String.raw`o'brien \' "x"); DROP TABLE alerts; --`;
    const press = signedInteraction(
      gateway.signingSecret,
      blockActionsPayload({ action: 'ack', workflowId, userId: 'U0QUOTE', userName, channelId: team.slackChannelId })
    );

    await request(gateway.app).post('/slack/interactions').set(press.headers).send(press.body).expect(200);

    expect(await actionSignals(gateway, workflowId)).toEqual([
      expect.objectContaining({ action: 'ack', userId: 'U0QUOTE', userName }),
    ]);
  });

  test('a press on an alert Escalator never opened acts on nothing and tells the presser', async () => {
    const workflowId = `alert/${team.name}/never-opened-${randomUUID().slice(0, 8)}`;
    const responseUrl = slack.responseUrl();
    const press = signedInteraction(
      gateway.signingSecret,
      blockActionsPayload({ action: 'ack', workflowId, userId: 'U0LOST', responseUrl, channelId: team.slackChannelId })
    );

    await request(gateway.app).post('/slack/interactions').set(press.headers).send(press.body).expect(200);

    const reply = await waitFor('the ephemeral reply', () =>
      slack.calls('response_url').find((call) => responseUrl.endsWith(`/${call.responseId}`))
    );
    expect((reply.body as { text: string }).text).toBe(UNKNOWN_ALERT_REPLY);
    const journal = await sqlPoolOf(gateway.db).query('SELECT 1 FROM intake_journal WHERE workflow_id = $1', [
      workflowId,
    ]);
    expect(journal.rowCount).toBe(0);
  });

  test('a press is recorded while every shared database connection is busy with reports (a storm)', async () => {
    const workflowId = await openAlert(gateway, team);
    const pool = sqlPoolOf(gateway.db);
    const held = await Promise.all(Array.from({ length: pool.options.max ?? 10 }, () => pool.connect()));
    try {
      const press = signedInteraction(
        gateway.signingSecret,
        blockActionsPayload({ action: 'ack', workflowId, userId: 'U0STORM', channelId: team.slackChannelId })
      );
      await request(gateway.app).post('/slack/interactions').set(press.headers).send(press.body).expect(200);
      // Answered and durable while the shared pool had no connection to give.
      expect(pool.idleCount).toBe(0);
      const recorded = await held[0]!.query(
        "SELECT count(*)::int AS n FROM intake_journal WHERE workflow_id = $1 AND kind = 'action'",
        [workflowId]
      );
      expect(recorded.rows[0]).toEqual({ n: 1 });
    } finally {
      for (const connection of held) connection.release();
    }
    expect(await actionSignals(gateway, workflowId)).toEqual([
      expect.objectContaining({ action: 'ack', userId: 'U0STORM' }),
    ]);
  });

  test('a payload that carries more than one action is refused with 400', async () => {
    const workflowId = await openAlert(gateway, team);
    const payload = blockActionsPayload({ action: 'ack', workflowId, userId: 'U0TWO', channelId: team.slackChannelId });
    const [action] = payload.actions as Array<Record<string, unknown>>;
    const press = signedInteraction(gateway.signingSecret, {
      ...payload,
      actions: [action, { ...action, action_id: 'close' }],
    });

    const response = await request(gateway.app)
      .post('/slack/interactions')
      .set(press.headers)
      .send(press.body)
      .expect(400);

    expect(response.body.error).toMatch(/one action per press/);
    expect(await actionSignals(gateway, workflowId)).toEqual([]);
  });

  test('a press that is not one of the alert buttons is answered 200 and ignored', async () => {
    const workflowId = await openAlert(gateway, team);
    const press = signedInteraction(
      gateway.signingSecret,
      blockActionsPayload({ action: 'snooze', workflowId, userId: 'U0SOMEONE', channelId: team.slackChannelId })
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
  // A press is durable once written to the intake journal: it reaches its workflow when Temporal
  // answers again (the next describe).
  let slack: FakeSlack;
  let gateway: TestGateway;

  beforeAll(async () => {
    slack = await startFakeSlack();
    gateway = createTestGateway({
      temporalAddress: CLOSED_PORT_ADDRESS,
      env: { SLACK_API_URL: slack.url, SLACK_BOT_TOKEN: 'xoxb-test' },
    });
  });

  afterAll(async () => {
    await gateway?.close();
    await slack?.close();
  });

  test('a press on a live alert is kept for its workflow, and the presser is not asked to press again', async () => {
    const team = await registerTeam(gateway);
    const workflowId = `alert/${team.name}/disk`;
    // An alert taken while Temporal still answered.
    await gateway.db.alert.create({
      data: {
        teamId: team.id,
        workflowId,
        fingerprint: 'disk',
        openFingerprint: 'disk',
        source: 'generic',
        title: 'Disk full',
        severity: 'error',
      },
    });
    const responseUrl = slack.responseUrl();
    const press = signedInteraction(
      gateway.signingSecret,
      blockActionsPayload({
        action: 'ack',
        workflowId,
        userId: 'U0ONCALL',
        responseUrl,
        channelId: team.slackChannelId,
      })
    );

    await request(gateway.app).post('/slack/interactions').set(press.headers).send(press.body).expect(200);

    const kept = await gateway.db.intakeEntry.findMany({ where: { workflowId } });
    expect(kept.map((entry) => entry.kind)).toEqual(['action']);
    expect(kept[0]?.payload).toMatchObject({ signal: { action: 'ack', userId: 'U0ONCALL' } });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(slack.calls('response_url')).toEqual([]);
  });
});

/**
 * A TCP door in front of the run's Temporal: shut, it drops every connection and refuses new ones,
 * as a Temporal that went away; opened again, it forwards as before.
 */
async function temporalDoor(target: string) {
  const [host, port] = target.split(':') as [string, string];
  let isOpen = true;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    if (!isOpen) {
      client.destroy();
      return;
    }
    const upstream = net.connect(Number(port), host);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', drop).on('close', drop);
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    shut() {
      isOpen = false;
      for (const socket of sockets) socket.destroy();
    },
    open() {
      isOpen = true;
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('POST /slack/interactions while Temporal goes away and comes back', () => {
  let slack: FakeSlack;
  let door: Awaited<ReturnType<typeof temporalDoor>>;
  let gateway: TestGateway;

  beforeAll(async () => {
    slack = await startFakeSlack();
    door = await temporalDoor(process.env.TEMPORAL_ADDRESS as string);
    gateway = createTestGateway({
      temporalAddress: door.address,
      env: { SLACK_API_URL: slack.url, SLACK_BOT_TOKEN: 'xoxb-test' },
    });
  });

  afterAll(async () => {
    await gateway?.close();
    await door?.close();
    await slack?.close();
  });

  test('a press answered while Temporal was away reaches its workflow once Temporal answers again', async () => {
    const team = await registerTeam(gateway);
    const workflowId = await openAlert(gateway, team);
    await gateway.dispatched(workflowId);

    door.shut();
    const press = signedInteraction(
      gateway.signingSecret,
      blockActionsPayload({ action: 'ack', workflowId, userId: 'U0ONCALL', channelId: team.slackChannelId })
    );
    await request(gateway.app).post('/slack/interactions').set(press.headers).send(press.body).expect(200);
    // Long enough for the dispatcher to have tried and failed, and to back off.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    door.open();

    await waitFor(
      'the press in the workflow',
      async () => (await actionSignals(gateway, workflowId)).length > 0,
      60_000
    );
    expect(await actionSignals(gateway, workflowId)).toEqual([
      expect.objectContaining({ action: 'ack', userId: 'U0ONCALL' }),
    ]);
  }, 90_000);
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
