/**
 * The Slack app's business metrics, per workspace installation: installations, teams, alerts and
 * escalations. Read from PostgreSQL when Prometheus scrapes (like the inventory gauges), so they
 * are true whichever process changed the data; registered by the gateway only.
 */
import { Gauge, type Registry } from 'prom-client';
import type { Database } from '../db/client';

/** The `workspace` label of teams that are not tied to an OAuth installation (SLACK_BOT_TOKEN mode). */
export const SINGLE_WORKSPACE = 'single-workspace';

export interface PerWorkspace {
  /** The Slack workspace (`T…`), or SINGLE_WORKSPACE. */
  workspace: string;
  count: number;
}

export interface SlackAppInventory {
  countInstallations(): Promise<{ active: number; uninstalled: number }>;
  countTeams(): Promise<Array<PerWorkspace & { paused: boolean }>>;
  countAlerts(): Promise<Array<PerWorkspace & { state: string }>>;
  countEscalations(): Promise<PerWorkspace[]>;
}

/** The counts over PostgreSQL: grouped in SQL by installation, then labelled with the workspace id. */
export function databaseSlackAppInventory(db: Database): SlackAppInventory {
  const workspaceOf = async () => {
    const rows = await db.slackInstallation.findMany({ select: { id: true, slackTeamId: true } });
    const ids = new Map(rows.map((row) => [row.id, row.slackTeamId]));
    return (installationId: string | null) => (installationId && ids.get(installationId)) || SINGLE_WORKSPACE;
  };
  return {
    async countInstallations() {
      const [active, uninstalled] = await Promise.all([
        db.slackInstallation.count({ where: { sealedInstallation: { not: null } } }),
        db.slackInstallation.count({ where: { sealedInstallation: null } }),
      ]);
      return { active, uninstalled };
    },
    async countTeams() {
      const [name, groups] = await Promise.all([
        workspaceOf(),
        db.$queryRaw<Array<{ installation_id: string | null; paused: boolean; count: bigint }>>`
          SELECT installation_id, paused_at IS NOT NULL AS paused, count(*) AS count
            FROM teams WHERE archived_at IS NULL GROUP BY 1, 2`,
      ]);
      return groups.map((g) => ({ workspace: name(g.installation_id), paused: g.paused, count: Number(g.count) }));
    },
    async countAlerts() {
      const [name, groups] = await Promise.all([
        workspaceOf(),
        db.$queryRaw<Array<{ installation_id: string | null; state: string; count: bigint }>>`
          SELECT t.installation_id, a.state::text AS state, count(*) AS count
            FROM alerts a JOIN teams t ON t.id = a.team_id GROUP BY 1, 2`,
      ]);
      return groups.map((g) => ({ workspace: name(g.installation_id), state: g.state, count: Number(g.count) }));
    },
    async countEscalations() {
      const [name, groups] = await Promise.all([
        workspaceOf(),
        db.$queryRaw<Array<{ installation_id: string | null; count: bigint }>>`
          SELECT t.installation_id, count(*) AS count
            FROM alert_events e JOIN alerts a ON a.id = e.alert_id JOIN teams t ON t.id = a.team_id
           WHERE e.type = 'escalated' GROUP BY 1`,
      ]);
      return groups.map((g) => ({ workspace: name(g.installation_id), count: Number(g.count) }));
    },
  };
}

/** Registers the four gauges; a failed read keeps the last values (the scrape still succeeds). */
export function registerSlackAppGauges(registry: Registry, inventory: SlackAppInventory): void {
  const registers = [registry];
  const quietly = async <T>(read: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await read();
    } catch {
      return undefined;
    }
  };
  new Gauge({
    name: 'escalator_slack_installations',
    help: 'Slack workspaces that installed the app (active) or uninstalled it, read from PostgreSQL at scrape time.',
    labelNames: ['state'] as const,
    registers,
    async collect() {
      const counts = await quietly(() => inventory.countInstallations());
      if (!counts) return;
      this.set({ state: 'active' }, counts.active);
      this.set({ state: 'uninstalled' }, counts.uninstalled);
    },
  });
  const perWorkspace = <L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    read: () => Promise<Array<Record<L, string | boolean> & { count: number }>>
  ) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers,
      async collect() {
        const rows = await quietly(read);
        if (!rows) return;
        this.reset();
        for (const row of rows) {
          const labels = Object.fromEntries(labelNames.map((label) => [label, String(row[label])])) as Record<
            L,
            string
          >;
          this.set(labels, row.count);
        }
      },
    });
  perWorkspace(
    'escalator_workspace_teams',
    'Teams per Slack workspace, paused or not, read from PostgreSQL at scrape time.',
    ['workspace', 'paused'],
    () => inventory.countTeams()
  );
  perWorkspace(
    'escalator_workspace_alerts',
    'Alerts ever opened per Slack workspace, by state, read from PostgreSQL at scrape time.',
    ['workspace', 'state'],
    () => inventory.countAlerts()
  );
  perWorkspace(
    'escalator_workspace_escalations',
    'Escalations to the next engineer per Slack workspace, read from PostgreSQL at scrape time.',
    ['workspace'],
    () => inventory.countEscalations()
  );
}
