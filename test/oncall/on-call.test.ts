import { decideOnCall } from '../../src/oncall/decision';
import { nextOnCall, onCallAt, overrideChangesNothing, shiftsBetween } from '../../src/oncall/on-call';
import type { Override, Rotation, Schedule } from '../../src/oncall/schedule';

const at = Date.parse;

function schedule(rotations: Rotation[], overrides: Override[] = [], timeZone = 'Europe/Berlin'): Schedule {
  return { timeZone, rotations, overrides };
}

function override(id: string, start: string, end: string, change: Partial<Override>, createdAt = 1): Override {
  return { id, start: at(start), end: at(end), createdAt, ...change };
}

const weekly: Rotation = {
  name: 'Primary',
  kind: 'weekly',
  handoff: '2026-03-02T09:00', // a Monday
  members: ['U0ANN', 'U0BOB', ['U0CAT', 'U0DAN']],
};

describe('a rotation', () => {
  test('the shift at handoff is the first member’s, then round the list, and backwards before it', () => {
    const s = schedule([weekly]);

    expect(onCallAt(s, at('2026-03-02T08:00:00Z')).users).toEqual(['U0ANN']); // 09:00 CET
    expect(onCallAt(s, at('2026-03-09T08:00:00Z')).users).toEqual(['U0BOB']);
    expect(onCallAt(s, at('2026-03-16T08:00:00Z')).users).toEqual(['U0CAT', 'U0DAN']);
    expect(onCallAt(s, at('2026-03-23T08:00:00Z')).users).toEqual(['U0ANN']);
    expect(onCallAt(s, at('2026-03-02T07:59:59Z')).users).toEqual(['U0CAT', 'U0DAN']);
    expect(onCallAt(s, at('2026-02-16T08:00:00Z')).users).toEqual(['U0BOB']);
  });

  test('answers until the next handoff, and through which rotation', () => {
    const answer = onCallAt(schedule([weekly]), at('2026-03-04T12:00:00Z'));

    expect(answer).toEqual({
      users: ['U0ANN'],
      until: at('2026-03-09T08:00:00Z'),
      via: [{ rotation: 'Primary', layer: 0 }],
    });
  });

  test('covers nobody before startsAt and from endsAt on (local date-times in the schedule’s zone)', () => {
    const s = schedule([{ ...weekly, startsAt: '2026-03-05T00:00', endsAt: '2026-03-20T00:00:00Z' }]);

    expect(onCallAt(s, at('2026-03-04T12:00:00Z'))).toEqual({ users: [], until: at('2026-03-04T23:00:00Z'), via: [] });
    expect(onCallAt(s, at('2026-03-19T23:59:00Z')).until).toBe(at('2026-03-20T00:00:00Z'));
    expect(onCallAt(s, at('2026-03-20T00:00:00Z'))).toEqual({ users: [], until: null, via: [] });
  });

  test('an active window whose `to` is before its `from` spans midnight; outside windows nobody is covered', () => {
    const nights: Rotation = {
      name: 'Nights',
      kind: 'daily',
      handoff: '2026-03-02T18:00',
      members: ['U0ANN', 'U0BOB'],
      activeWindows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '18:00', to: '08:00' }],
    };
    const s = schedule([nights]);

    expect(onCallAt(s, at('2026-03-02T20:00:00Z')).users).toEqual(['U0ANN']); // Mon 21:00
    expect(onCallAt(s, at('2026-03-03T06:00:00Z')).users).toEqual(['U0ANN']); // Tue 07:00
    expect(onCallAt(s, at('2026-03-03T08:00:00Z'))).toMatchObject({ users: [], until: at('2026-03-03T17:00:00Z') });
    expect(onCallAt(s, at('2026-03-07T12:00:00Z')).users).toEqual([]); // Saturday
    expect(onCallAt(s, at('2026-03-07T06:00:00Z')).users).toEqual(['U0ANN']); // Sat 07:00: Friday's window and shift
  });
});

describe('layers', () => {
  const businessHours: Rotation = {
    name: 'Day',
    kind: 'daily',
    handoff: '2026-03-02T09:00',
    members: ['U0EVE'],
    layer: 1,
    activeWindows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '09:00', to: '17:00' }],
  };

  test('where several rotations cover an instant the highest layer wins', () => {
    const s = schedule([weekly, businessHours]);

    expect(onCallAt(s, at('2026-03-03T10:00:00Z'))).toEqual({
      users: ['U0EVE'],
      until: at('2026-03-03T16:00:00Z'),
      via: [{ rotation: 'Day', layer: 1 }],
    });
    expect(onCallAt(s, at('2026-03-03T17:00:00Z')).users).toEqual(['U0ANN']);
  });

  test('equal layers are on call together', () => {
    const s = schedule([weekly, { ...businessHours, layer: 0 }]);

    expect(onCallAt(s, at('2026-03-03T10:00:00Z'))).toMatchObject({
      users: ['U0ANN', 'U0EVE'],
      via: [
        { rotation: 'Primary', layer: 0 },
        { rotation: 'Day', layer: 0 },
      ],
    });
  });

  test('follow-the-sun: two rotations in windows of their own hand over at the windows’ edges', () => {
    const europe: Rotation = {
      name: 'Europe',
      kind: 'daily',
      handoff: '2026-03-02T08:00',
      members: ['U0EU'],
      activeWindows: [{ from: '08:00', to: '20:00' }],
    };
    const americas: Rotation = {
      name: 'Americas',
      kind: 'daily',
      handoff: '2026-03-02T20:00',
      members: ['U0US'],
      activeWindows: [{ from: '20:00', to: '08:00' }],
    };
    const s = schedule([europe, americas]);

    const shifts = shiftsBetween(s, at('2026-03-03T00:00:00Z'), at('2026-03-04T00:00:00Z'));

    expect(
      shifts.map((shift) => [shift.userId, new Date(shift.start).toISOString(), new Date(shift.end).toISOString()])
    ).toEqual([
      ['U0US', '2026-03-03T00:00:00.000Z', '2026-03-03T07:00:00.000Z'],
      ['U0EU', '2026-03-03T07:00:00.000Z', '2026-03-03T19:00:00.000Z'],
      ['U0US', '2026-03-03T19:00:00.000Z', '2026-03-04T00:00:00.000Z'],
    ]);
  });
});

describe('overrides', () => {
  const s = (overrides: Override[]) => schedule([weekly], overrides);
  const noon = at('2026-03-04T12:00:00Z');

  test('add puts a person on call beside the shift’s', () => {
    const answer = onCallAt(
      s([override('o1', '2026-03-04T10:00:00Z', '2026-03-04T14:00:00Z', { addUserId: 'U0ZED' })]),
      noon
    );

    expect(answer).toEqual({
      users: ['U0ANN', 'U0ZED'],
      until: at('2026-03-04T14:00:00Z'),
      via: [
        { rotation: 'Primary', layer: 0 },
        { rotation: null, layer: null, overrideId: 'o1' },
      ],
    });
  });

  test('remove takes one off; both replace one by the other', () => {
    const removed = onCallAt(
      s([override('o1', '2026-03-04T10:00:00Z', '2026-03-04T14:00:00Z', { removeUserId: 'U0ANN' })]),
      noon
    );
    const replaced = onCallAt(
      s([
        override('o2', '2026-03-04T10:00:00Z', '2026-03-04T14:00:00Z', { addUserId: 'U0ZED', removeUserId: 'U0ANN' }),
      ]),
      noon
    );

    expect(removed).toEqual({
      users: [],
      until: at('2026-03-04T14:00:00Z'),
      via: [{ rotation: 'Primary', layer: 0, overrideId: 'o1' }],
    });
    expect(replaced).toEqual({
      users: ['U0ZED'],
      until: at('2026-03-04T14:00:00Z'),
      via: [{ rotation: 'Primary', layer: 0, overrideId: 'o2' }],
    });
  });

  test('overlapping overrides: the newest wins', () => {
    const cover = override(
      'old',
      '2026-03-04T00:00:00Z',
      '2026-03-05T00:00:00Z',
      { addUserId: 'U0CAT', removeUserId: 'U0ANN' },
      1
    );
    const relief = override(
      'new',
      '2026-03-04T11:00:00Z',
      '2026-03-04T13:00:00Z',
      { addUserId: 'U0ZED', removeUserId: 'U0ANN' },
      2
    );
    const offAgain = override('newer', '2026-03-04T11:30:00Z', '2026-03-04T12:30:00Z', { removeUserId: 'U0ZED' }, 3);

    expect(onCallAt(s([cover, relief]), noon).users).toEqual(['U0ZED']);
    expect(onCallAt(s([relief, cover]), noon).users).toEqual(['U0ZED']); // order of the list does not matter
    expect(onCallAt(s([cover, relief, offAgain]), noon).users).toEqual([]);
    expect(onCallAt(s([cover, relief]), at('2026-03-04T14:00:00Z')).users).toEqual(['U0CAT']);
  });

  test('shifts show override time as its own, cut into the shift it interrupts', () => {
    const schedule = s([
      override('o1', '2026-03-04T10:00:00Z', '2026-03-04T14:00:00Z', { addUserId: 'U0ZED', removeUserId: 'U0ANN' }),
    ]);

    const shifts = shiftsBetween(schedule, at('2026-03-04T00:00:00Z'), at('2026-03-05T00:00:00Z'));

    expect(shifts).toEqual([
      {
        userId: 'U0ANN',
        start: at('2026-03-04T00:00:00Z'),
        end: at('2026-03-04T10:00:00Z'),
        rotation: 'Primary',
        shift: 0,
      },
      {
        userId: 'U0ZED',
        start: at('2026-03-04T10:00:00Z'),
        end: at('2026-03-04T14:00:00Z'),
        rotation: 'Primary',
        shift: 0,
        overrideId: 'o1',
      },
      {
        userId: 'U0ANN',
        start: at('2026-03-04T14:00:00Z'),
        end: at('2026-03-05T00:00:00Z'),
        rotation: 'Primary',
        shift: 0,
      },
    ]);
  });

  test('an override that changes nothing is recognised, with the reason', () => {
    const base = s([]);
    const range = { id: 'x', start: at('2026-03-04T10:00:00Z'), end: at('2026-03-04T14:00:00Z'), createdAt: 9 };

    expect(overrideChangesNothing(base, { ...range, addUserId: 'U0ANN' })).toMatch(/U0ANN is already on call/);
    expect(overrideChangesNothing(base, { ...range, removeUserId: 'U0BOB' })).toMatch(/U0BOB is not on call/);
    expect(overrideChangesNothing(base, { ...range, addUserId: 'U0ZED', removeUserId: 'U0BOB' })).toMatch(
      /replacement would change nothing/
    );
    expect(overrideChangesNothing(base, { ...range, addUserId: 'U0ZED' })).toBeNull();
    expect(
      overrideChangesNothing(base, {
        ...range,
        start: at('2026-03-09T07:00:00Z'),
        end: at('2026-03-09T09:00:00Z'),
        removeUserId: 'U0BOB',
      })
    ).toBeNull();
  });
});

describe('the next person on call', () => {
  test('is whoever holds the rotation’s next shift, passing over shifts of the same people', () => {
    const s = schedule([{ ...weekly, members: ['U0ANN', 'U0ANN', 'U0BOB'] }]);

    expect(nextOnCall(s, at('2026-03-04T12:00:00Z'))).toEqual({
      users: ['U0BOB'],
      start: at('2026-03-16T08:00:00Z'),
      rotation: 'Primary',
    });
  });

  test('overrides in force when that shift starts apply to it; a rotation of one has no next person', () => {
    const s = schedule(
      [weekly],
      [override('o1', '2026-03-09T00:00:00Z', '2026-03-10T00:00:00Z', { addUserId: 'U0ZED', removeUserId: 'U0BOB' })]
    );

    expect(nextOnCall(s, at('2026-03-04T12:00:00Z'))?.users).toEqual(['U0ZED']);
    expect(nextOnCall(schedule([{ ...weekly, members: ['U0ANN'] }]), at('2026-03-04T12:00:00Z'))).toBeNull();
  });
});

describe('the decision an alert records', () => {
  test('names the rotation, the local end of the shift and who made the override', () => {
    const s = {
      name: 'Payments',
      ...schedule(
        [weekly],
        [
          override('o1', '2026-03-04T10:00:00Z', '2026-03-09T08:00:00Z', {
            addUserId: 'U0ZED',
            removeUserId: 'U0ANN',
            createdBy: 'U0BOB',
          }),
        ]
      ),
    };

    expect(decideOnCall(s, at('2026-03-04T12:00:00Z'))).toEqual({
      userId: 'U0ZED',
      users: ['U0ZED'],
      reason: 'on call in Primary until Mon 09:00, override by U0BOB',
      next: 'U0BOB',
      until: at('2026-03-09T08:00:00Z'),
    });
    expect(decideOnCall({ ...s, overrides: [] }, at('2026-03-04T12:00:00Z')).reason).toBe(
      'on call in Primary until Mon 09:00'
    );
  });
});
