/**
 * The App Home tab, published when someone opens it (`app_home_opened`): their open alerts and
 * their teams in the workspace they opened it in, read from the database and sent with
 * views.publish through that workspace's bot. Opening it again shows what changed since.
 */
import type { Database } from '../../db/client';
import { HOME_LIMITS, renderHomeView, type HomeAlert } from '../../slack/home-view';
import { maintenanceLine } from '../../slack/maintenance-messages';
import { windowsAt } from './maintenance';
import type { Workspace } from './slack-workspaces';

export interface HomeDeps {
  db: Database;
  /** ESCALATION_TIMEOUT, shown for a team without its own. */
  escalationTimeoutMs: number;
  clock?: () => number;
}

/** Publishes `userId`'s Home tab in `workspace`. */
export async function publishHome(deps: HomeDeps, workspace: Workspace, userId: string): Promise<void> {
  const { db } = deps;
  const inWorkspace = { installationId: workspace.installationId };
  // Theirs: assigned to them (being called, or handed over) or acknowledged by them (an
  // acknowledgement also makes them the assignee; a Pass afterwards hands it on).
  const yourAlerts = {
    team: inWorkspace,
    OR: [
      { state: 'open' as const, assignee: userId },
      { state: 'acknowledged' as const, OR: [{ assignee: userId }, { acknowledgedBy: userId }] },
    ],
  };
  const yourTeams = { slackUserId: userId, team: inWorkspace };
  const [alerts, alertsTotal, memberships, teamsTotal] = await Promise.all([
    db.alert.findMany({
      where: yourAlerts,
      orderBy: { firstSeenAt: 'desc' },
      take: HOME_LIMITS.alertsShown,
      select: {
        title: true,
        state: true,
        severity: true,
        firstSeenAt: true,
        slackChannelId: true,
        slackMessageTs: true,
        team: { select: { name: true } },
      },
    }),
    db.alert.count({ where: yourAlerts }),
    db.engineer.findMany({
      where: yourTeams,
      orderBy: { team: { name: 'asc' } },
      take: HOME_LIMITS.teamsShown,
      select: {
        position: true,
        team: {
          select: {
            id: true,
            name: true,
            slackChannelId: true,
            escalationTimeoutMs: true,
            pausedAt: true,
            _count: { select: { engineers: true } },
          },
        },
      },
    }),
    db.engineer.count({ where: yourTeams }),
  ]);
  const now = (deps.clock ?? Date.now)();
  // The window in force or the next one, per team: a few teams per person, one small query each.
  const maintenance = await Promise.all(
    memberships.map(async ({ team }) => maintenanceLine(await windowsAt(db, team.id, now), now))
  );
  const view = renderHomeView({
    alerts: alerts.map((alert): HomeAlert => ({
      title: alert.title,
      state: alert.state === 'acknowledged' ? 'acknowledged' : 'open',
      severity: alert.severity,
      teamName: alert.team.name,
      firstSeenAt: alert.firstSeenAt,
      slackChannelId: alert.slackChannelId,
      slackMessageTs: alert.slackMessageTs,
    })),
    alertsTotal,
    teams: memberships.map(({ position, team }, i) => ({
      name: team.name,
      maintenance: maintenance[i] || undefined,
      slackChannelId: team.slackChannelId,
      escalationTimeoutMs: team.escalationTimeoutMs ?? deps.escalationTimeoutMs,
      paused: team.pausedAt !== null,
      position,
      rotationSize: team._count.engineers,
    })),
    teamsTotal,
    now: new Date(now),
  });
  await workspace.slack.publishHome(userId, view);
}
