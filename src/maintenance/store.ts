/** Maintenance windows read from PostgreSQL into the core's shape (src/maintenance/window.ts). */
import type { Database } from '../db/client';
import { timeIntervalSchema, type TimeIntervalInput } from './time-interval';
import type { MaintenanceWindow, WindowMatch } from './window';

type WindowRow = NonNullable<Awaited<ReturnType<Database['maintenanceWindow']['findUnique']>>>;

/** A window as the API shows it: the recurrence as it was given. */
export interface StoredWindow extends MaintenanceWindow {
  teamId: string;
  recurrenceInput: TimeIntervalInput | null;
  createdBy: string | null;
  createdAt: number;
}

export function windowOf(row: WindowRow): StoredWindow {
  const recurrenceInput = (row.recurrence as TimeIntervalInput | null) ?? null;
  return {
    id: row.id,
    teamId: row.teamId,
    reason: row.reason,
    startsAt: row.startsAt.getTime(),
    endsAt: row.endsAt?.getTime() ?? null,
    // Validated on the way in; parsed again so that a row written by hand cannot reach the core malformed.
    recurrence: recurrenceInput ? timeIntervalSchema.parse(recurrenceInput) : null,
    recurrenceInput,
    match: (row.match as WindowMatch | null) ?? null,
    createdBy: row.createdBy,
    createdAt: row.createdAt.getTime(),
  };
}

/** The team's windows that have not ended by `from`. */
export async function teamWindows(db: Database, teamId: string, from: number): Promise<StoredWindow[]> {
  const rows = await db.maintenanceWindow.findMany({
    where: { teamId, OR: [{ endsAt: null }, { endsAt: { gt: new Date(from) } }] },
    orderBy: { startsAt: 'asc' },
  });
  return rows.map(windowOf);
}
