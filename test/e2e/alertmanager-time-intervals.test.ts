/**
 * Escalator's reading of an Alertmanager `time_interval` against Debian's Alertmanager itself:
 * one child route per case, each muted by its own interval, every case's alert fired at once; the
 * cases Alertmanager delivers are exactly those Escalator says are outside their interval now.
 *
 * Cases are built around the real clock (Alertmanager cannot be given another instant): today's
 * weekday, day of month counted from either end, month, year, times around now, in zones with
 * whole, half and 45-minute offsets. A case whose answer would change within the test's minutes
 * is left out, so that both read the same instant's answer.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { intervalContains, timeIntervalSchema, type TimeIntervalInput } from '../../src/maintenance/time-interval';
import { localOf } from '../../src/oncall/zone-clock';
import { missingSenders, startAlertmanager, type RunningAlertmanager } from '../helpers/real-senders';
import { waitFor } from '../helpers/wait';

const missing = missingSenders();
if (missing) process.stderr.write(`test/e2e/alertmanager-time-intervals.test.ts skipped: ${missing}\n`);
const describeWithSenders = missing ? describe.skip : describe;

const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const MONTHS = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
];
const ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Pacific/Chatham'];
const MINUTE = 60_000;

const hhmm = (minutes: number) =>
  `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;

/** Intervals around `now` in each zone: some hold now, some do not. */
function casesAround(now: number): TimeIntervalInput[] {
  const cases: TimeIntervalInput[] = [];
  for (const location of ZONES) {
    const local = new Date(localOf(location, now));
    const weekday = local.getUTCDay();
    const day = local.getUTCDate();
    const month = local.getUTCMonth();
    const year = local.getUTCFullYear();
    const daysInMonth = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
    const minute = local.getUTCHours() * 60 + local.getUTCMinutes();
    const fromEnd = day - daysInMonth - 1;
    cases.push(
      { location, weekdays: [WEEKDAYS[weekday]!] },
      { location, weekdays: [WEEKDAYS[(weekday + 1) % 7]!] },
      { location, weekdays: [`${WEEKDAYS[Math.min(weekday, 1)]}:${WEEKDAYS[Math.max(weekday, 5)]}`] },
      { location, days_of_month: [String(fromEnd)] },
      { location, days_of_month: [`${fromEnd}:-1`] },
      { location, days_of_month: [String(day === 1 ? 2 : day - 1)] },
      { location, days_of_month: [`${day}:31`] },
      { location, months: [MONTHS[month]!] },
      { location, months: [String(((month + 1) % 12) + 1)] },
      { location, years: [`${year}:${year + 1}`] },
      { location, years: [String(year + 1)] },
      {
        location,
        weekdays: [WEEKDAYS[weekday]!],
        times: [{ start_time: hhmm(Math.max(minute - 30, 0)), end_time: hhmm(Math.min(minute + 30, 1440)) }],
      },
      { location, times: [{ start_time: hhmm((minute + 60) % 1380), end_time: hhmm(((minute + 60) % 1380) + 60) }] }
    );
  }
  return cases;
}

describeWithSenders('maintenance recurrences against the real Alertmanager', () => {
  let alertmanager: RunningAlertmanager;
  let server: http.Server;
  const delivered = new Set<string>();

  afterAll(async () => {
    await alertmanager?.stop();
    await new Promise((resolve) => server?.close(resolve));
  });

  test('the cases Alertmanager mutes are exactly those Escalator puts inside their interval', async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        for (const alert of body.alerts ?? []) delivered.add(alert.labels.case);
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const receiver = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;

    const now = Date.now();
    // Both must read the same answer: left out, a case whose answer changes within 5 minutes.
    const cases = casesAround(now)
      .map((input, i) => ({ id: `c${i}`, input, interval: timeIntervalSchema.parse(input) }))
      .filter(({ interval }) => intervalContains(interval, now) === intervalContains(interval, now + 5 * MINUTE));
    const expectedMuted = cases.filter(({ interval }) => intervalContains(interval, now)).map(({ id }) => id);
    expect(cases.length).toBeGreaterThan(50);
    expect(expectedMuted.length).toBeGreaterThan(15);
    expect(cases.length - expectedMuted.length).toBeGreaterThan(15);

    alertmanager = await startAlertmanager({
      webhookUrl: receiver,
      groupBy: ['case'],
      groupWait: '1s',
      groupInterval: '1s',
      repeatInterval: '1h',
      childRoutes: cases.flatMap(({ id }) => [`- matchers: ['case="${id}"']`, `  mute_time_intervals: [${id}]`]),
      // JSON is YAML: each interval goes to Alertmanager exactly as Escalator's API takes it.
      topLevel: [
        'time_intervals:',
        ...cases.flatMap(({ id, input }) => [`  - name: ${id}`, `    time_intervals: [${JSON.stringify(input)}]`]),
      ],
    });
    await alertmanager.fire(
      ...cases.map(({ id }) => ({ labels: { alertname: 'Case', case: id }, startsAt: new Date() }))
    );

    const expectedDelivered = cases.filter(({ id }) => !expectedMuted.includes(id)).map(({ id }) => id);
    await waitFor(
      'every case outside its interval delivered',
      () => (expectedDelivered.every((id) => delivered.has(id)) ? true : undefined),
      30_000
    );
    // Muted ones would have come with the others (group_wait 1s): give them a few more seconds.
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    expect([...delivered].sort()).toEqual([...expectedDelivered].sort());
  }, 90_000);
});
