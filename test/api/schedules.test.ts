import ICAL from 'ical.js';
import request from 'supertest';
import { whoIsOnCall } from '../../src/oncall/store';
import { scheduleHandoffsWorkflowId } from '../../src/workflows/definitions';
import { createTestGateway, registerTeam, type TestGateway } from '../helpers/gateway';

let gateway: TestGateway;

beforeAll(() => {
  gateway = createTestGateway();
});

afterAll(async () => {
  await gateway?.close();
});

const newYorkTwelveHourly = {
  name: 'Primary',
  kind: 'hourly',
  every: 12,
  handoff: '2026-03-01T08:00',
  members: ['U0ANN', 'U0BOB'],
};

function scheduleBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { name: 'Payments on call', timeZone: 'America/New_York', rotations: [newYorkTwelveHourly], ...overrides };
}

async function createSchedule(body: Record<string, unknown> = scheduleBody()) {
  const response = await request(gateway.app).post('/api/schedules').set(gateway.adminAuth).send(body).expect(201);
  return response.body as { id: string; icalUrl: string; version: number };
}

async function onCall(id: string, at: string) {
  const response = await request(gateway.app)
    .get(`/api/schedules/${id}/oncall`)
    .query({ at })
    .set(gateway.adminAuth)
    .expect(200);
  return response.body;
}

describe('schedules', () => {
  test('POST creates a schedule (201 with its id and calendar URL); GET, list, PUT and DELETE work on it', async () => {
    const created = await createSchedule();

    expect(created).toMatchObject({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: 'Payments on call',
      timeZone: 'America/New_York',
      rotations: [newYorkTwelveHourly],
      version: 1,
      teamId: null,
      overrides: [],
      icalUrl: expect.stringMatching(/^https:\/\/escalator\.example\.com\/ical\/[A-Za-z0-9_-]{32}\.ics$/),
    });
    const read = await request(gateway.app).get(`/api/schedules/${created.id}`).set(gateway.adminAuth).expect(200);
    expect(read.body).toEqual(created);
    const list = await request(gateway.app).get('/api/schedules').set(gateway.adminAuth).expect(200);
    expect(list.body.schedules.map((s: { id: string }) => s.id)).toContain(created.id);

    const replaced = await request(gateway.app)
      .put(`/api/schedules/${created.id}`)
      .set(gateway.adminAuth)
      .send(scheduleBody({ name: 'Renamed', timeZone: 'Europe/Berlin' }))
      .expect(200);
    expect(replaced.body).toMatchObject({
      name: 'Renamed',
      timeZone: 'Europe/Berlin',
      version: 2,
      icalUrl: created.icalUrl,
    });

    await request(gateway.app).delete(`/api/schedules/${created.id}`).set(gateway.adminAuth).expect(204);
    await request(gateway.app).get(`/api/schedules/${created.id}`).set(gateway.adminAuth).expect(404);
    await request(gateway.app).delete(`/api/schedules/${created.id}`).set(gateway.adminAuth).expect(404);
  });

  test('every route needs the admin token; unknown or malformed ids are 404', async () => {
    await request(gateway.app).post('/api/schedules').send(scheduleBody()).expect(401);
    await request(gateway.app).get('/api/schedules').expect(401);
    await request(gateway.app).get('/api/schedules/not-a-uuid').set(gateway.adminAuth).expect(404);
    await request(gateway.app)
      .get('/api/schedules/6b7c8d9e-0f1a-4b2c-9d3e-4f5a6b7c8d9e/oncall')
      .set(gateway.adminAuth)
      .expect(404);
  });

  test.each([
    [{ timeZone: 'Mars/Olympus' }, /^timeZone: must be an IANA time zone/],
    [{ timeZone: '+02:00' }, /^timeZone: must be an IANA time zone/],
    [
      { rotations: [{ ...newYorkTwelveHourly, handoff: '2026-02-30T08:00' }] },
      /^rotations\.0\.handoff: must be a local date-time/,
    ],
    [{ rotations: [{ ...newYorkTwelveHourly, kind: 'monthly' }] }, /^rotations\.0\.kind: /],
    [{ rotations: [{ ...newYorkTwelveHourly, members: ['bob'] }] }, /^rotations\.0\.members\.0: /],
    [{ rotations: [newYorkTwelveHourly, newYorkTwelveHourly] }, /^rotations: rotation names must be distinct/],
    [
      { rotations: [{ ...newYorkTwelveHourly, activeWindows: [{ from: '9am', to: '17:00' }] }] },
      /^rotations\.0\.activeWindows\.0\.from: must be a local time/,
    ],
    [{ teamId: '6b7c8d9e-0f1a-4b2c-9d3e-4f5a6b7c8d9e' }, /^teamId: no team with this id/],
    [{ slackUsergroupId: '@oncall' }, /^slackUsergroupId: must be a Slack user group id/],
    [{ handoffNotices: 'yes' }, /^handoffNotices: /],
  ])('refuses %j with a 400 naming what is wrong', async (overrides, message) => {
    const response = await request(gateway.app)
      .post('/api/schedules')
      .set(gateway.adminAuth)
      .send(scheduleBody(overrides))
      .expect(400);

    expect(response.body.error).toMatch(message);
  });
});

describe('handoff notices and the user group', () => {
  test('are off unless asked; asked for, the schedule shows them and its handoff watcher runs; PUT keeps them unless it turns them off', async () => {
    const plain = await createSchedule();
    expect(plain).toMatchObject({ handoffNotices: false, slackUsergroupId: null });
    await expect(
      gateway.temporal.workflow.getHandle(scheduleHandoffsWorkflowId(plain.id)).describe()
    ).rejects.toThrow();

    const watched = await createSchedule(scheduleBody({ handoffNotices: true, slackUsergroupId: 'S0ONCALL' }));
    expect(watched).toMatchObject({ handoffNotices: true, slackUsergroupId: 'S0ONCALL' });
    const watcher = await gateway.temporal.workflow.getHandle(scheduleHandoffsWorkflowId(watched.id)).describe();
    expect(watcher.status.name).toBe('RUNNING');
    expect(watcher.type).toBe('scheduleHandoffsWorkflow');

    const kept = await request(gateway.app)
      .put(`/api/schedules/${watched.id}`)
      .set(gateway.adminAuth)
      .send(scheduleBody({ name: 'Renamed' }))
      .expect(200);
    expect(kept.body).toMatchObject({ name: 'Renamed', handoffNotices: true, slackUsergroupId: 'S0ONCALL' });
    const turnedOff = await request(gateway.app)
      .put(`/api/schedules/${watched.id}`)
      .set(gateway.adminAuth)
      .send(scheduleBody({ handoffNotices: false, slackUsergroupId: null }))
      .expect(200);
    expect(turnedOff.body).toMatchObject({ handoffNotices: false, slackUsergroupId: null });
  });
});

describe('who is on call', () => {
  test('a 12-hourly New York rotation hands off at 08:00 and 20:00 local on both sides of spring forward', async () => {
    const { id } = await createSchedule();

    expect(await onCall(id, '2026-03-07T14:00:00Z')).toEqual({
      at: '2026-03-07T14:00:00.000Z',
      users: ['U0ANN'],
      until: '2026-03-08T01:00:00.000Z', // 20:00 EST
      via: [{ rotation: 'Primary', layer: 0 }],
      version: 1,
    });
    expect(await onCall(id, '2026-03-08T01:00:00Z')).toMatchObject({
      users: ['U0BOB'],
      until: '2026-03-08T12:00:00.000Z',
    }); // 08:00 EDT
    expect(await onCall(id, '2026-03-08T12:00:00Z')).toMatchObject({
      users: ['U0ANN'],
      until: '2026-03-09T00:00:00.000Z',
    }); // 20:00 EDT
  });

  test('`at` defaults to now; a malformed one is a 400', async () => {
    const { id } = await createSchedule();

    const now = await request(gateway.app).get(`/api/schedules/${id}/oncall`).set(gateway.adminAuth).expect(200);
    const bad = await request(gateway.app)
      .get(`/api/schedules/${id}/oncall?at=tomorrow`)
      .set(gateway.adminAuth)
      .expect(400);

    expect(Math.abs(Date.parse(now.body.at) - Date.now())).toBeLessThan(60_000);
    expect(now.body.users).toHaveLength(1);
    expect(bad.body.error).toMatch(/^at: must be an ISO 8601 instant/);
    const far = await request(gateway.app)
      .get(`/api/schedules/${id}/oncall?at=9999-01-01T00:00:00Z`)
      .set(gateway.adminAuth)
      .expect(400);
    expect(far.body.error).toBe('at: must be between 1900 and 2200');
  });

  test('shifts in a range, in order of start, clipped to it', async () => {
    const { id } = await createSchedule();

    const response = await request(gateway.app)
      .get(`/api/schedules/${id}/shifts`)
      .query({ from: '2026-03-07T18:00:00Z', to: '2026-03-08T18:00:00Z' })
      .set(gateway.adminAuth)
      .expect(200);

    expect(response.body).toEqual({
      shifts: [
        { userId: 'U0ANN', start: '2026-03-07T18:00:00.000Z', end: '2026-03-08T01:00:00.000Z', rotation: 'Primary' },
        { userId: 'U0BOB', start: '2026-03-08T01:00:00.000Z', end: '2026-03-08T12:00:00.000Z', rotation: 'Primary' },
        { userId: 'U0ANN', start: '2026-03-08T12:00:00.000Z', end: '2026-03-08T18:00:00.000Z', rotation: 'Primary' },
      ],
    });
    await request(gateway.app)
      .get(`/api/schedules/${id}/shifts`)
      .query({ from: '2026-03-08T18:00:00Z', to: '2026-03-07T18:00:00Z' })
      .set(gateway.adminAuth)
      .expect(400);
  });
});

describe('overrides', () => {
  test('a replacement puts someone in the shift’s place; deleting it puts the shift back; each change bumps the version', async () => {
    const { id } = await createSchedule();

    const added = await request(gateway.app)
      .post(`/api/schedules/${id}/overrides`)
      .set(gateway.adminAuth)
      .send({ start: '2026-03-07T15:00:00Z', end: '2026-03-07T17:00:00Z', addUserId: 'U0ZED', removeUserId: 'U0ANN' })
      .expect(201);

    expect(added.body).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(await onCall(id, '2026-03-07T16:00:00Z')).toEqual({
      at: '2026-03-07T16:00:00.000Z',
      users: ['U0ZED'],
      until: '2026-03-07T17:00:00.000Z',
      via: [{ rotation: 'Primary', layer: 0, overrideId: added.body.id }],
      version: 2,
    });
    await request(gateway.app)
      .delete(`/api/schedules/${id}/overrides/${added.body.id}`)
      .set(gateway.adminAuth)
      .expect(204);
    expect(await onCall(id, '2026-03-07T16:00:00Z')).toMatchObject({ users: ['U0ANN'], version: 3 });
    await request(gateway.app)
      .delete(`/api/schedules/${id}/overrides/${added.body.id}`)
      .set(gateway.adminAuth)
      .expect(404);
  });

  test('overlapping overrides: the newest wins', async () => {
    const { id } = await createSchedule();
    const post = (body: object) =>
      request(gateway.app).post(`/api/schedules/${id}/overrides`).set(gateway.adminAuth).send(body).expect(201);

    await post({
      start: '2026-03-07T14:00:00Z',
      end: '2026-03-07T20:00:00Z',
      addUserId: 'U0CAT',
      removeUserId: 'U0ANN',
    });
    await post({
      start: '2026-03-07T15:00:00Z',
      end: '2026-03-07T16:00:00Z',
      addUserId: 'U0ZED',
      removeUserId: 'U0ANN',
    });

    expect((await onCall(id, '2026-03-07T15:30:00Z')).users).toEqual(['U0ZED']);
    expect((await onCall(id, '2026-03-07T17:00:00Z')).users).toEqual(['U0CAT']);
  });

  test.each([
    [{ addUserId: 'U0ANN' }, 'U0ANN is already on call for the whole time between start and end'],
    [{ removeUserId: 'U0BOB' }, 'U0BOB is not on call at any time between start and end'],
    [{ addUserId: 'U0ZED', removeUserId: 'U0BOB' }, 'the replacement would change nothing'],
    [{}, 'give addUserId, removeUserId or both'],
    [{ addUserId: 'U0ZED', end: '2026-03-07T14:00:00Z' }, 'end: must be after start'],
  ])('refuses %j with a 400 that says why', async (change, reason) => {
    const { id } = await createSchedule();

    const response = await request(gateway.app)
      .post(`/api/schedules/${id}/overrides`)
      .set(gateway.adminAuth)
      .send({ start: '2026-03-07T15:00:00Z', end: '2026-03-07T17:00:00Z', ...change })
      .expect(400);

    expect(response.body.error).toContain(reason);
    expect((await onCall(id, '2026-03-07T16:00:00Z')).version).toBe(1);
  });
});

describe('the calendar feed', () => {
  function events(text: string) {
    const calendar = new ICAL.Component(ICAL.parse(text));
    return calendar.getAllSubcomponents('vevent').map((component) => new ICAL.Event(component));
  }

  test('is valid iCalendar with one event per shift, stable UIDs across fetches, overrides included', async () => {
    const { id, icalUrl } = await createSchedule(
      scheduleBody({ rotations: [{ ...newYorkTwelveHourly, kind: 'weekly', every: 1, handoff: '2026-11-30T09:00' }] })
    );
    const start = new Date(Date.now() + 2 * 86_400_000);
    start.setUTCMinutes(0, 0, 0);
    const override = await request(gateway.app)
      .post(`/api/schedules/${id}/overrides`)
      .set(gateway.adminAuth)
      .send({
        start: start.toISOString(),
        end: new Date(start.getTime() + 3_600_000).toISOString(),
        addUserId: 'U0ZED',
      })
      .expect(201);
    const path = new URL(icalUrl).pathname;

    const first = await request(gateway.app).get(path).expect(200);
    const second = await request(gateway.app).get(path).expect(200);
    const annOnly = await request(gateway.app).get(path).query({ user: 'U0ANN' }).expect(200);

    expect(first.headers['content-type']).toMatch(/^text\/calendar/);
    const parsed = events(first.text);
    expect(parsed.length).toBeGreaterThan(10);
    expect(new Set(parsed.map((event) => event.uid)).size).toBe(parsed.length);
    expect(events(second.text).map((event) => event.uid)).toEqual(parsed.map((event) => event.uid));
    const zed = parsed.filter((event) => event.summary.startsWith('U0ZED'));
    expect(zed).toHaveLength(1);
    expect(zed[0]!.startDate.toJSDate().getTime()).toBe(start.getTime());
    expect(zed[0]!.description).toContain(override.body.id);
    for (const event of parsed) {
      expect(event.endDate.toJSDate().getTime()).toBeGreaterThan(event.startDate.toJSDate().getTime());
    }
    const ann = events(annOnly.text);
    expect(ann.length).toBeGreaterThan(0);
    expect(ann.every((event) => event.summary.startsWith('U0ANN'))).toBe(true);
  });

  test('an unknown token is 404', async () => {
    await request(gateway.app).get('/ical/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.ics').expect(404);
    await request(gateway.app).get('/ical/short.ics').expect(404);
  });
});

describe('a team’s schedule', () => {
  test('PATCH /api/teams/:id sets scheduleId and skipAway; whoIsOnCall answers for the team', async () => {
    const team = await registerTeam(gateway);
    const { id } = await createSchedule();

    const patched = await request(gateway.app)
      .patch(`/api/teams/${team.id}`)
      .set(gateway.adminAuth)
      .send({ scheduleId: id, skipAway: true })
      .expect(200);

    expect(patched.body).toMatchObject({ scheduleId: id, skipAway: true });
    expect(await whoIsOnCall(gateway.db, team.id, new Date('2026-03-07T14:00:00Z'))).toEqual({
      userId: 'U0ANN',
      users: ['U0ANN'],
      reason: 'on call in Primary until Sat 20:00',
      next: 'U0BOB',
      until: Date.parse('2026-03-08T01:00:00Z'),
      scheduleId: id,
      version: 1,
    });

    await request(gateway.app)
      .patch(`/api/teams/${team.id}`)
      .set(gateway.adminAuth)
      .send({ scheduleId: null })
      .expect(200);
    expect(await whoIsOnCall(gateway.db, team.id, new Date('2026-03-07T14:00:00Z'))).toBeNull();
  });

  test('a schedule created with teamId becomes that team’s; an unknown scheduleId is a 400', async () => {
    const team = await registerTeam(gateway);

    const { id } = await createSchedule(scheduleBody({ teamId: team.id }));
    const unknown = await request(gateway.app)
      .patch(`/api/teams/${team.id}`)
      .set(gateway.adminAuth)
      .send({ scheduleId: '6b7c8d9e-0f1a-4b2c-9d3e-4f5a6b7c8d9e' })
      .expect(400);

    const read = await request(gateway.app).get(`/api/teams/${team.id}`).set(gateway.adminAuth).expect(200);
    expect(read.body).toMatchObject({ scheduleId: id, skipAway: false });
    expect(unknown.body.error).toBe('scheduleId: no schedule with this id');
  });
});
