/**
 * The storm digest's buttons (docs/storm.md) through the real gateway: a signed press of
 * "Acknowledge all" or "Close all" becomes a press of every alert of the storm that it may act on,
 * in the intake journal, and reaches each alert's workflow like a press on its own message.
 */
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { sqlPoolOf } from '../../src/db/client';
import { stormButtonValue } from '../../src/slack/digest-message';
import { startFakeSlack, type FakeSlack } from '../helpers/fake-slack';
import {
  createTestGateway,
  randomSlackSuffix,
  registerTeam,
  type RegisteredTeam,
  type TestGateway,
} from '../helpers/gateway';
import { blockActionsPayload, signedInteraction } from '../helpers/slack-requests';
import { waitFor } from '../helpers/wait';
import { actionSignals } from '../helpers/workflow-history';

let slack: FakeSlack;
let gateway: TestGateway;

beforeAll(async () => {
  slack = await startFakeSlack();
  gateway = createTestGateway({ env: { SLACK_API_URL: slack.url, SLACK_BOT_TOKEN: 'xoxb-test' } });
});

afterAll(async () => {
  await gateway?.close();
  await slack?.close();
});

async function openAlert(team: RegisteredTeam, title: string): Promise<string> {
  const response = await request(gateway.app)
    .post(`/webhooks/${team.token}`)
    .send({ title, key: `${title}-${randomUUID().slice(0, 8)}` })
    .expect(202);
  return response.body.workflowId as string;
}

async function setState(workflowId: string, state: 'acknowledged' | 'closed'): Promise<void> {
  await sqlPoolOf(gateway.db).query(
    `UPDATE alerts SET state = $2::"AlertState", open_fingerprint = CASE WHEN $2 = 'closed' THEN NULL ELSE open_fingerprint END
      WHERE workflow_id = $1`,
    [workflowId, state]
  );
}

function pressStormButton(team: RegisteredTeam, action: 'storm_ack' | 'storm_close', since: Date, responseUrl: string) {
  const payload = blockActionsPayload({
    action,
    workflowId: stormButtonValue(team.slackChannelId, since.toISOString()),
    userId: `U${randomSlackSuffix()}`,
    userName: 'jane',
    channelId: team.slackChannelId,
    responseUrl,
  });
  const press = signedInteraction(gateway.signingSecret, payload);
  return request(gateway.app).post('/slack/interactions').set(press.headers).send(press.body);
}

test('Acknowledge all acknowledges every open alert of the storm, and says how many', async () => {
  const team = await registerTeam(gateway);
  const before = await openAlert(team, 'before the storm');
  const since = new Date(Date.now() + 5);
  await new Promise((resolve) => setTimeout(resolve, 20));
  const open = [await openAlert(team, 'storm a'), await openAlert(team, 'storm b')];
  const acknowledged = await openAlert(team, 'storm acknowledged');
  await setState(acknowledged, 'acknowledged');
  const responseUrl = slack.responseUrl();

  await pressStormButton(team, 'storm_ack', since, responseUrl).expect(200);

  for (const workflowId of open) {
    await waitFor('the press journaled', async () => (await actionSignals(gateway, workflowId)).length === 1);
    expect((await actionSignals(gateway, workflowId))[0]).toMatchObject({ action: 'ack', userName: 'jane' });
  }
  expect(await actionSignals(gateway, acknowledged)).toEqual([]);
  expect(await actionSignals(gateway, before)).toEqual([]);
  const reply = await waitFor('the reply', () =>
    slack.calls('response_url').find((call) => responseUrl.endsWith(`/${call.responseId}`))
  );
  expect(reply.body.text).toBe('Acknowledging 2 alerts of this storm.');
});

test('Close all closes every alert of the storm that has not ended', async () => {
  const team = await registerTeam(gateway);
  const since = new Date();
  const open = await openAlert(team, 'close me');
  const acknowledged = await openAlert(team, 'close me too');
  await setState(acknowledged, 'acknowledged');
  const closed = await openAlert(team, 'already closed');
  await setState(closed, 'closed');

  await pressStormButton(team, 'storm_close', since, slack.responseUrl()).expect(200);

  for (const workflowId of [open, acknowledged]) {
    await waitFor('the press journaled', async () => (await actionSignals(gateway, workflowId)).length === 1);
    expect((await actionSignals(gateway, workflowId))[0]).toMatchObject({ action: 'close' });
  }
  expect(await actionSignals(gateway, closed)).toEqual([]);
});

test("a storm button pressed in another channel than the storm's acts on nothing and says why", async () => {
  const team = await registerTeam(gateway);
  const other = await registerTeam(gateway);
  const since = new Date();
  const workflowId = await openAlert(team, 'not yours');
  const responseUrl = slack.responseUrl();
  const payload = blockActionsPayload({
    action: 'storm_close',
    workflowId: stormButtonValue(team.slackChannelId, since.toISOString()),
    userId: `U${randomSlackSuffix()}`,
    channelId: other.slackChannelId,
    responseUrl,
  });
  const press = signedInteraction(gateway.signingSecret, payload);

  await request(gateway.app).post('/slack/interactions').set(press.headers).send(press.body).expect(200);

  const reply = await waitFor('the reply', () =>
    slack.calls('response_url').find((call) => responseUrl.endsWith(`/${call.responseId}`))
  );
  expect(reply.body.text).toContain('another channel');
  expect(await actionSignals(gateway, workflowId)).toEqual([]);
});
