/**
 * The Slack app's routes on the real gateway in single-workspace mode (SLACK_BOT_TOKEN): the bot
 * invited to a channel sets its team up with that token, events are answered before their work,
 * /slack/commands refuses what Slack did not sign or cannot have sent, mentions of the bot work as
 * commands, and the App Home tab shows a person's alerts and teams within Slack's limits.
 */
import request from 'supertest';
import { startFakeSlack, type FakeSlack, type FakeWorkspace } from '../helpers/fake-slack';
import { createTestGateway, type TestGateway } from '../helpers/gateway';
import { appHomeOpened, appMention, eventCallback, signedCommand, type Mention } from '../helpers/slack-app-requests';
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

  test("a workspace Escalator does not know acts on nothing: its uninstall, channel_left, invitation and commands are answered 200 and logged, and SLACK_BOT_TOKEN's teams stay active", async () => {
    const STRANGER = 'T0STRANGER';
    const STRANGE_CHANNEL = 'C0STRANGE';
    const teamBefore = await gateway.db.team.findFirstOrThrow({
      where: { slackChannelId: CHANNEL, installationId: null },
    });
    const tokenRotate = signedCommand(gateway.signingSecret, {
      teamId: STRANGER,
      channelId: CHANNEL,
      userId: 'U0ALICE',
      text: 'token rotate',
      responseUrl: slack.responseUrl(),
    });

    await postEvent(eventCallback(STRANGER, { type: 'app_uninstalled' })).expect(200);
    await postEvent(eventCallback(STRANGER, { type: 'tokens_revoked', tokens: { bot: ['B0STRANGE'] } })).expect(200);
    await postEvent(eventCallback(STRANGER, { type: 'channel_left', channel: CHANNEL, actor_id: 'U0MALLORY' })).expect(
      200
    );
    await postEvent(
      eventCallback(STRANGER, { type: 'member_joined_channel', user: workspace.botUserId, channel: STRANGE_CHANNEL })
    ).expect(200);
    const commandAnswer = await request(gateway.app)
      .post('/slack/commands')
      .set(tokenRotate.headers)
      .send(tokenRotate.body)
      .expect(200);

    expect(commandAnswer.text).toBe('');
    await waitFor('each request logged as from an unknown workspace', () =>
      gateway.logLines().filter((line) => line.slackTeamId === STRANGER && /does not know/.test(String(line.msg)))
        .length === 5
        ? true
        : undefined
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    const teamAfter = await gateway.db.team.findUniqueOrThrow({ where: { id: teamBefore.id } });
    expect(teamAfter.pausedAt).toBeNull();
    expect(await gateway.db.team.count({ where: { slackChannelId: STRANGE_CHANNEL } })).toBe(0);
    expect(
      await gateway.db.teamAuditEntry.count({ where: { teamId: teamBefore.id, action: { not: 'created' } } })
    ).toBe(0);
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

describe('mentions of the bot as commands', () => {
  const OPS = 'C0SOLOMENT';
  const ALICE = 'U0ALICE';
  const BOB = 'U0BOB';
  const MALLORY = 'U0MALLORY';
  let teamId: string;

  beforeAll(async () => {
    workspace.channels.set(OPS, { name: 'mention-ops', members: new Set([ALICE, BOB, workspace.botUserId]) });
    await postEvent(
      eventCallback(workspace.teamId, { type: 'member_joined_channel', user: workspace.botUserId, channel: OPS })
    ).expect(200);
    teamId = (
      await waitFor('the channel team', () => gateway.db.team.findFirst({ where: { slackChannelId: OPS } }), 10_000)
    ).id;
  });

  function mention(fields: Partial<Mention> & { text: string }) {
    return eventCallback(workspace.teamId, appMention({ channel: OPS, user: ALICE, ...fields }));
  }
  const inChannel = () => slack.messages(OPS);
  const replies = (ts: string) => slack.messages(OPS).filter((m) => m.threadTs === ts);
  const engineers = async () =>
    (await gateway.db.engineer.findMany({ where: { teamId }, orderBy: { position: 'asc' } })).map((e) => e.slackUserId);

  test('help is answered in the thread of the mention, through the bot token', async () => {
    const envelope = mention({ text: `<@${workspace.botUserId}> help` });
    const ts = (envelope.event as { ts: string }).ts;

    await postEvent(envelope).expect(200);

    const reply = await waitFor('the help reply', () => replies(ts)[0]);
    expect(reply.text).toContain('/escalator rotation @alice @bob');
    const call = slack.calls('chat.postMessage').find((c) => c.body.thread_ts === ts)!;
    expect(call.token).toBe(workspace.botToken);
  });

  test('a member sets the rotation by mention: confirmed in the channel naming people without pinging them, audited; a redelivery acts once', async () => {
    const envelope = mention({ text: `<@${workspace.botUserId}> rotation <@${BOB}> <@${ALICE}>` });
    const before = inChannel().length;

    await postEvent(envelope).expect(200);
    await postEvent(envelope).set({ 'X-Slack-Retry-Num': '1', 'X-Slack-Retry-Reason': 'http_timeout' }).expect(200);

    const confirmation = await waitFor('the confirmation', () =>
      inChannel().find((m) => m.text?.includes('set the rotation'))
    );
    expect(confirmation.text).toBe(':busts_in_silhouette: `U0ALICE` set the rotation: `U0BOB` → `U0ALICE`.');
    expect(confirmation.threadTs).toBeUndefined();
    expect(await engineers()).toEqual([BOB, ALICE]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(inChannel()).toHaveLength(before + 1);
    expect(await gateway.db.teamAuditEntry.count({ where: { teamId, action: 'rotation', actor: ALICE } })).toBe(1);
  });

  test('a mention from someone outside the channel is refused in its thread and changes nothing', async () => {
    const envelope = mention({ user: MALLORY, text: `<@${workspace.botUserId}> rotation <@${MALLORY}>` });
    const ts = (envelope.event as { ts: string }).ts;

    await postEvent(envelope).expect(200);

    const refusal = await waitFor('the refusal', () => replies(ts)[0]);
    expect(refusal.text).toBe('Only members of this channel can change its team.');
    expect(await engineers()).toEqual([BOB, ALICE]);
    expect(await gateway.db.teamAuditEntry.count({ where: { teamId, actor: MALLORY, action: 'refused' } })).toBe(1);
  });

  test("the bot's own messages and edited messages are not commands", async () => {
    const before = slack.calls('chat.postMessage').length;

    await postEvent(
      mention({ user: workspace.botUserId, text: `<@${workspace.botUserId}> rotation <@${MALLORY}>` })
    ).expect(200);
    await postEvent(mention({ botId: 'B0OTHER', text: `<@${workspace.botUserId}> timeout 1h` })).expect(200);
    await postEvent(
      mention({ subtype: 'message_changed', text: `<@${workspace.botUserId}> rotation <@${MALLORY}>` })
    ).expect(200);
    await new Promise((resolve) => setTimeout(resolve, 500));

    expect(slack.calls('chat.postMessage').length).toBe(before);
    expect(await engineers()).toEqual([BOB, ALICE]);
    expect((await gateway.db.team.findUniqueOrThrow({ where: { id: teamId } })).escalationTimeoutMs).toBeNull();
  });

  test('a mistake is answered in the thread with how to write it; status lists the rotation there', async () => {
    const wrong = mention({ text: `<@${workspace.botUserId}> timeout soon` });
    const status = mention({ text: `<@${workspace.botUserId}>   status` });

    await postEvent(wrong).expect(200);
    await postEvent(status).expect(200);

    const usage = await waitFor('the usage reply', () => replies((wrong.event as { ts: string }).ts)[0]);
    expect(usage.text).toContain('between 10s and 24h');
    const shown = await waitFor('the status reply', () => replies((status.event as { ts: string }).ts)[0]);
    expect(shown.text).toContain('rotation: `U0BOB` → `U0ALICE`');
    expect(shown.text).not.toContain('<@');
  });

  test('token rotate by mention shows the new URLs to the person alone, never in the channel', async () => {
    const envelope = mention({ user: BOB, text: `<@${workspace.botUserId}> token rotate` });

    await postEvent(envelope).expect(200);

    const ephemeral = await waitFor('the new URLs', () =>
      slack.calls('chat.postEphemeral').find((call) => String(call.body.text).includes('/webhooks/'))
    );
    expect(ephemeral.body).toMatchObject({ channel: OPS, user: BOB, thread_ts: (envelope.event as { ts: string }).ts });
    await waitFor('the confirmation', () => inChannel().find((m) => m.text?.includes('rotated the endpoint token')));
    const newToken = /\/webhooks\/([A-Za-z0-9_-]+)/.exec(String(ephemeral.body.text))![1]!;
    expect(slack.calls('chat.postMessage').some((call) => JSON.stringify(call.body).includes(newToken))).toBe(false);
  });

  test('the bot named in its own rotation is left out: Escalator is never on call', async () => {
    const onlyBot = mention({ text: `<@${workspace.botUserId}> rotation <@${workspace.botUserId}>` });

    await postEvent(
      mention({ text: `<@${workspace.botUserId}> rotation <@${workspace.botUserId}> <@${ALICE}>` })
    ).expect(200);
    await postEvent(onlyBot).expect(200);

    await waitFor('the rotation of Alice alone', async () => ((await engineers()).join() === ALICE ? true : undefined));
    const usage = await waitFor('the usage reply', () => replies((onlyBot.event as { ts: string }).ts)[0]);
    expect(usage.text).toContain('Name people with @');
    expect(await engineers()).toEqual([ALICE]);
  });
});

describe('the App Home tab', () => {
  /** Plain text of every block of a published Home view, one line per block. */
  const homeText = (user: string) =>
    (slack.homeView(user)?.blocks as Array<Record<string, any>> | undefined)?.map(
      (block) => block.text?.text ?? block.elements?.map((e: { text: string }) => e.text).join(' ') ?? block.type
    );

  async function openHome(user: string, tab: 'home' | 'messages' = 'home') {
    const before = slack.calls('views.publish').length;
    await postEvent(eventCallback(workspace.teamId, appHomeOpened(user, tab))).expect(200);
    return before;
  }

  test('someone with no alerts and no team sees both said plainly', async () => {
    await openHome('U0NEWCOMER');

    const lines = await waitFor('the Home view', () => homeText('U0NEWCOMER'));
    expect(lines[0]).toBe('Your open alerts');
    expect(lines).toContain('Nothing is yours right now: no open alert is assigned to you or acknowledged by you.');
    expect(lines.some((line) => line.startsWith("You are not in any team's rotation."))).toBe(true);
    const call = slack.calls('views.publish').at(-1)!;
    expect(call.token).toBe(workspace.botToken);
  });

  test("a team's maintenance window in force is shown with the team, until when", async () => {
    const team = await request(gateway.app)
      .post('/api/teams')
      .set(gateway.adminAuth)
      .send({ name: 'home-maintenance', slackChannelId: 'C0HOMEMAINT', engineers: ['U0MAINT'] })
      .expect(201);
    const endsAt = new Date(Date.now() + 2 * 3_600_000);
    await request(gateway.app)
      .post(`/api/teams/${team.body.id}/maintenance`)
      .set(gateway.adminAuth)
      .send({ reason: 'deploy', endsAt: endsAt.toISOString() })
      .expect(201);

    await openHome('U0MAINT');

    const lines = await waitFor('the Home view', () => homeText('U0MAINT'));
    const teamLine = lines.find((line) => line.includes('*home-maintenance*'));
    expect(teamLine).toContain(
      `\n:construction: Maintenance (deploy) until ${endsAt.toISOString().slice(11, 16)} UTC: nobody is paged.`
    );
  });

  test('opening the Messages tab publishes nothing', async () => {
    const before = await openHome('U0NEWCOMER', 'messages');
    await new Promise((resolve) => setTimeout(resolve, 300));

    expect(slack.calls('views.publish')).toHaveLength(before);
  });

  test("shows only that person's alerts, as escaped text with links, and stays within Slack's 100 blocks with 'and N more'", async () => {
    const ONCALL = `U0ONCALL${Date.now().toString(36).toUpperCase()}`;
    const suffix = Date.now().toString(36);
    // 55 teams with ONCALL second in line; the first has 55 open alerts assigned to ONCALL (all
    // shown would make 114 blocks, which Slack refuses), and alerts that must not show.
    await gateway.db.team.createMany({
      data: Array.from({ length: 55 }, (_, i) => ({
        name: `home-${suffix}-${String(i).padStart(2, '0')}`,
        slackChannelId: `C0HOME${suffix.toUpperCase()}${i}`,
        escalationTimeoutMs: i === 0 ? 600_000 : null,
      })),
    });
    const teams = await gateway.db.team.findMany({
      where: { name: { startsWith: `home-${suffix}-` } },
      orderBy: { name: 'asc' },
    });
    await gateway.db.engineer.createMany({
      data: teams.flatMap((team) => [
        { teamId: team.id, slackUserId: 'U0FIRST', position: 0 },
        { teamId: team.id, slackUserId: ONCALL, position: 1 },
      ]),
    });
    const first = teams[0]!;
    const alert = (i: number, fields: Record<string, unknown>) => ({
      teamId: first.id,
      workflowId: `alert-home-${suffix}-${i}`,
      fingerprint: `fp-${suffix}-${i}`,
      source: 'webhook',
      title: `Disk ${i} almost full`,
      severity: 'warning',
      firstSeenAt: new Date(Date.now() - (i + 1) * 60_000),
      ...fields,
    });
    await gateway.db.alert.createMany({
      data: [
        alert(0, {
          title: '<!channel> & <@U0BOSS> on fire',
          severity: 'critical',
          slackChannelId: first.slackChannelId,
          slackMessageTs: '1700000000.000100',
          assignee: ONCALL,
        }),
        ...Array.from({ length: 54 }, (_, i) => alert(i + 1, { assignee: ONCALL })),
        alert(100, { title: 'Someone else’s alert', assignee: 'U0FIRST' }),
        alert(101, { title: 'Closed, no longer theirs', assignee: ONCALL, state: 'closed' }),
      ],
    });

    await openHome(ONCALL);

    const view = await waitFor('the Home view', () => slack.homeView(ONCALL));
    expect(slack.calls('views.publish').at(-1)!.outcome).toBe('ok');
    expect(view.blocks.length).toBeLessThanOrEqual(100);
    const lines = homeText(ONCALL)!;
    const alertLines = lines.filter((line) => line.includes('assigned to you'));
    expect(alertLines).toHaveLength(40);
    expect(lines).toContain('…and 15 more (older ones) not shown here.');
    expect(lines.join('\n')).not.toContain('Someone else');
    expect(lines.join('\n')).not.toContain('Closed, no longer theirs');
    // Newest first: the alert opened a minute ago, its title escaped, linked to its message.
    expect(alertLines[0]).toBe(
      ':red_circle: *<https://slack.com/archives/' +
        `${first.slackChannelId}/p1700000000000100|&lt;!channel&gt; &amp; &lt;@U0BOSS&gt; on fire>*\n` +
        `open, assigned to you · critical · team *${first.name}* · opened 1 min ago`
    );
    const teamLines = lines.filter((line) => line.includes('in the rotation'));
    expect(teamLines).toHaveLength(40);
    expect(teamLines[0]).toBe(
      `*${first.name}* in <#${first.slackChannelId}> · escalation timeout 10m · you are 2nd of 2 in the rotation`
    );
    expect(teamLines[1]).toContain('escalation timeout 5m');
    expect(lines).toContain('…and 15 more teams not shown here.');
  });
});

describe('event receipts', () => {
  test('are pruned once older than a day, behind an answer; newer ones are kept', async () => {
    // A clock of its own, a month back, so that pruning here reaches no other test's receipts.
    let now = Date.now() - 30 * 24 * 3_600_000;
    const dated = createTestGateway({
      clock: () => now,
      env: { SLACK_API_URL: slack.url, SLACK_BOT_TOKEN: workspace.botToken },
    });
    const send = (envelope: Record<string, unknown>) => {
      const event = signedEvent(dated.signingSecret, envelope, now);
      return request(dated.app).post('/slack/events').set(event.headers).send(event.body).expect(200);
    };
    const receipt = (eventId: string) => dated.db.slackEventReceipt.findUnique({ where: { eventId } });
    try {
      const old = eventCallback(workspace.teamId, { type: 'reaction_added' });
      await send(old);
      expect((await receipt(old.event_id as string))?.receivedAt).toEqual(new Date(now));

      now += 25 * 3_600_000;
      const fresh = eventCallback(workspace.teamId, { type: 'reaction_added' });
      await send(fresh);

      await waitFor('the day-old receipt pruned', async () => (await receipt(old.event_id as string)) === null);
      expect(await receipt(fresh.event_id as string)).not.toBeNull();
    } finally {
      await dated.close();
    }
  });
});
