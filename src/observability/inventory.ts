/** The scrape-time counts behind the teams, endpoints and live-alerts gauges, read from PostgreSQL. */
import type { Database } from '../db/client';
import type { Inventory, LiveState } from './metrics';

const LIVE_STATES: LiveState[] = ['open', 'acknowledged'];

/** Counts teams, endpoints and not-yet-ended alerts with `db`, fresh at every scrape. */
export function databaseInventory(db: Database): Inventory {
  return {
    countTeams: () => db.team.count({ where: { archivedAt: null } }),
    countEndpoints: () => db.endpoint.count(),
    async countLiveAlerts() {
      // Grouped by team id (indexed with state), then named: labels carry team names, as elsewhere.
      const groups = await db.alert.groupBy({
        by: ['teamId', 'state'],
        where: { state: { in: LIVE_STATES } },
        _count: { _all: true },
      });
      if (groups.length === 0) return [];
      const teams = await db.team.findMany({
        where: { id: { in: [...new Set(groups.map((group) => group.teamId))] } },
        select: { id: true, name: true },
      });
      const teamNames = new Map(teams.map((team) => [team.id, team.name]));
      return groups.flatMap((group) => {
        const team = teamNames.get(group.teamId);
        // A team deleted between the two queries has no alerts left to show.
        return team === undefined ? [] : [{ team, state: group.state as LiveState, count: group._count._all }];
      });
    },
  };
}
