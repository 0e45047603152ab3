import { formatDuration, formatSince, missedHeartbeatReport } from '../../src/heartbeats/monitor-alert';

test.each([
  [0, '0s'],
  [30_000, '30s'],
  [300_000, '5m'],
  [5_400_000, '1h30m'],
  [86_400_000, '24h'],
  [1_500, '1500ms'],
])('formatDuration(%d) is %s', (ms, text) => {
  expect(formatDuration(ms)).toBe(text);
});

test('the title names the monitor and the last ping, in UTC, with the date once it is a day old', () => {
  expect(formatSince(new Date('2026-12-08T02:14:59Z'), new Date('2026-12-08T02:20:00Z'))).toBe('02:14');
  expect(formatSince(new Date('2026-12-06T02:14:00Z'), new Date('2026-12-08T02:20:00Z'))).toBe('2026-12-06 02:14');
});

test('a missed deadline is a firing of the monitor key, one firing per deadline', () => {
  const report = missedHeartbeatReport({
    id: 'm1',
    name: 'nightly-backup',
    severity: 'critical',
    intervalMs: 86_400_000,
    graceMs: 1_800_000,
    lastPingAt: new Date('2026-12-07T02:14:00Z'),
    missedDeadline: new Date('2026-12-08T02:44:00Z'),
  });
  expect(report).toMatchObject({
    status: 'firing',
    fingerprint: 'heartbeat/m1',
    firingKey: '2026-12-08T02:44:00.000Z',
    content: {
      title: 'No heartbeat from nightly-backup since 2026-12-07 02:14',
      severity: 'critical',
      source: 'heartbeat',
    },
  });
  expect(report.content.text).toContain('every 24h plus 30m of grace');
});
