import ICAL from 'ical.js';
import { scheduleCalendar } from '../../src/oncall/ical';
import type { StoredSchedule } from '../../src/oncall/store';

const DAY = 86_400_000;

const schedule: StoredSchedule = {
  id: '5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d',
  name: 'Payments',
  version: 3,
  teamId: null,
  icalToken: 'token',
  handoffNotices: false,
  slackUsergroupId: null,
  createdAt: new Date('2026-11-01T00:00:00Z'),
  updatedAt: new Date('2026-11-02T00:00:00Z'),
  timeZone: 'Europe/Berlin',
  rotations: [
    { name: 'Primary', kind: 'weekly', handoff: '2026-03-02T09:00', members: ['U0ANN', ['U0BOB', 'U0CAT']] },
    {
      name: 'Day',
      kind: 'daily',
      handoff: '2026-03-02T09:00',
      members: ['U0DAN', 'U0EVE'],
      layer: 1,
      activeWindows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '09:00', to: '17:00' }],
    },
  ],
  overrides: [
    {
      id: 'o1',
      start: Date.parse('2026-12-10T10:00:00Z'),
      end: Date.parse('2026-12-10T12:00:00Z'),
      addUserId: 'U0ZED',
      removeUserId: 'U0EVE',
      createdAt: 1,
    },
  ],
};

function events(text: string) {
  const calendar = new ICAL.Component(ICAL.parse(text));
  return calendar.getAllSubcomponents('vevent').map((component) => {
    const event = new ICAL.Event(component);
    return {
      uid: event.uid,
      start: event.startDate.toJSDate().getTime(),
      end: event.endDate.toJSDate().getTime(),
      summary: event.summary,
    };
  });
}

test('a feed fetched on different days names the same shift with the same UID', () => {
  const now = Date.parse('2026-12-08T12:00:00Z');

  const today = events(scheduleCalendar(schedule, now));
  const later = events(scheduleCalendar(schedule, now + 5 * DAY));

  const laterByUid = new Map(later.map((event) => [event.uid, event]));
  const common = today.filter((event) => laterByUid.has(event.uid));
  expect(common.length).toBeGreaterThan(today.length / 2);
  // The same shift (its end may differ only where the feed's range cut it).
  for (const event of common) {
    expect(laterByUid.get(event.uid)).toMatchObject({ start: event.start, summary: event.summary });
  }
  // No shift appears twice under two UIDs.
  const keys = later.map((event) => `${event.summary}@${event.start}`);
  expect(new Set(keys).size).toBe(keys.length);
  for (const event of today.filter((e) => e.start >= now && e.end <= now + 100 * DAY)) {
    expect(later.find((e) => e.summary === event.summary && e.start === event.start)?.uid).toBe(event.uid);
  }
});

test('the override is its own event, and the shift it cuts resumes after it', () => {
  const feed = events(scheduleCalendar(schedule, Date.parse('2026-12-08T12:00:00Z')));

  const around = feed
    .filter(
      (event) => event.start < Date.parse('2026-12-10T16:00:00Z') && event.end > Date.parse('2026-12-10T08:00:00Z')
    )
    .map((event) => [event.summary, new Date(event.start).toISOString(), new Date(event.end).toISOString()]);

  expect(around).toEqual([
    ['U0EVE on call (Day)', '2026-12-10T08:00:00.000Z', '2026-12-10T10:00:00.000Z'],
    ['U0ZED on call (Day) by override', '2026-12-10T10:00:00.000Z', '2026-12-10T12:00:00.000Z'],
    ['U0EVE on call (Day)', '2026-12-10T12:00:00.000Z', '2026-12-10T16:00:00.000Z'],
  ]);
});
