/**
 * The handoff watcher's Slack activities against the Slack stand-in and the test PostgreSQL: a
 * notice is posted once per handoff and channel however often it is run, and the user group is
 * set to exactly who is on call.
 */
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createHandoffActivities, type HandoffNotice } from '../../src/activities/handoff-activities';
import { createDatabase, type Database } from '../../src/db/client';
import { SLACK_PERMANENT_ERROR } from '../../src/domain/failures';
import { createLogger } from '../../src/logger';
import { createSlackApi } from '../../src/slack/client';
import { startFakeSlack, type FakeSlack } from '../helpers/fake-slack';

const TOKEN = 'xoxb-handoff-activities';
let slack: FakeSlack;
let db: Database;
let activities: ReturnType<typeof createHandoffActivities>;

beforeAll(async () => {
  slack = await startFakeSlack({ token: TOKEN });
  db = createDatabase(process.env.DATABASE_URL as string);
  const log = createLogger({ level: 'error' });
  activities = createHandoffActivities({ slack: createSlackApi({ token: TOKEN, apiUrl: slack.url, log }), db, log });
});

afterAll(async () => {
  await Promise.all([slack?.close(), db?.$disconnect()]);
});

function notice(channel: string): HandoffNotice {
  return {
    scheduleId: randomUUID(),
    scheduleName: 'Payments <primary>',
    changeAt: Date.parse('2026-12-14T09:00:00Z'),
    previous: ['U0ANN'],
    users: ['U0BOB'],
    until: Date.parse('2026-12-21T09:00:00Z'),
    channel: { slackChannelId: channel },
  };
}

/** Each run is a separate attempt of an activity (a retry, or the handoff seen again by a new run). */
const run = <T>(call: () => Promise<T>) => new MockActivityEnvironment().run(call);

test('a handoff notice run twice (a retry) is posted once', async () => {
  const channel = `C${randomUUID().slice(0, 8).toUpperCase()}`;
  const handoff = notice(channel);

  await run(() => activities.postHandoffNotice(handoff));
  await run(() => activities.postHandoffNotice(handoff));

  const posted = slack.messages(channel);
  expect(posted).toHaveLength(1);
  expect(posted[0]!.text).toContain('<@U0BOB> on call for *Payments &lt;primary&gt;* now');
  expect(posted[0]!.text).toContain('Off call: `U0ANN`');
});

test('a notice Slack failed to take is posted by the retry, once', async () => {
  const channel = `C${randomUUID().slice(0, 8).toUpperCase()}`;
  slack.failNext('chat.postMessage', { kind: 'http', status: 503 });

  await expect(run(() => activities.postHandoffNotice(notice(channel)))).rejects.toBeInstanceOf(ApplicationFailure);
  await run(() => activities.postHandoffNotice(notice(channel)));

  expect(slack.messages(channel)).toHaveLength(1);
});

test('the user group is set to exactly who is on call; nobody on call leaves it as it is', async () => {
  const usergroupId = `S${randomUUID().slice(0, 8).toUpperCase()}`;

  expect(await run(() => activities.setOnCallUsergroup({ usergroupId, users: ['U0ANN', 'U0BOB'] }))).toBe('set');
  expect(slack.usergroup(usergroupId)).toEqual(['U0ANN', 'U0BOB']);
  expect(await run(() => activities.setOnCallUsergroup({ usergroupId, users: [] }))).toBe('kept');
  expect(slack.usergroup(usergroupId)).toEqual(['U0ANN', 'U0BOB']);
});

test('a user group Slack does not know is a permanent failure, not retried', async () => {
  slack.failNext('usergroups.users.update', { kind: 'error', error: 'no_such_subteam' });

  const failure = await run(() => activities.setOnCallUsergroup({ usergroupId: 'S0GONE', users: ['U0ANN'] })).catch(
    (error: unknown) => error
  );

  expect(failure).toBeInstanceOf(ApplicationFailure);
  expect((failure as ApplicationFailure).type).toBe(SLACK_PERMANENT_ERROR);
});
