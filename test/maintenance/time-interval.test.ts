/**
 * Alertmanager's time_interval semantics (its documentation and configuration rules): each case
 * is an instant, the interval, and whether Alertmanager mutes at that instant.
 */
import {
  intervalContains,
  nextChange,
  timeIntervalSchema,
  type TimeIntervalInput,
} from '../../src/maintenance/time-interval';
import { maintenanceAt, windowNextStart, type MaintenanceWindow } from '../../src/maintenance/window';

const compile = (input: TimeIntervalInput) => timeIntervalSchema.parse(input);
const at = (iso: string) => Date.parse(iso);

describe('intervalContains', () => {
  const businessHours = compile({
    weekdays: ['monday:friday'],
    times: [{ start_time: '09:00', end_time: '17:00' }],
    location: 'Europe/Berlin',
  });

  test.each([
    ['2026-12-07T07:59:00Z', false], // Monday 08:59 in Berlin
    ['2026-12-07T08:00:00Z', true], // 09:00: the start is inside
    ['2026-12-07T15:59:00Z', true],
    ['2026-12-07T16:00:00Z', false], // 17:00: the end is outside
    ['2026-12-12T10:00:00Z', false], // Saturday
    ['2026-07-06T07:00:00Z', true], // Monday 09:00 in summer time (UTC+2)
  ])('business hours in Berlin at %s: %s', (instant, inside) => {
    expect(intervalContains(businessHours, at(instant))).toBe(inside);
  });

  test.each([
    [['-1'], '2026-02-28T12:00:00Z', true],
    [['-1'], '2026-02-27T12:00:00Z', false],
    [['-1'], '2024-02-29T12:00:00Z', true],
    [['-1'], '2024-02-28T12:00:00Z', false],
    [['-3:-1'], '2026-04-28T00:00:00Z', true],
    [['-3:-1'], '2026-04-27T23:59:00Z', false],
    [['1:5', '-3:-1'], '2026-01-03T00:00:00Z', true],
    [['29:31'], '2026-02-28T12:00:00Z', false], // February 2026 has no 29th: the range is skipped
    [['25:31'], '2026-02-28T12:00:00Z', true], // the end is clamped to the month's last day
    [['31'], '2026-04-30T12:00:00Z', false],
  ])('days_of_month %j at %s: %s', (days, instant, inside) => {
    expect(intervalContains(compile({ days_of_month: days }), at(instant))).toBe(inside);
  });

  test('months by name or number, years, weekdays by name; the default location is UTC', () => {
    const winter = compile({ months: ['december', '1:2'], years: ['2026:2027'], weekdays: ['saturday', 'sunday'] });
    expect(intervalContains(winter, at('2026-12-12T23:30:00Z'))).toBe(true); // a Saturday in December
    expect(intervalContains(winter, at('2027-02-07T00:00:00Z'))).toBe(true); // a Sunday in February
    expect(intervalContains(winter, at('2027-03-06T00:00:00Z'))).toBe(false); // March
    expect(intervalContains(winter, at('2028-01-01T00:00:00Z'))).toBe(false); // 2028
    expect(intervalContains(winter, at('2026-12-11T23:30:00Z'))).toBe(false); // Friday
  });

  test('times up to 24:00 hold the last minute; several times are alternatives', () => {
    const nights = compile({
      times: [
        { start_time: '22:00', end_time: '24:00' },
        { start_time: '00:00', end_time: '06:00' },
      ],
    });
    expect(intervalContains(nights, at('2026-12-07T23:59:00Z'))).toBe(true);
    expect(intervalContains(nights, at('2026-12-08T00:00:00Z'))).toBe(true);
    expect(intervalContains(nights, at('2026-12-08T06:00:00Z'))).toBe(false);
    expect(intervalContains(nights, at('2026-12-08T21:59:00Z'))).toBe(false);
  });
});

describe('validation refuses what Alertmanager refuses, saying why', () => {
  test.each([
    [{ times: [{ start_time: '17:00', end_time: '09:00' }] }, 'start time cannot be equal or greater than end time'],
    [{ times: [{ start_time: '9:00', end_time: '17:00' }] }, 'is not a time HH:MM'],
    [{ times: [{ start_time: '09:00', end_time: '24:01' }] }, 'is not a time HH:MM'],
    [{ weekdays: ['funday'] }, '"funday" is not valid here'],
    [{ weekdays: ['friday:monday'] }, 'start day cannot be after end day'],
    [{ days_of_month: ['0'] }, '0 is not a valid day of the month'],
    [{ days_of_month: ['-1:5'] }, 'end day must be negative if start day is negative'],
    [{ days_of_month: ['5:-30'] }, 'end day -30 is always before start day 5'],
    [{ months: ['13'] }, 'months are 1 to 12'],
    [{ months: ['march:january'] }, 'end month is before start month'],
    [{ years: ['2027:2026'] }, 'end year 2026 is before start year 2027'],
    [{ location: 'Mars/Olympus' }, '"Mars/Olympus" is not an IANA time zone'],
  ])('%j', (input, reason) => {
    const result = timeIntervalSchema.safeParse(input);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.message).join('; ')).toContain(reason);
  });

  test('unknown fields are refused (a typo must not widen a window)', () => {
    expect(timeIntervalSchema.safeParse({ weekday: ['monday'] }).success).toBe(false);
  });
});

describe('until when, and when next', () => {
  const businessHours = compile({
    weekdays: ['monday:friday'],
    times: [{ start_time: '09:00', end_time: '17:00' }],
    location: 'Europe/Berlin',
  });
  const recurring: MaintenanceWindow = {
    id: 'w1',
    reason: 'office hours',
    startsAt: 0,
    endsAt: null,
    recurrence: businessHours,
    match: null,
  };

  test('a recurring window in force says when it stops; one not in force says when it starts', () => {
    expect(nextChange(businessHours, at('2026-12-07T09:00:00Z'), false)).toBe(at('2026-12-07T16:00:00Z'));
    expect(maintenanceAt([recurring], at('2026-12-11T15:00:00Z'))).toEqual({
      active: true,
      windows: [{ id: 'w1', reason: 'office hours', until: at('2026-12-11T16:00:00Z') }],
      until: at('2026-12-11T16:00:00Z'),
    });
    // Friday 18:00 in Berlin: next Monday 09:00.
    expect(windowNextStart(recurring, at('2026-12-11T17:00:00Z'))).toBe(at('2026-12-14T08:00:00Z'));
  });

  test('across the change to summer time, the window keeps its local hours', () => {
    // Sunday 29 March 2026: Berlin goes from 02:00 to 03:00. Monday's window starts at 09:00 CEST.
    expect(windowNextStart(recurring, at('2026-03-28T12:00:00Z'))).toBe(at('2026-03-30T07:00:00Z'));
  });

  test('a one-off window ends at its end; a scoped one holds only for alerts that match it', () => {
    const deploy: MaintenanceWindow = {
      id: 'w2',
      reason: 'deploy',
      startsAt: at('2026-12-07T10:00:00Z'),
      endsAt: at('2026-12-07T12:00:00Z'),
      recurrence: null,
      match: { labels: { service: 'checkout' } },
    };
    const checkout = { source: 'alertmanager', labels: { service: 'checkout', env: 'prod' } };
    const search = { source: 'alertmanager', labels: { service: 'search' } };
    expect(maintenanceAt([deploy], at('2026-12-07T11:00:00Z'), checkout)).toMatchObject({
      active: true,
      until: at('2026-12-07T12:00:00Z'),
    });
    expect(maintenanceAt([deploy], at('2026-12-07T11:00:00Z'), search).active).toBe(false);
    expect(maintenanceAt([deploy], at('2026-12-07T12:00:00Z'), checkout).active).toBe(false);
    expect(windowNextStart(deploy, at('2026-12-07T09:00:00Z'))).toBe(at('2026-12-07T10:00:00Z'));
  });
});
