/** Reading alerts and their timelines for the admin API. */
import type { Database, Prisma } from '../../db/client';
import type { AlertState } from '../../domain/alert';

/** One alert as the API shows it; absent values are null, times are ISO 8601. */
export interface AlertSummary {
  id: string;
  teamName: string;
  workflowId: string;
  fingerprint: string;
  title: string;
  text: string | null;
  severity: string;
  source: string;
  link: string | null;
  state: AlertState;
  /** Slack user id of the engineer holding it; null once the whole team holds it. */
  assignee: string | null;
  occurrences: number;
  firstSeenAt: string;
  lastSeenAt: string;
  acknowledgedBy: string | null;
  endedBy: string | null;
}

export interface TimelineEntry {
  type: string;
  actor: string | null;
  message: string;
  at: string;
}

export interface AlertDetail extends AlertSummary {
  timeline: TimelineEntry[];
}

export interface AlertFilter {
  state?: AlertState;
  teamName?: string;
  limit: number;
}

const SUMMARY_SELECT = {
  id: true,
  workflowId: true,
  fingerprint: true,
  title: true,
  text: true,
  severity: true,
  source: true,
  link: true,
  state: true,
  assignee: true,
  occurrences: true,
  firstSeenAt: true,
  lastSeenAt: true,
  acknowledgedBy: true,
  endedBy: true,
  team: { select: { name: true } },
} satisfies Prisma.AlertSelect;

type SelectedAlert = Prisma.AlertGetPayload<{ select: typeof SUMMARY_SELECT }>;

function toSummary(alert: SelectedAlert): AlertSummary {
  return {
    id: alert.id,
    teamName: alert.team.name,
    workflowId: alert.workflowId,
    fingerprint: alert.fingerprint,
    title: alert.title,
    text: alert.text,
    severity: alert.severity,
    source: alert.source,
    link: alert.link,
    state: alert.state,
    assignee: alert.assignee,
    occurrences: alert.occurrences,
    firstSeenAt: alert.firstSeenAt.toISOString(),
    lastSeenAt: alert.lastSeenAt.toISOString(),
    acknowledgedBy: alert.acknowledgedBy,
    endedBy: alert.endedBy,
  };
}

/** Alerts matching the filter, newest first. */
export async function listAlerts(db: Database, filter: AlertFilter): Promise<AlertSummary[]> {
  const alerts = await db.alert.findMany({
    where: { state: filter.state, team: filter.teamName === undefined ? undefined : { name: filter.teamName } },
    orderBy: [{ firstSeenAt: 'desc' }, { id: 'asc' }],
    take: filter.limit,
    select: SUMMARY_SELECT,
  });
  return alerts.map(toSummary);
}

/** One alert with its timeline in the order things happened; null when there is no such alert. */
export async function getAlert(db: Database, alertId: string): Promise<AlertDetail | null> {
  const alert = await db.alert.findUnique({
    where: { id: alertId },
    select: {
      ...SUMMARY_SELECT,
      events: { orderBy: [{ at: 'asc' }, { id: 'asc' }], select: { type: true, actor: true, message: true, at: true } },
    },
  });
  if (!alert) return null;
  const { events, ...summary } = alert;
  return {
    ...toSummary(summary),
    timeline: events.map((event) => ({ ...event, at: event.at.toISOString() })),
  };
}
