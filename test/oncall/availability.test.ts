import { describeSkipped, pickAvailable, type Absence } from '../../src/oncall/availability';
import { inDoNotDisturb } from '../../src/slack/client';

const absences = (entries: Record<string, Absence>) => new Map<string, Absence | null>(Object.entries(entries));

describe('pickAvailable', () => {
  test('the first reachable person, naming those passed over before them, and the next reachable one', () => {
    const pick = pickAvailable(['U1', 'U2', 'U3', 'U4'], absences({ U1: 'away', U2: 'dnd', U4: 'away' }));
    expect(pick).toEqual({
      userId: 'U3',
      skipped: [
        { userId: 'U1', why: 'away' },
        { userId: 'U2', why: 'dnd' },
      ],
      next: null,
      nobodyAvailable: false,
    });
    expect(describeSkipped(pick)).toBe('skipped U1 (away), U2 (in Do Not Disturb)');
  });

  test('nobody reachable: the first is paged anyway, and it says so', () => {
    const pick = pickAvailable(['U1', 'U2'], absences({ U1: 'dnd', U2: 'away' }));
    expect(pick).toMatchObject({ userId: 'U1', next: 'U2', nobodyAvailable: true });
    expect(describeSkipped(pick)).toBe('everyone is away or in Do Not Disturb: paged anyway');
  });

  test('a person listed twice (on call now and next) is asked about and skipped once', () => {
    const pick = pickAvailable(['U1', 'U1', 'U2'], absences({ U1: 'away' }));
    expect(pick.skipped).toEqual([{ userId: 'U1', why: 'away' }]);
    expect(pick.userId).toBe('U2');
  });

  test('nobody away: the first, with nothing to say', () => {
    const pick = pickAvailable(['U1', 'U2'], new Map());
    expect(pick).toEqual({ userId: 'U1', skipped: [], next: 'U2', nobodyAvailable: false });
    expect(describeSkipped(pick)).toBe('');
  });
});

describe('inDoNotDisturb (dnd.info)', () => {
  const now = 1_800_000_000;
  test('inside the reported quiet hours, not before or after them', () => {
    const quiet = { dnd_enabled: true, next_dnd_start_ts: now - 60, next_dnd_end_ts: now + 60 };
    expect(inDoNotDisturb(quiet, now)).toBe(true);
    expect(inDoNotDisturb(quiet, now + 60)).toBe(false);
    expect(inDoNotDisturb({ ...quiet, next_dnd_start_ts: now + 1 }, now)).toBe(false);
    expect(inDoNotDisturb({ ...quiet, dnd_enabled: false }, now)).toBe(false);
  });

  test('a snooze that has not ended', () => {
    expect(inDoNotDisturb({ dnd_enabled: false, snooze_enabled: true, snooze_endtime: now + 10 }, now)).toBe(true);
    expect(inDoNotDisturb({ dnd_enabled: false, snooze_enabled: true, snooze_endtime: now - 10 }, now)).toBe(false);
  });
});
