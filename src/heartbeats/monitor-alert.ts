/**
 * What a heartbeat monitor says to the intake: the alert of a missed deadline and its resolution,
 * as any source's report. Pure: functions of the monitor and an instant.
 */
import type { Severity } from '../domain/alert';
import type { IncomingAlert } from '../sources/types';

/** The source named on a heartbeat's alert, in Slack and in the API. */
export const HEARTBEAT_SOURCE = 'heartbeat';

/** The part of a monitor its alert is made of. */
export interface MonitorForAlert {
  id: string;
  name: string;
  severity: Severity;
  intervalMs: number;
  graceMs: number;
  /** The last ping before the silence (a monitor alerts only after its first ping). */
  lastPingAt: Date;
  /** The deadline that passed without a ping. */
  missedDeadline: Date;
}

/** The alert key of a monitor (PRODUCT.md): every missed deadline of one monitor is the same alert. */
export function heartbeatAlertKey(monitorId: string): string {
  return `heartbeat/${monitorId}`;
}

/** `5m`, `90s`, `1h30m`, `0s`: a duration as the API takes it. */
export function formatDuration(ms: number): string {
  if (ms % 1000 !== 0) return `${ms}ms`;
  let seconds = ms / 1000;
  if (seconds === 0) return '0s';
  const parts: string[] = [];
  for (const [unit, size] of [
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    const count = Math.floor(seconds / size);
    if (count > 0) parts.push(`${count}${unit}`);
    seconds -= count * size;
  }
  return parts.join('');
}

/**
 * `02:14` when the last ping was within a day of the deadline, `2026-12-06 02:14` otherwise; in UTC
 * (a team has no time zone; the alert's text says UTC).
 */
export function formatSince(lastPingAt: Date, missedDeadline: Date): string {
  const iso = lastPingAt.toISOString();
  const withinADay = missedDeadline.getTime() - lastPingAt.getTime() < 24 * 3_600_000;
  return withinADay ? iso.slice(11, 16) : `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
}

/** The firing a missed deadline reports: one per deadline, so that a retried report is a re-send. */
export function missedHeartbeatReport(monitor: MonitorForAlert): IncomingAlert {
  const grace = monitor.graceMs > 0 ? ` plus ${formatDuration(monitor.graceMs)} of grace` : '';
  return {
    status: 'firing',
    fingerprint: heartbeatAlertKey(monitor.id),
    firingKey: monitor.missedDeadline.toISOString(),
    content: {
      title: `No heartbeat from ${monitor.name} since ${formatSince(monitor.lastPingAt, monitor.missedDeadline)}`,
      text:
        `Expected a ping every ${formatDuration(monitor.intervalMs)}${grace}; ` +
        `the last one came at ${monitor.lastPingAt.toISOString()} (UTC). The next ping resolves this alert.`,
      severity: monitor.severity,
      source: HEARTBEAT_SOURCE,
      fields: [
        { label: 'Monitor', value: monitor.name },
        { label: 'Deadline missed', value: monitor.missedDeadline.toISOString() },
      ],
    },
  };
}

/** The resolution a monitor reports when a ping ends its silence, or when it is deleted while silent. */
export function heartbeatResolution(monitor: Pick<MonitorForAlert, 'id' | 'name' | 'severity'>): IncomingAlert {
  return {
    status: 'resolved',
    fingerprint: heartbeatAlertKey(monitor.id),
    content: {
      title: `Heartbeat from ${monitor.name} again`,
      severity: monitor.severity,
      source: HEARTBEAT_SOURCE,
    },
  };
}
