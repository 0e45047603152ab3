/**
 * The Slack app's routes on the real gateway in single-workspace mode (SLACK_BOT_TOKEN): the bot
 * invited to a channel sets its team up with that token, events are answered before their work,
 * and /slack/commands refuses what Slack did not sign or cannot have sent.
 */
import request from 'supertest';
import { startFakeSlack, type FakeSlack, type FakeWorkspace } from '../helpers/fake-slack';
import { createTestGateway, type TestGateway } from '../helpers/gateway';
import { eventCallback, signedCommand } from '../helpers/slack-app-requests';
import { signedEvent, signSlackRequest } from '../helpers/slack-requests';
import { waitFor } from '../helpers/wait';

let slack: FakeSlack;
let gateway: TestGateway;
let workspace: FakeWorkspace;
const CHANNEL = 'C0SOLOOPS';

beforeAll(async () => {
  slack = await startFakeSlack();
  workspace = slack.workspaces.add('Solo', { [CHANNEL]: { name: 'payments', members: ['U0ALICE'] } });
  const token = slack.workspaces.issueToken(workspace.teamId);
  gateway = createTestGateway({ env: { SLACK_API_URL: slack.url, SLACK_BOT_TOKEN: token } });
});

afterAll(async () => {
  await gateway?.close();
  await slack?.close();
});

function postEvent(envelope: Record<string, unknown>) {
  const event = signedEvent(gateway.signingSecret, envelope);
  return request(gateway.app).post('/slack/events').set(event.headers).send(event.body);
}

describe('single-workspace mode', () => {
  test('inviting the bot creates the channel team with SLACK_BOT_TOKEN; a Slack call that hangs behind the answer does not hold it', async () => {
    slack.workspaces.join(workspace.teamId, CHANNEL, workspace.botUserId);
    slack.failNext('conversations.info', { kind: 'hang', ms: 4_000 });

    // Answered while conversations.info still hangs: the work runs behind the answer.
    await postEvent(
      eventCallback(workspace.teamId, { type: 'member_joined_channel', user: workspace.botUserId, channel: CHANNEL })
    ).expect(200);
    await waitFor('the channel lookup, still hanging behind the answer', () =>
      slack.calls('conversations.info').some((call) => call.outcome === 'hang')
    );
    expect(await gateway.db.team.count({ where: { slackChannelId: CHANNEL } })).toBe(0);

    // That attempt gives up after the 3-second Slack timeout (logged); a new invitation sets the team up.
    await postEvent(
      eventCallback(workspace.teamId, { type: 'member_joined_channel', user: workspace.botUserId, channel: CHANNEL })
    ).expect(200);
    const welcome = await waitFor(
      'the welcome message',
      () => slack.messages(CHANNEL).find((m) => m.text?.includes('Escalator is set up')),
      10_000
    );
    expect(welcome.text).toContain('team *payments');
    const team = await gateway.db.team.findFirstOrThrow({ where: { slackChannelId: CHANNEL, installationId: null } });
    expect(team.pausedAt).toBeNull();
  });

  test("someone else leaving the channel changes nothing; the bot's own leaving pauses the team", async () => {
    await postEvent(
      eventCallback(workspace.teamId, { type: 'member_left_channel', user: 'U0ALICE', channel: CHANNEL })
    ).expect(200);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await gateway.db.team.findFirstOrThrow({ where: { slackChannelId: CHANNEL } })).pausedAt).toBeNull();

    await postEvent(
      eventCallback(workspace.teamId, { type: 'member_left_channel', user: workspace.botUserId, channel: CHANNEL })
    ).expect(200);

    await waitFor(
      'the team paused',
      async () => (await gateway.db.team.findFirstOrThrow({ where: { slackChannelId: CHANNEL } })).pausedAt
    );
  });
});

describe('POST /slack/commands', () => {
  const command = (overrides: Partial<Parameters<typeof signedCommand>[1]> = {}) =>
    signedCommand(gateway.signingSecret, {
      teamId: workspace.teamId,
      channelId: 'C0NOTEAM',
      userId: 'U0ALICE',
      text: 'help',
      responseUrl: slack.responseUrl(),
      ...overrides,
    });

  test('answers help at once, only to the person who asked', async () => {
    const help = command();

    const response = await request(gateway.app).post('/slack/commands').set(help.headers).send(help.body).expect(200);

    expect(response.body.response_type).toBe('ephemeral');
    expect(response.body.text).toContain('/escalator rotation @alice @bob');
  });

  test('tells how to set a channel up when it has no team yet', async () => {
    const status = command({ text: 'status' });

    const response = await request(gateway.app)
      .post('/slack/commands')
      .set(status.headers)
      .send(status.body)
      .expect(200);

    expect(response.body.text).toContain('invite it with `/invite @Escalator`');
  });

  test('answers a timeout out of range with how to write it, changing nothing', async () => {
    const tooShort = command({ text: 'timeout 1s' });

    const response = await request(gateway.app)
      .post('/slack/commands')
      .set(tooShort.headers)
      .send(tooShort.body)
      .expect(200);

    expect(response.body.text).toContain('between 10s and 24h');
  });

  test('refuses an unsigned or re-signed command with 401, and a body without its fields with 400', async () => {
    const signed = command();
    await request(gateway.app)
      .post('/slack/commands')
      .set('Content-Type', 'application/x-www-form-urlencoded')
      .send(signed.body)
      .expect(401);
    await request(gateway.app)
      .post('/slack/commands')
      .set(signed.headers)
      .send(`${signed.body}&text=rotation`)
      .expect(401);

    const body = 'text=help';
    const response = await request(gateway.app)
      .post('/slack/commands')
      .set({ ...signSlackRequest(gateway.signingSecret, body), 'Content-Type': 'application/x-www-form-urlencoded' })
      .send(body)
      .expect(400);
    expect(response.body.error).toMatch(/team_id|channel_id|user_id|response_url/);
  });
});
