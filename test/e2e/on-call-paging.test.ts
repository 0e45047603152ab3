/**
 * Who an alert pages, end to end: a team with a schedule pages whoever is on call, and a team that
 * asked to skip people away or in Do Not Disturb (skipAway) pages the first of them reachable in
 * Slack, as the Slack stand-in reports presence. Real gateway, worker, Temporal dev server and
 * PostgreSQL. Each test uses people of its own: presence is cached for a minute per person.
 */
import { startTestEscalator, type RunningTestEscalator, type TestTeam } from '../helpers/escalator';
import { waitFor } from '../helpers/wait';

let escalator: RunningTestEscalator;
const ESCALATION_CAP_MS = 45_000;

beforeAll(async () => {
  escalator = await startTestEscalator({ ESCALATION_TIMEOUT: '2s' });
}, 60_000);

afterAll(async () => {
  await escalator?.stop();
});

async function send(method: 'POST' | 'PATCH', path: string, body: unknown): Promise<any> {
  const response = await fetch(`${escalator.url}${path}`, {
    method,
    headers: { ...escalator.adminAuth, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  const parsed = await response.json();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(parsed)}`);
  return parsed;
}

/** A weekly rotation in UTC whose current shift began yesterday: `members[0]` now, `members[1]` next. */
async function giveSchedule(team: TestTeam, members: string[], options: { skipAway?: boolean } = {}) {
  const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 16);
  const schedule = await send('POST', '/api/schedules', {
    name: `${team.name} on call`,
    timeZone: 'UTC',
    rotations: [{ name: 'Primary', kind: 'weekly', handoff: yesterday, members }],
    teamId: team.id,
  });
  if (options.skipAway) await send('PATCH', `/api/teams/${team.id}`, { skipAway: true });
  return schedule as { id: string };
}

async function openAlert(team: TestTeam, key: string) {
  const accepted = await escalator.post(team.webhookPath, {
    title: `Checkout is failing (${key})`,
    severity: 'critical',
    key,
  });
  expect(accepted.status).toBe(202);
  return accepted.body as { alertId: string; workflowId: string };
}

function alertMessage(channel: string) {
  return escalator.slack.messages(channel).find((message) => !message.threadTs);
}

async function timeline(alertId: string): Promise<Array<{ type: string; message: string }>> {
  const detail = await escalator.get(`/api/alerts/${alertId}`, escalator.adminAuth);
  return detail.body.timeline;
}

function directMessagesTo(userId: string) {
  return escalator.slack.calls('chat.postMessage').filter((call) => call.body.channel === userId);
}

test('a team with a schedule: the alert goes to whoever is on call, says why, and escalates to the next on call', async () => {
  const team = await escalator.createTeam({ prefix: 'oncall', engineers: ['U1ENG1', 'U1ENG2'] });
  await giveSchedule(team, ['U1ANN', 'U1BOB']);

  const alert = await openAlert(team, 'schedule');

  const posted = await waitFor('the alert message', () => alertMessage(team.channel));
  expect(posted.text).toContain('<@U1ANN>');
  expect(posted.text).not.toContain('U1ENG1');
  const assigned = await waitFor('the assignment in the timeline', async () =>
    (await timeline(alert.alertId)).find((event) => event.type === 'assigned')
  );
  expect(assigned.message).toMatch(/^Assigned to U1ANN \(on call in Primary until \w{3} \d\d:\d\d\)$/);

  // Nobody acknowledges: the one whose shift follows is called, not the team's second engineer.
  await waitFor('the next person on call to be messaged', () => directMessagesTo('U1BOB')[0], ESCALATION_CAP_MS);
  expect(directMessagesTo('U1ENG2')).toEqual([]);
});

test('skipAway: the person on call is away, so the next on call is paged and the timeline names who was skipped', async () => {
  const team = await escalator.createTeam({ prefix: 'away', engineers: ['U2ENG1'] });
  await giveSchedule(team, ['U2ANN', 'U2BOB'], { skipAway: true });
  escalator.slack.setPresence('U2ANN', { away: true });

  const alert = await openAlert(team, 'away');

  const posted = await waitFor('the alert message', () => alertMessage(team.channel));
  expect(posted.text).toContain('<@U2BOB>');
  expect(posted.text).not.toContain('<@U2ANN>');
  const assigned = await waitFor('the assignment in the timeline', async () =>
    (await timeline(alert.alertId)).find((event) => event.type === 'assigned')
  );
  expect(assigned.message).toMatch(/^Assigned to U2BOB \(on call in Primary until .+; skipped U2ANN \(away\)\)$/);
  expect(escalator.slack.calls('users.getPresence').map((call) => call.body.user)).toContain('U2ANN');
});

test('skipAway: everyone is away or in Do Not Disturb, so the person on call is paged anyway', async () => {
  const team = await escalator.createTeam({ prefix: 'nobody', engineers: ['U3ENG1'] });
  await giveSchedule(team, ['U3ANN', 'U3BOB'], { skipAway: true });
  escalator.slack.setPresence('U3ANN', { dnd: true });
  escalator.slack.setPresence('U3BOB', { away: true });

  const alert = await openAlert(team, 'nobody');

  const posted = await waitFor('the alert message', () => alertMessage(team.channel));
  expect(posted.text).toContain('<@U3ANN>');
  const assigned = await waitFor('the assignment in the timeline', async () =>
    (await timeline(alert.alertId)).find((event) => event.type === 'assigned')
  );
  expect(assigned.message).toContain('everyone is away or in Do Not Disturb: paged anyway');
});

test('skipAway without a schedule: the first of the team’s engineers not in Do Not Disturb, asked once a minute', async () => {
  const team = await escalator.createTeam({ prefix: 'dnd', engineers: ['U4ALICE', 'U4BOB', 'U4CAROL'] });
  await send('PATCH', `/api/teams/${team.id}`, { skipAway: true });
  escalator.slack.setPresence('U4ALICE', { dnd: true });

  const first = await openAlert(team, 'dnd-1');
  const second = await openAlert(team, 'dnd-2');

  for (const alert of [first, second]) {
    const assigned = await waitFor('the assignment in the timeline', async () =>
      (await timeline(alert.alertId)).find((event) => event.type === 'assigned')
    );
    expect(assigned.message).toBe(
      'Assigned to U4BOB (the first engineer of the team reachable in Slack; skipped U4ALICE (in Do Not Disturb))'
    );
  }
  // Two alerts, one question per person: the answer is cached for a minute.
  const asked = escalator.slack.calls('dnd.info').filter((call) => call.body.user === 'U4ALICE');
  expect(asked).toHaveLength(1);
});
