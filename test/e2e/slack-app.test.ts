/**
 * The Slack app end to end, against the Slack stand-in: install through OAuth, invite the bot to
 * a channel, set the rotation and timeout with /escalator, an alert that escalates, uninstall;
 * several workspaces at once; no plain secret in the database, the workflow histories or the logs;
 * a team looked after by mentioning the bot, and the App Home tab following a person's alerts.
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { Client as PgClient } from 'pg';
import { generateLocalKey } from '../../src/secrets/key-encryption-keys';
import { MAX_TEAMS_PER_INSTALLATION } from '../../src/api/services/teams';
import { startTestEscalator, type RunningTestEscalator } from '../helpers/escalator';
import { FAKE_SLACK_CLIENT, type FakeWorkspace } from '../helpers/fake-slack';
import { appHomeOpened, appMention, eventCallback, signedCommand } from '../helpers/slack-app-requests';
import { signSlackRequest } from '../helpers/slack-requests';
import { waitFor } from '../helpers/wait';

const ALICE = 'U0ALICE';
const BOB = 'U0BOB';
const MALLORY = 'U0MALLORY';

let escalator: RunningTestEscalator;
const logLines: string[] = [];
const encryptionKey = generateLocalKey();
const signingSecret = randomBytes(16).toString('hex');
const stateSecret = randomBytes(16).toString('hex');

beforeAll(async () => {
  escalator = await startTestEscalator(
    {
      SLACK_BOT_TOKEN: '',
      SLACK_CLIENT_ID: FAKE_SLACK_CLIENT.id,
      SLACK_CLIENT_SECRET: FAKE_SLACK_CLIENT.secret,
      SLACK_STATE_SECRET: stateSecret,
      SLACK_SIGNING_SECRET: signingSecret,
      ENCRYPTION_KEY: encryptionKey,
      LOG_LEVEL: 'debug',
    },
    {
      logDestination: new Writable({
        write(chunk: Buffer, _encoding, done) {
          logLines.push(chunk.toString('utf8'));
          done();
        },
      }),
    }
  );
});

afterAll(async () => {
  await escalator?.stop();
});

/** Runs the OAuth install in a "browser": the install page's state cookie, then Slack's redirect. */
async function install(workspace: FakeWorkspace): Promise<{ status: number; text: string }> {
  const page = await fetch(`${escalator.url}/slack/install`);
  expect(page.status).toBe(200);
  const cookie = /slack-app-oauth-state=([^;]+)/.exec(page.headers.get('set-cookie') ?? '')?.[1];
  expect(cookie).toBeDefined();
  const code = escalator.slack.workspaces.authorize(workspace.teamId);
  const redirect = await fetch(`${escalator.url}/slack/oauth_redirect?code=${code}&state=${cookie}`, {
    headers: { Cookie: `slack-app-oauth-state=${cookie}` },
  });
  return { status: redirect.status, text: await redirect.text() };
}

async function sendEvent(envelope: Record<string, unknown>, headers: Record<string, string> = {}) {
  const body = JSON.stringify(envelope);
  const started = Date.now();
  const response = await fetch(`${escalator.url}/slack/events`, {
    method: 'POST',
    body,
    headers: { ...signed(body), 'Content-Type': 'application/json', ...headers },
  });
  return { status: response.status, ms: Date.now() - started };
}

function signed(body: string) {
  return signSlackRequest(signingSecret, body);
}

async function command(workspace: FakeWorkspace, channelId: string, userId: string, text: string) {
  const responseUrl = escalator.slack.responseUrl();
  const request = signedCommand(signingSecret, { teamId: workspace.teamId, channelId, userId, text, responseUrl });
  const started = Date.now();
  const response = await fetch(`${escalator.url}/slack/commands`, {
    method: 'POST',
    body: request.body,
    headers: request.headers,
  });
  const raw = await response.text();
  return {
    status: response.status,
    ms: Date.now() - started,
    body: raw ? JSON.parse(raw) : undefined,
    replies: () =>
      escalator.slack
        .calls('response_url')
        .filter((call) => responseUrl.endsWith(call.responseId as string))
        .map((call) => String(call.body.text)),
  };
}

/** Messages the workspace's bot posted in a channel (by the token they were sent with). */
function botMessages(workspace: FakeWorkspace, channel: string) {
  return escalator.slack
    .calls('chat.postMessage')
    .filter((call) => call.body.channel === channel && call.outcome === 'ok')
    .filter((call) => call.token?.startsWith(`xoxb-${workspace.teamId}-`))
    .map((call) => ({ text: String(call.body.text ?? ''), threadTs: call.body.thread_ts, token: call.token }));
}

async function invite(workspace: FakeWorkspace, channel: string) {
  escalator.slack.workspaces.join(workspace.teamId, channel, workspace.botUserId);
  const envelope = eventCallback(workspace.teamId, {
    type: 'member_joined_channel',
    user: workspace.botUserId,
    channel,
    channel_type: 'C',
    team: workspace.teamId,
    inviter: ALICE,
  });
  const answer = await sendEvent(envelope);
  return { answer, envelope };
}

/** A URL as shown in Slack (PUBLIC_URL, here localhost:0) on the test gateway's real port. */
function onGateway(shown: string): string {
  return `${escalator.url}${new URL(shown).pathname}`;
}

/** What the workspace's bot showed to one person alone in a channel (chat.postEphemeral). */
function ephemeralsTo(workspace: FakeWorkspace, channel: string, user: string) {
  return escalator.slack
    .calls('chat.postEphemeral')
    .filter((call) => call.body.channel === channel && call.body.user === user && call.outcome === 'ok')
    .filter((call) => call.token?.startsWith(`xoxb-${workspace.teamId}-`))
    .map((call) => String(call.body.text ?? ''));
}

/** The webhook URL of a channel's new team, as shown to the person who invited the bot (ALICE), alone. */
async function welcomeOf(workspace: FakeWorkspace, channel: string): Promise<string> {
  await waitFor('the welcome message', () =>
    botMessages(workspace, channel).find((m) => m.text.includes('Escalator is set up'))
  );
  const urls = await waitFor('the endpoint URLs for the inviter', () =>
    ephemeralsTo(workspace, channel, ALICE).find((text) => text.includes('/webhooks/'))
  );
  return onGateway(/`(http:\/\/[^`]+\/webhooks\/[^`/]+)`/.exec(urls)![1]!);
}

async function allDatabaseText(): Promise<string> {
  const client = new PgClient({ connectionString: escalator.config.databaseUrl });
  await client.connect();
  try {
    const { rows: tables } = await client.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`
    );
    const parts: string[] = [];
    for (const { table_name } of tables) {
      const { rows } = await client.query<{ row: string }>(`SELECT t::text AS row FROM "${table_name}" t`);
      parts.push(...rows.map((r) => r.row));
    }
    return parts.join('\n');
  } finally {
    await client.end();
  }
}

/** A workflow's history with every payload decoded to text, as someone reading it would see it. */
async function historyText(workflowId: string): Promise<string> {
  const history = await escalator.temporal.workflow.getHandle(workflowId).fetchHistory();
  // Payloads serialise as base64 (`"data":"eyJ…"`): decoded so that a plain token in them shows.
  return JSON.stringify(history).replace(/"data":"([A-Za-z0-9+/=]+)"/g, (_match, data: string) =>
    Buffer.from(data, 'base64').toString('utf8')
  );
}

describe('one workspace, from install to uninstall', () => {
  const workspace = () => escalator.slack.workspaces.get('TACME');
  const OPS = 'C0ACMEOPS';
  let webhookUrl: string;
  let workflowId: string;

  beforeAll(() => {
    escalator.slack.workspaces.add('Acme', {
      [OPS]: { name: 'Ops Alerts', members: [ALICE, BOB] },
    });
  });

  test('installs through OAuth with the state checked: a forged or missing state cookie is refused with 400', async () => {
    const ws = workspace();
    const page = await fetch(`${escalator.url}/slack/install`);
    const state = /slack-app-oauth-state=([^;]+)/.exec(page.headers.get('set-cookie') ?? '')![1]!;
    const noCookie = await fetch(
      `${escalator.url}/slack/oauth_redirect?code=${escalator.slack.workspaces.authorize(ws.teamId)}&state=${state}`
    );
    const forged = await fetch(`${escalator.url}/slack/oauth_redirect?code=x&state=forged`, {
      headers: { Cookie: 'slack-app-oauth-state=forged' },
    });
    expect([noCookie.status, forged.status]).toEqual([400, 400]);
    expect(await escalator.db.slackInstallation.count({ where: { slackTeamId: ws.teamId } })).toBe(0);

    const installed = await install(ws);

    expect(installed.status).toBe(200);
    expect(installed.text).toContain('Escalator is installed in Acme');
    const row = await escalator.db.slackInstallation.findUniqueOrThrow({ where: { slackTeamId: ws.teamId } });
    expect(row.botUserId).toBe(ws.botUserId);
    expect(row.sealedInstallation).not.toContain(ws.botToken!);
  });

  test('inviting the bot creates the channel team, welcomes the channel with how to set the rotation and shows its endpoints and a curl to the inviter alone; a redelivery acts once', async () => {
    const ws = workspace();

    const { answer, envelope } = await invite(ws, OPS);
    webhookUrl = await welcomeOf(ws, OPS);
    const retry = await sendEvent(envelope, { 'X-Slack-Retry-Num': '1', 'X-Slack-Retry-Reason': 'http_timeout' });

    expect(answer.status).toBe(200);
    expect(retry.status).toBe(200);
    const welcome = botMessages(ws, OPS).find((m) => m.text.includes('Escalator is set up'))!.text;
    expect(welcome).toContain('team *ops-alerts*');
    expect(welcome).toContain('/escalator rotation @alice @bob @carol');
    const endpoints = ephemeralsTo(ws, OPS, ALICE).find((text) => text.includes('/webhooks/'))!;
    expect(endpoints).toMatch(/\/sns\/[A-Za-z0-9_-]+`/);
    const shownUrl = /`(http:\/\/[^`]+\/webhooks\/[^`/]+)`/.exec(endpoints)![1]!;
    expect(endpoints).toContain(`${shownUrl}/alertmanager`);
    expect(endpoints).toContain(`curl -X POST ${shownUrl}`);
    // The token is a credential: nothing the whole channel sees holds it.
    const token = new URL(shownUrl).pathname.split('/').at(-1)!;
    expect(botMessages(ws, OPS).some((m) => m.text.includes(token))).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(botMessages(ws, OPS).filter((m) => m.text.includes('Escalator is set up'))).toHaveLength(1);
    const installation = await escalator.db.slackInstallation.findUniqueOrThrow({ where: { slackTeamId: ws.teamId } });
    expect(await escalator.db.team.count({ where: { installationId: installation.id, slackChannelId: OPS } })).toBe(1);
  });

  test('a channel member sets the rotation and the timeout with /escalator: confirmed in the channel and audited', async () => {
    const ws = workspace();

    const rotation = await command(ws, OPS, ALICE, `rotation <@${ALICE}|alice> <@${BOB}|bob>`);
    const timeout = await command(ws, OPS, BOB, 'timeout 10s');

    expect([rotation.status, timeout.status]).toEqual([200, 200]);
    await waitFor('the rotation confirmation', () =>
      botMessages(ws, OPS).find((m) => m.text.includes('set the rotation: `U0ALICE` → `U0BOB`'))
    );
    await waitFor('the timeout confirmation', () =>
      botMessages(ws, OPS).find((m) => m.text.includes('set the escalation timeout to 10s'))
    );
    const team = await escalator.db.team.findFirstOrThrow({
      where: { slackChannelId: OPS },
      include: { engineers: { orderBy: { position: 'asc' } }, auditEntries: { orderBy: { at: 'asc' } } },
    });
    expect(team.engineers.map((e) => e.slackUserId)).toEqual([ALICE, BOB]);
    expect(team.escalationTimeoutMs).toBe(10_000);
    // Both commands were answered at once and carried out behind the answers, side by side: the
    // trail has each change once, after the team's creation, in whichever order they landed.
    const trail = team.auditEntries.map((e) => [e.actor, e.action]);
    expect(trail[0]).toEqual([ALICE, 'created']);
    expect(trail.slice(1)).toHaveLength(2);
    expect(trail.slice(1)).toEqual(
      expect.arrayContaining([
        [ALICE, 'rotation'],
        [BOB, 'timeout'],
      ])
    );
    expect(team.auditEntries.find((e) => e.action === 'timeout')?.detail).toEqual({
      escalationTimeoutMs: 10_000,
      via: 'command',
    });
  });

  test('a command from someone outside the channel is refused, told to them alone, and changes nothing', async () => {
    const ws = workspace();

    const refused = await command(ws, OPS, MALLORY, `rotation <@${MALLORY}|mallory>`);

    expect(refused.status).toBe(200);
    await waitFor('the refusal', () =>
      refused.replies().find((text) => text === 'Only members of this channel can change its team.')
    );
    const team = await escalator.db.team.findFirstOrThrow({
      where: { slackChannelId: OPS },
      include: { engineers: { orderBy: { position: 'asc' } } },
    });
    expect(team.engineers.map((e) => e.slackUserId)).toEqual([ALICE, BOB]);
    expect(
      await escalator.db.teamAuditEntry.count({ where: { teamId: team.id, actor: MALLORY, action: 'refused' } })
    ).toBe(1);
    expect(botMessages(ws, OPS).some((m) => m.text.includes('U0MALLORY'))).toBe(false);
  });

  test("an alert is posted with the installation's token and escalates to the next engineer after the team's timeout", async () => {
    const ws = workspace();

    const response = await fetch(webhookUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ title: 'Disk almost full on db-1', severity: 'critical' }),
    });
    expect(response.status).toBe(202);
    workflowId = ((await response.json()) as { workflowId: string }).workflowId;

    const posted = await waitFor('the alert message', () =>
      botMessages(ws, OPS).find((m) => m.text.includes('Disk almost full on db-1') && !m.threadTs)
    );
    expect(posted.token).toBe(ws.botToken);
    const escalated = await waitFor(
      'the escalation to Bob in the thread',
      () => botMessages(ws, OPS).find((m) => m.threadTs && m.text.includes(`<@${BOB}>`)),
      30_000
    );
    expect(escalated.token).toBe(ws.botToken);
  }, 60_000);

  test('/escalator status lists the open alert with a link to its message', async () => {
    const status = await command(workspace(), OPS, ALICE, 'status');

    expect(status.status).toBe(200);
    expect(status.body.response_type).toBe('ephemeral');
    expect(status.body.text).toContain('Disk almost full on db-1');
    expect(status.body.text).toMatch(/<https:\/\/slack\.com\/archives\/C0ACMEOPS\/p\d+\|/);
  });

  test('removing the bot pauses the team (reports answer 410); inviting it back resumes it', async () => {
    const ws = workspace();
    escalator.slack.workspaces.leave(ws.teamId, OPS, ws.botUserId);

    await sendEvent(eventCallback(ws.teamId, { type: 'channel_left', channel: OPS, actor_id: ALICE }));
    await waitFor(
      'the team paused',
      async () => (await escalator.db.team.findFirst({ where: { slackChannelId: OPS } }))?.pausedAt
    );
    const whilePaused = await fetch(webhookUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ title: 'While paused' }),
    });

    expect(whilePaused.status).toBe(410);
    expect(((await whilePaused.json()) as { error: string }).error).toContain('is paused');

    await invite(ws, OPS);
    await waitFor('the resumed message', () => botMessages(ws, OPS).find((m) => m.text.includes('Escalator is back')));
    const afterResume = await fetch(webhookUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ title: 'After resume' }),
    });
    expect(afterResume.status).toBe(202);
  });

  test('reinstalling updates the installation with the new token, and the team keeps working with it', async () => {
    const ws = workspace();
    const before = ws.botToken;

    const again = await install(ws);

    expect(again.status).toBe(200);
    expect(ws.botToken).not.toBe(before);
    expect(await escalator.db.slackInstallation.count({ where: { slackTeamId: ws.teamId } })).toBe(1);
    const rotated = await command(ws, OPS, ALICE, 'token rotate');
    const replies = await waitFor('the new URLs', () => rotated.replies().find((text) => text.includes('/webhooks/')));
    expect(replies).toContain('New endpoint URLs');
    const confirmation = await waitFor('the token rotation confirmation', () =>
      botMessages(ws, OPS).find((m) => m.text.includes('rotated the endpoint token'))
    );
    expect(confirmation.token).toBe(ws.botToken);
    const oldUrl = await fetch(webhookUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ title: 'old url' }),
    });
    expect(oldUrl.status).toBe(404);
    webhookUrl = onGateway(/`(http:\/\/[^`]+\/webhooks\/[^`/]+)`/.exec(replies)![1]!);
  });

  test('app_uninstalled removes the tokens and pauses every team of the workspace', async () => {
    const ws = workspace();

    await sendEvent(eventCallback(ws.teamId, { type: 'app_uninstalled' }));
    escalator.slack.workspaces.revoke(ws.teamId);

    const row = await waitFor('the tokens removed', async () => {
      const found = await escalator.db.slackInstallation.findUniqueOrThrow({ where: { slackTeamId: ws.teamId } });
      return found.sealedInstallation === null ? found : undefined;
    });
    expect(row.uninstalledAt).not.toBeNull();
    expect(await escalator.db.team.count({ where: { installationId: row.id, pausedAt: null } })).toBe(0);
    // Each team's audit trail says why it stopped taking alerts.
    const teams = await escalator.db.team.findMany({
      where: { installationId: row.id },
      include: { auditEntries: { orderBy: { at: 'asc' } } },
    });
    expect(teams.length).toBeGreaterThan(0);
    for (const team of teams) {
      expect(team.auditEntries.at(-1)).toMatchObject({
        actor: 'slack',
        action: 'paused',
        detail: { reason: 'the app was uninstalled' },
      });
    }
    const report = await fetch(webhookUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ title: 'after uninstall' }),
    });
    expect(report.status).toBe(410);
  });

  test('no bot token is anywhere in plain text: database, the alert workflow history, the logs', async () => {
    const tokens = escalator.slack.workspaces.issuedTokens();
    expect(tokens.length).toBeGreaterThanOrEqual(2);
    const database = await allDatabaseText();
    const history = await historyText(workflowId);
    const logs = logLines.join('');

    expect(history).toContain('installationId');
    expect(logs.length).toBeGreaterThan(0);
    for (const token of tokens) {
      expect({ token, inDatabase: database.includes(token) }).toEqual({ token, inDatabase: false });
      expect({ token, inHistory: history.includes(token) }).toEqual({ token, inHistory: false });
      expect({ token, inLogs: logs.includes(token) }).toEqual({ token, inLogs: false });
    }
    expect(database).not.toContain(encryptionKey);
    expect(database).not.toContain(FAKE_SLACK_CLIENT.secret);
    // The request line names the route, never the URL with its one-time code.
    expect(logs).toContain('"route":"/slack/oauth_redirect"');
    expect(logs).not.toContain(encryptionKey);
  });
});

describe('several workspaces at once', () => {
  test("each workspace's team is served by its own bot token, in parallel", async () => {
    const names = ['Globex', 'Initech', 'Umbrella'];
    const workspaces = names.map((name) =>
      escalator.slack.workspaces.add(name, { [`C0${name.toUpperCase()}`]: { name: 'ops', members: [ALICE, BOB] } })
    );

    await Promise.all(
      workspaces.map(async (ws) => {
        expect((await install(ws)).status).toBe(200);
        const channel = `C0${ws.name.toUpperCase()}`;
        await invite(ws, channel);
        const url = await welcomeOf(ws, channel);
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ title: `Down in ${ws.name}` }),
        });
        expect(response.status).toBe(202);
        const posted = await waitFor(`the alert in ${ws.name}`, () =>
          botMessages(ws, channel).find((m) => m.text.includes(`Down in ${ws.name}`))
        );
        expect(posted.token).toBe(ws.botToken);
      })
    );

    // Three channels named #ops in three workspaces: three teams, each named `ops` (names are per
    // workspace: one cannot take another's), whose alerts' workflow ids name the workspace.
    const teams = await escalator.db.team.findMany({
      where: { slackChannelId: { in: workspaces.map((ws) => `C0${ws.name.toUpperCase()}`) } },
      select: { name: true, alerts: { select: { workflowId: true } } },
    });
    expect(teams.map((t) => t.name)).toEqual(['ops', 'ops', 'ops']);
    const workflowIds = teams.flatMap((t) => t.alerts.map((a) => a.workflowId));
    expect(new Set(workflowIds).size).toBe(3);
    for (const ws of workspaces) expect(workflowIds.some((id) => id.startsWith(`alert/ops.${ws.teamId}/`))).toBe(true);
  }, 60_000);
});

describe('the OAuth install link', () => {
  test('works once: the redirect replayed with the same state and cookie is refused with 400', async () => {
    const ws = escalator.slack.workspaces.add('Replayco');
    const page = await fetch(`${escalator.url}/slack/install`);
    const state = /slack-app-oauth-state=([^;]+)/.exec(page.headers.get('set-cookie') ?? '')![1]!;
    const redirect = (code: string) =>
      fetch(`${escalator.url}/slack/oauth_redirect?code=${code}&state=${state}`, {
        headers: { Cookie: `slack-app-oauth-state=${state}` },
      });

    const first = await redirect(escalator.slack.workspaces.authorize(ws.teamId));
    const replayed = await redirect(escalator.slack.workspaces.authorize(ws.teamId));

    expect(first.status).toBe(200);
    expect(replayed.status).toBe(400);
    expect(await replayed.text()).toContain('slack_oauth_invalid_state');
  });
});

describe('teams per installation', () => {
  test(`a workspace with ${MAX_TEAMS_PER_INSTALLATION} teams gets no more: the bot invited to one more channel says so and creates nothing`, async () => {
    const ws = escalator.slack.workspaces.add('Hoarder', { C0HOARDNEW: { name: 'payments', members: [ALICE] } });
    expect((await install(ws)).status).toBe(200);
    const installation = await escalator.db.slackInstallation.findUniqueOrThrow({ where: { slackTeamId: ws.teamId } });
    await escalator.db.team.createMany({
      data: Array.from({ length: MAX_TEAMS_PER_INSTALLATION }, (_, i) => ({
        name: `payments-${i + 1}`,
        slackChannelId: `C0HOARD${i}`,
        installationId: installation.id,
      })),
    });

    await invite(ws, 'C0HOARDNEW');

    const refusal = await waitFor('the refusal in the channel', () =>
      botMessages(ws, 'C0HOARDNEW').find((m) => m.text.includes('did not set this channel up'))
    );
    expect(refusal.text).toContain(`already has ${MAX_TEAMS_PER_INSTALLATION} teams`);
    expect(await escalator.db.team.count({ where: { slackChannelId: 'C0HOARDNEW' } })).toBe(0);
    expect(ephemeralsTo(ws, 'C0HOARDNEW', ALICE)).toEqual([]);
  });
});

describe('a team looked after by mentioning the bot, and the App Home tab', () => {
  const CAROL = 'U0CAROL';
  const OPS = 'C0HOOLIOPS';
  const DB = 'C0HOOLIDB';
  let ws: FakeWorkspace;
  let opsWebhook: string;
  let dbWebhook: string;
  let workflowId: string;

  beforeAll(async () => {
    ws = escalator.slack.workspaces.add('Hooli', {
      [OPS]: { name: 'ops', members: [ALICE, BOB] },
      [DB]: { name: 'db', members: [BOB, CAROL] },
    });
    expect((await install(ws)).status).toBe(200);
    await invite(ws, OPS);
    opsWebhook = await welcomeOf(ws, OPS);
    await invite(ws, DB);
    dbWebhook = await welcomeOf(ws, DB);
  });

  function mention(channel: string, user: string, text: string) {
    return eventCallback(ws.teamId, appMention({ channel, user, text: `<@${ws.botUserId}> ${text}` }));
  }

  async function rotationOf(channel: string): Promise<string[]> {
    const team = await escalator.db.team.findFirstOrThrow({
      where: { slackChannelId: channel, installation: { slackTeamId: ws.teamId } },
      include: { engineers: { orderBy: { position: 'asc' } } },
    });
    return team.engineers.map((e) => e.slackUserId);
  }

  /** Opens `user`'s Home tab and returns the text of each block of the view published for it. */
  async function openHome(user: string): Promise<string[]> {
    const published = () =>
      escalator.slack.calls('views.publish').filter((call) => call.body.user_id === user && call.outcome === 'ok');
    const before = published().length;
    expect((await sendEvent(eventCallback(ws.teamId, appHomeOpened(user)))).status).toBe(200);
    const call = await waitFor(`${user}'s Home view`, () => published()[before]);
    expect(call.token).toBe(ws.botToken);
    return (call.body.view.blocks as Array<Record<string, any>>).map(
      (block) => block.text?.text ?? block.elements?.map((e: { text: string }) => e.text).join(' ') ?? block.type
    );
  }

  async function postAlert(url: string, title: string): Promise<string> {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ title, severity: 'critical' }),
    });
    expect(response.status).toBe(202);
    return ((await response.json()) as { workflowId: string }).workflowId;
  }

  test('the install asks Slack for the mentions scope', async () => {
    const page = await fetch(`${escalator.url}/slack/install`);

    expect(await page.text()).toMatch(/scope=[^"&]*app_mentions(:|%3A)read/);
  });

  test('members set rotation and timeout by mention (a redelivery acts once, a non-member is refused) and the next alert escalates in that order', async () => {
    const rotation = mention(OPS, ALICE, `rotation <@${BOB}> <@${ALICE}>`);
    const intruder = mention(OPS, MALLORY, `rotation <@${MALLORY}>`);

    const answers = [
      await sendEvent(rotation),
      await sendEvent(rotation, { 'X-Slack-Retry-Num': '1', 'X-Slack-Retry-Reason': 'http_timeout' }),
      await sendEvent(mention(OPS, BOB, 'timeout 10s')),
      await sendEvent(mention(DB, CAROL, `rotation <@${CAROL}>`)),
      await sendEvent(intruder),
    ];

    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    const intruderTs = (intruder.event as { ts: string }).ts;
    await waitFor('the refusal in the thread', () =>
      botMessages(ws, OPS).find((m) => m.threadTs === intruderTs && m.text.includes('Only members of this channel'))
    );
    await waitFor('the timeout confirmation', () =>
      botMessages(ws, OPS).find((m) => m.text.includes('`U0BOB` set the escalation timeout to 10s'))
    );
    await waitFor('the rotation in #db', () => botMessages(ws, DB).find((m) => m.text.includes('set the rotation')));
    expect(botMessages(ws, OPS).filter((m) => m.text.includes('set the rotation'))).toEqual([
      expect.objectContaining({ text: ':busts_in_silhouette: `U0ALICE` set the rotation: `U0BOB` → `U0ALICE`.' }),
    ]);
    expect(await rotationOf(OPS)).toEqual([BOB, ALICE]);
    expect(await rotationOf(DB)).toEqual([CAROL]);
    const audit = await escalator.db.teamAuditEntry.findMany({
      where: { team: { slackChannelId: OPS, installation: { slackTeamId: ws.teamId } } },
      orderBy: { at: 'asc' },
    });
    expect(audit.filter((e) => e.action === 'rotation').map((e) => [e.actor, e.detail])).toEqual([
      [ALICE, { engineers: [BOB, ALICE], via: 'mention' }],
    ]);
    expect(audit.filter((e) => e.action === 'refused').map((e) => e.actor)).toEqual([MALLORY]);

    workflowId = await postAlert(opsWebhook, 'Replica lag on db-2');
    await postAlert(dbWebhook, 'Backup failed on db-9');
    // Posted held by Bob, first in line; after the 10 s timeout Alice is called in the thread.
    const posted = await waitFor('the alert message', () =>
      botMessages(ws, OPS).find((m) => !m.threadTs && m.text.includes('Replica lag on db-2'))
    );
    expect(posted.text).toContain(BOB);
    expect(posted.text).not.toContain(ALICE);
    const called = await waitFor(
      'the escalation after 10 s',
      () => {
        const mentioned = botMessages(ws, OPS)
          .filter((m) => m.threadTs)
          .map((m) => /<@(U[A-Z0-9]+)>/.exec(m.text)?.[1])
          .filter((user) => user !== undefined);
        return mentioned.length > 0 ? mentioned : undefined;
      },
      30_000
    );
    expect(called[0]).toBe(ALICE);
  }, 60_000);

  test("the App Home shows exactly the person's open alerts and teams in this workspace, and follows an acknowledgement and a close", async () => {
    const alertIsNow = (state: string) =>
      waitFor(`the alert ${state}`, async () => {
        const alert = await escalator.db.alert.findFirst({ where: { workflowId } });
        return alert?.state === state ? alert : undefined;
      });
    const alertLines = (lines: string[]) => lines.filter((line) => / · team \*/.test(line));
    const teamLines = (lines: string[]) => lines.filter((line) => line.includes('in the rotation'));
    const opsTeam = await escalator.db.team.findFirstOrThrow({
      where: { slackChannelId: OPS, installation: { slackTeamId: ws.teamId } },
    });

    expect(
      await escalator.press({ action: 'ack', workflowId, userId: ALICE, userName: 'alice', teamId: ws.teamId })
    ).toBe(200);
    const acknowledged = await alertIsNow('acknowledged');
    const alice = await openHome(ALICE);
    const bob = await openHome(BOB);
    const carol = await openHome(CAROL);

    const link = `https://slack.com/archives/${OPS}/p${acknowledged.slackMessageTs!.replace('.', '')}`;
    expect(alertLines(alice)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^:eyes: \\*<${link}\\|Replica lag on db-2>\\*\\nacknowledged by you · critical · team \\*${opsTeam.name}\\* · opened`
        )
      ),
    ]);
    // Alice is in an Acme team too (uninstalled workspace, same user id): only Hooli's shows here.
    expect(teamLines(alice)).toEqual([
      `*${opsTeam.name}* in <#${OPS}> · escalation timeout 10s · you are 2nd of 2 in the rotation`,
    ]);
    expect(bob).toContain('Nothing is yours right now: no open alert is assigned to you or acknowledged by you.');
    expect(teamLines(bob)).toEqual([
      `*${opsTeam.name}* in <#${OPS}> · escalation timeout 10s · you are 1st of 2 in the rotation`,
    ]);
    expect(alertLines(carol)).toEqual([expect.stringContaining('Backup failed on db-9')]);
    expect(alertLines(carol)[0]).toContain('open, assigned to you · critical');

    expect(
      await escalator.press({ action: 'close', workflowId, userId: ALICE, userName: 'alice', teamId: ws.teamId })
    ).toBe(200);
    await alertIsNow('closed');
    const afterClose = await openHome(ALICE);

    expect(alertLines(afterClose)).toEqual([]);
    expect(afterClose).toContain(
      'Nothing is yours right now: no open alert is assigned to you or acknowledged by you.'
    );
    expect(teamLines(afterClose)).toHaveLength(1);
  }, 60_000);
});
