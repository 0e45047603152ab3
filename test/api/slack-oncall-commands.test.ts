/**
 * On call from Slack, through the real gateway and the Slack stand-in: `/escalator oncall` (who is
 * on call now, until when, the next three handoffs), `take [duration]`, `cover @person <from> <to>`
 * (overrides, refused with a reason when they change nothing), and `schedule` (a modal whose
 * submission becomes the team's schedule). Only channel members change anything.
 */
import request from 'supertest';
import { startFakeSlack, type FakeSlack, type FakeWorkspace } from '../helpers/fake-slack';
import { createTestGateway, type TestGateway } from '../helpers/gateway';
import { signedCommand } from '../helpers/slack-app-requests';
import { signedInteraction } from '../helpers/slack-requests';
import { waitFor } from '../helpers/wait';
import { scheduleHandoffsWorkflowId } from '../../src/workflows/definitions';

let slack: FakeSlack;
let gateway: TestGateway;
let workspace: FakeWorkspace;
const CHANNEL = 'C0ONCALL';
const HOUR = 3_600_000;

beforeAll(async () => {
  slack = await startFakeSlack();
  workspace = slack.workspaces.add('OnCall', {
    [CHANNEL]: { name: 'payments', members: ['U0ALICE', 'U0BOB'] },
  });
  gateway = createTestGateway({
    env: { SLACK_API_URL: slack.url, SLACK_BOT_TOKEN: slack.workspaces.issueToken(workspace.teamId) },
  });
  slack.workspaces.join(workspace.teamId, CHANNEL, workspace.botUserId);
});

afterAll(async () => {
  await gateway?.close();
  await slack?.close();
});

/** Sends `/escalator <text>` and answers with the immediate answer's text (empty for changes). */
async function command(text: string, userId = 'U0ALICE', channelId = CHANNEL) {
  const responseUrl = slack.responseUrl();
  const signed = signedCommand(gateway.signingSecret, {
    teamId: workspace.teamId,
    channelId,
    userId,
    text,
    responseUrl,
  });
  const response = await request(gateway.app).post('/slack/commands').set(signed.headers).send(signed.body).expect(200);
  const responseId = responseUrl.split('/').pop();
  return {
    text: String(response.body?.text ?? ''),
    /** What was told to the person alone, later, through response_url. */
    later: () =>
      waitFor('the reply to the person who asked', () =>
        slack.calls('response_url').find((call) => call.responseId === responseId)
      ).then((call) => String(call.body.text)),
  };
}

function channelSays(pattern: RegExp) {
  return waitFor(`a channel message matching ${pattern}`, () =>
    slack.messages(CHANNEL).find((message) => pattern.test(message.text ?? ''))
  );
}

async function onCallNow(scheduleId: string): Promise<string[]> {
  const answer = await request(gateway.app)
    .get(`/api/schedules/${scheduleId}/oncall`)
    .set(gateway.adminAuth)
    .expect(200);
  return answer.body.users;
}

let teamId: string;
let scheduleId: string;

test('oncall without a schedule says so and how to set one up', async () => {
  const team = await request(gateway.app)
    .post('/api/teams')
    .set(gateway.adminAuth)
    .send({ name: 'payments-oncall', slackChannelId: CHANNEL, engineers: ['U0ALICE', 'U0BOB'] })
    .expect(201);
  teamId = team.body.id;

  const { text } = await command('oncall');
  expect(text).toContain('no on-call schedule');
  expect(text).toContain('/escalator schedule');
});

test('oncall names who is on call now, until when, and the next three handoffs, pinging nobody', async () => {
  // A daily rotation in UTC whose current shift began 12 hours ago (to the minute).
  const handoff = new Date(Date.now() - 12 * HOUR).toISOString().slice(0, 16);
  const created = await request(gateway.app)
    .post('/api/schedules')
    .set(gateway.adminAuth)
    .send({
      name: 'Payments primary',
      timeZone: 'UTC',
      teamId,
      rotations: [{ name: 'Primary', kind: 'daily', handoff, members: ['U0ANN', 'U0BEN', 'U0CAT'] }],
    })
    .expect(201);
  scheduleId = created.body.id;
  const time = handoff.slice(11, 16);

  const { text } = await command('oncall');

  expect(text).toContain('*Payments primary* (UTC): `U0ANN` on call now until');
  expect(text).toMatch(new RegExp(`until \\w{3} ${time}\\.`));
  const next = /Next handoffs: (.*)$/m.exec(text)?.[1] ?? '';
  expect(next.split(' · ').map((entry) => entry.replace(/^\w{3} \d\d:\d\d /, ''))).toEqual([
    '`U0BEN`',
    '`U0CAT`',
    '`U0ANN`',
  ]);
  expect(text).not.toContain('<@');
});

test('take 2h: the member who asked is first on call for two hours, instead of the person on call, and the channel is told', async () => {
  await command('take 2h');

  const told = await channelSays(/is on call until/);
  expect(told.text).toMatch(/^:raising_hand: `U0ALICE` is on call until \w{3} \d\d:\d\d \(instead of `U0ANN`\)\.$/);
  expect(await onCallNow(scheduleId)).toEqual(['U0ALICE']);
  const overrides = await gateway.db.scheduleOverride.findMany({ where: { scheduleId } });
  expect(overrides).toHaveLength(1);
  expect(overrides[0]).toMatchObject({ addUserId: 'U0ALICE', removeUserId: 'U0ANN', createdBy: 'U0ALICE' });
  const lasts = overrides[0]!.endsAt.getTime() - overrides[0]!.startsAt.getTime();
  expect(lasts).toBe(2 * HOUR);
  expect(await gateway.db.teamAuditEntry.count({ where: { teamId, action: 'oncall-take' } })).toBe(1);
});

test('take again while already first on call changes nothing and says why, to the person alone', async () => {
  const before = slack.messages(CHANNEL).length;
  const reply = await (await command('take 1h')).later();
  expect(reply).toBe('Nothing to change: U0ALICE is already first on call for the whole time.');
  expect(await gateway.db.scheduleOverride.count({ where: { scheduleId } })).toBe(1);
  expect(slack.messages(CHANNEL)).toHaveLength(before);
});

test('cover @person now 3h stands in for whoever is first on call over the range: the take, then the rotation', async () => {
  await command('cover <@U0BOB|bob> now 3h');

  const told = await channelSays(/put `U0BOB` on call/);
  expect(told.text).toMatch(
    /^:raising_hand: `U0ALICE` put `U0BOB` on call until \w{3} \d\d:\d\d \(instead of `U0ALICE` and `U0ANN`\)\.$/
  );
  expect(await onCallNow(scheduleId)).toEqual(['U0BOB']);
  const inTwoAndAHalfHours = new Date(Date.now() + 2.5 * HOUR).toISOString();
  const later = await request(gateway.app)
    .get(`/api/schedules/${scheduleId}/oncall`)
    .query({ at: inTwoAndAHalfHours })
    .set(gateway.adminAuth)
    .expect(200);
  expect(later.body.users).toEqual(['U0BOB']);
});

test('cover with times it cannot read is answered with how to write them, in the schedule’s zone, changing nothing', async () => {
  const overridesBefore = await gateway.db.scheduleOverride.count({ where: { scheduleId } });
  const reply = await (await command('cover <@U0BOB|bob> tomorrow later')).later();
  expect(reply).toContain('Times are read in UTC.');
  expect(reply).toContain('/escalator cover @alice 09:00 17:00');
  const noOne = await command('cover 09:00 17:00');
  expect(noOne.text).toContain('Name the person and the time');
  expect(await gateway.db.scheduleOverride.count({ where: { scheduleId } })).toBe(overridesBefore);
});

test('someone outside the channel cannot take on call', async () => {
  const reply = await (await command('take 1h', 'U0MALLORY')).later();
  expect(reply).toBe('Only members of this channel can change its team.');
  expect(await onCallNow(scheduleId)).toEqual(['U0BOB']);
});

test('a take on a schedule with handoff notices wakes its watcher, so the notice follows at once', async () => {
  const schedule = await request(gateway.app).get(`/api/schedules/${scheduleId}`).set(gateway.adminAuth).expect(200);
  await request(gateway.app)
    .put(`/api/schedules/${scheduleId}`)
    .set(gateway.adminAuth)
    .send({
      name: schedule.body.name,
      timeZone: schedule.body.timeZone,
      rotations: schedule.body.rotations,
      teamId,
      handoffNotices: true,
    })
    .expect(200);
  const watcher = gateway.temporal.workflow.getHandle(scheduleHandoffsWorkflowId(scheduleId));
  const signals = async () =>
    ((await watcher.fetchHistory()).events ?? []).filter((event) => event.workflowExecutionSignaledEventAttributes)
      .length;
  const before = await signals();

  await command('take 30m');

  await channelSays(/`U0ALICE` is on call until .* \(instead of `U0BOB`\)/);
  await waitFor('the watcher told of the override', async () => ((await signals()) > before ? true : undefined));
});

describe('/escalator schedule', () => {
  function submit(values: Record<string, unknown>, userId = 'U0ALICE') {
    const opened = slack.calls('views.open').at(-1)!;
    const payload = {
      type: 'view_submission',
      team: { id: workspace.teamId },
      user: { id: userId, team_id: workspace.teamId },
      view: {
        callback_id: opened.body.view.callback_id,
        private_metadata: opened.body.view.private_metadata,
        state: { values },
      },
    };
    const signed = signedInteraction(gateway.signingSecret, payload);
    return request(gateway.app).post('/slack/interactions').set(signed.headers).send(signed.body).expect(200);
  }

  const form = (overrides: Record<string, unknown> = {}) => ({
    members: { members: { type: 'multi_users_select', selected_users: ['U0BOB', 'U0ALICE'] } },
    kind: { kind: { type: 'static_select', selected_option: { value: 'weekly' } } },
    day: { day: { type: 'static_select', selected_option: { value: 'tue' } } },
    time: { time: { type: 'timepicker', selected_time: '10:30' } },
    zone: { zone: { type: 'plain_text_input', value: 'Europe/Berlin' } },
    ...overrides,
  });

  test('a schedule of layers cannot be shown in the form: the person is told to use the API', async () => {
    await request(gateway.app)
      .put(`/api/schedules/${scheduleId}`)
      .set(gateway.adminAuth)
      .send({
        name: 'Payments primary',
        timeZone: 'UTC',
        rotations: [
          { name: 'Primary', kind: 'daily', handoff: '2026-01-01T09:00', members: ['U0ANN'] },
          { name: 'Backup', kind: 'weekly', handoff: '2026-01-01T09:00', members: ['U0BEN'], layer: 1 },
        ],
      })
      .expect(200);
    const reply = await (await command('schedule')).later();
    expect(reply).toContain('Change it through the API');
    expect(slack.calls('views.open')).toHaveLength(0);
  });

  test('opens a modal with the team’s simple rotation; its submission replaces the rotation, keeps the overrides, and is told in the channel', async () => {
    await request(gateway.app)
      .put(`/api/schedules/${scheduleId}`)
      .set(gateway.adminAuth)
      .send({
        name: 'Payments primary',
        timeZone: 'UTC',
        rotations: [{ name: 'Primary', kind: 'daily', handoff: '2026-01-01T08:15', members: ['U0ANN', 'U0BEN'] }],
      })
      .expect(200);
    await command('schedule');
    const opened = await waitFor('the modal', () => slack.calls('views.open')[0]);
    expect(opened.body.trigger_id).toBe('1.2.3');
    const blocks = opened.body.view.blocks as Array<Record<string, any>>;
    const element = (id: string) => blocks.find((block) => block.block_id === id)?.element;
    expect(element('members').initial_users).toEqual(['U0ANN', 'U0BEN']);
    expect(element('kind').initial_option.value).toBe('daily');
    expect(element('time').initial_time).toBe('08:15');
    expect(element('zone').initial_value).toBe('UTC');
    const overridesBefore = await gateway.db.scheduleOverride.count({ where: { scheduleId } });

    const answer = await submit(form());

    expect(answer.text).toBe('');
    const schedule = await request(gateway.app).get(`/api/schedules/${scheduleId}`).set(gateway.adminAuth).expect(200);
    expect(schedule.body).toMatchObject({
      timeZone: 'Europe/Berlin',
      rotations: [{ name: 'Primary', kind: 'weekly', handoff: '2026-01-06T10:30', members: ['U0BOB', 'U0ALICE'] }],
    });
    expect(schedule.body.overrides).toHaveLength(overridesBefore);
    const told = await channelSays(/set the on-call schedule/);
    expect(told.text).toBe(
      ':calendar: `U0ALICE` set the on-call schedule: weekly, handed over Tuesday 10:30 (Europe/Berlin), `U0BOB` → `U0ALICE`. Who is on call now: `/escalator oncall`.'
    );
  });

  test('a submission with a zone that does not exist is answered with the error beside that field, and saves nothing', async () => {
    const before = (await request(gateway.app).get(`/api/schedules/${scheduleId}`).set(gateway.adminAuth)).body;

    const answer = await submit(form({ zone: { zone: { type: 'plain_text_input', value: 'Mars/Olympus' } } }));

    expect(answer.body).toEqual({
      response_action: 'errors',
      errors: { zone: expect.stringContaining('"Mars/Olympus" is not a time zone') },
    });
    const after = (await request(gateway.app).get(`/api/schedules/${scheduleId}`).set(gateway.adminAuth)).body;
    expect(after.version).toBe(before.version);
  });

  test('someone outside the channel cannot save the form', async () => {
    const answer = await submit(form(), 'U0MALLORY');
    expect(answer.body.errors.members).toBe('Only members of this channel can change its schedule.');
  });

  test('a team without a schedule gets one from the form, made for it', async () => {
    await request(gateway.app).delete(`/api/schedules/${scheduleId}`).set(gateway.adminAuth).expect(204);
    await command('schedule');
    const opened = await waitFor('the modal', () => slack.calls('views.open')[1]);
    const blocks = opened.body.view.blocks as Array<Record<string, any>>;
    expect(blocks.find((block) => block.block_id === 'members')?.element.initial_users).toEqual(['U0ALICE', 'U0BOB']);

    await submit(form({ kind: { kind: { type: 'static_select', selected_option: { value: 'daily' } } } }));

    const team = await request(gateway.app).get(`/api/teams/${teamId}`).set(gateway.adminAuth).expect(200);
    expect(team.body.scheduleId).toEqual(expect.any(String));
    const schedule = await request(gateway.app).get(`/api/schedules/${team.body.scheduleId}`).set(gateway.adminAuth);
    expect(schedule.body).toMatchObject({
      name: 'payments-oncall on call',
      teamId,
      rotations: [{ kind: 'daily', handoff: '2026-01-05T10:30' }],
    });
  });
});

describe('/escalator maintenance', () => {
  async function maintenanceNow() {
    const answer = await request(gateway.app)
      .get(`/api/teams/${teamId}/maintenance`)
      .set(gateway.adminAuth)
      .expect(200);
    return answer.body;
  }

  test('maintenance 2h <reason> starts a window now, told in the channel and shown by status; off ends it', async () => {
    await command('maintenance 2h deploy of checkout');

    const told = await channelSays(/started maintenance/);
    expect(told.text).toMatch(
      /^:construction: `U0ALICE` started maintenance \(deploy of checkout\) until \d\d:\d\d UTC: alerts are shown here, nobody is paged\./
    );
    const window = await maintenanceNow();
    expect(window).toMatchObject({ active: true, windows: [{ reason: 'deploy of checkout' }] });
    expect(Date.parse(window.windows[0].until) - Date.now()).toBeGreaterThan(2 * HOUR - 60_000);
    expect((await command('status')).text).toMatch(
      /Maintenance \(deploy of checkout\) until \d\d:\d\d UTC: nobody is paged\./
    );

    await command('maintenance off');

    await channelSays(/ended maintenance/);
    expect((await maintenanceNow()).active).toBe(false);
    expect(
      await gateway.db.teamAuditEntry.count({
        where: { teamId, action: { in: ['maintenance-start', 'maintenance-off'] } },
      })
    ).toBe(2);
  });

  test('maintenance without a duration it can read is answered with how to write it; off with nothing in force says so', async () => {
    expect((await command('maintenance soon')).text).toContain('/escalator maintenance 2h deploy of checkout');
    expect(await (await command('maintenance off')).later()).toBe('No maintenance window is in force.');
  });
});
