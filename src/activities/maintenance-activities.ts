/**
 * Whether an alert may page now: a maintenance window of its team in force for it (src/maintenance/,
 * pure over the team's windows) says no, until when. Asked by the alert workflow before it pages,
 * and again when the window ends or the team's windows change; the answer is recorded in its history.
 */
import { teamWindows } from '../maintenance/store';
import { maintenanceAt, type AlertTraits } from '../maintenance/window';
import type { ActivityDeps } from './deps';

export interface MaintenanceForAlert {
  active: boolean;
  /** When the windows in force end (epoch ms); null: not known ahead (until deleted). */
  until: number | null;
  /** The reasons of the windows in force, joined, or null. */
  reason: string | null;
}

export function createMaintenanceActivities({ db }: Pick<ActivityDeps, 'db'>) {
  return {
    async maintenanceFor({
      teamId,
      at,
      alert,
    }: {
      teamId: string;
      at: number;
      alert: AlertTraits;
    }): Promise<MaintenanceForAlert> {
      const answer = maintenanceAt(await teamWindows(db, teamId, at), at, alert);
      const reasons = answer.windows.flatMap((window) => (window.reason ? [window.reason] : []));
      return { active: answer.active, until: answer.until, reason: reasons.length > 0 ? reasons.join('; ') : null };
    },
  };
}
