/**
 * Maintenance windows of a team: create, read at an instant, end and delete them. Every change is
 * told to the team's running alerts (a signal each), so that an alert goes quiet when a window
 * begins and is paged at once when the last one ends, without waiting for its next step.
 */
import type { Client } from '@temporalio/client';
import type { Database, Prisma } from '../../db/client';
import type { Logger } from '../../logger';
import { teamWindows, windowOf, type StoredWindow } from '../../maintenance/store';
import type { TimeIntervalInput } from '../../maintenance/time-interval';
import { maintenanceAt, windowNextStart, type WindowMatch } from '../../maintenance/window';
import { maintenanceChangedSignal } from '../../workflows/definitions';

export interface NewWindow {
  reason?: string;
  startsAt: number;
  endsAt?: number;
  recurrence?: TimeIntervalInput;
  match?: WindowMatch;
  createdBy?: string;
}

/** Tells each running alert of the team that its windows changed; a finished one is skipped. */
export async function tellRunningAlerts(
  deps: { db: Database; temporal: Client; log: Logger },
  teamId: string
): Promise<void> {
  const alerts = await deps.db.alert.findMany({
    where: { teamId, state: { in: ['open', 'acknowledged'] } },
    select: { workflowId: true },
  });
  const workflowIds = [...new Set(alerts.map((alert) => alert.workflowId))];
  await Promise.all(
    workflowIds.map((workflowId) =>
      deps.temporal.workflow
        .getHandle(workflowId)
        .signal(maintenanceChangedSignal)
        .catch((error: unknown) =>
          deps.log.debug({ err: error, workflowId }, 'maintenance change not told: alert ended')
        )
    )
  );
}

export async function createWindow(db: Database, teamId: string, input: NewWindow): Promise<StoredWindow> {
  const row = await db.maintenanceWindow.create({
    data: {
      teamId,
      reason: input.reason,
      startsAt: new Date(input.startsAt),
      endsAt: input.endsAt === undefined ? null : new Date(input.endsAt),
      recurrence: (input.recurrence as Prisma.InputJsonObject | undefined) ?? undefined,
      match: (input.match as Prisma.InputJsonObject | undefined) ?? undefined,
      createdBy: input.createdBy,
    },
  });
  return windowOf(row);
}

export interface WindowsAt {
  active: boolean;
  windows: Array<{ id: string; reason: string | null; until: string | null; match: WindowMatch | null }>;
  /** The next window to begin after `at`, if one is known. */
  next: { id: string; reason: string | null; startsAt: string } | null;
}

/** The team's windows in force at `at` (whatever they match), and the next to begin. */
export async function windowsAt(db: Database, teamId: string, at: number): Promise<WindowsAt> {
  const windows = await teamWindows(db, teamId, at);
  const answer = maintenanceAt(windows, at);
  const inForce = new Set(answer.windows.map((window) => window.id));
  const next = windows
    .filter((window) => !inForce.has(window.id))
    .map((window) => ({ window, start: windowNextStart(window, at) }))
    .filter((entry): entry is { window: StoredWindow; start: number } => entry.start !== null)
    .sort((a, b) => a.start - b.start)[0];
  return {
    active: answer.active,
    windows: answer.windows.map((window) => ({
      id: window.id,
      reason: window.reason,
      until: window.until === null ? null : new Date(window.until).toISOString(),
      match: windows.find((stored) => stored.id === window.id)?.match ?? null,
    })),
    next: next
      ? { id: next.window.id, reason: next.window.reason, startsAt: new Date(next.start).toISOString() }
      : null,
  };
}

/** Deletes a window of the team; false when the team has no such window. */
export async function deleteWindow(db: Database, teamId: string, windowId: string): Promise<boolean> {
  const { count } = await db.maintenanceWindow.deleteMany({ where: { id: windowId, teamId } });
  return count > 0;
}

/**
 * `/escalator maintenance off`: ends the one-off windows in force now (their end becomes now, so
 * the timeline keeps them). Recurring ones go on; they are named so that the person can delete them.
 */
export async function endWindowsNow(
  db: Database,
  teamId: string,
  now: number
): Promise<{ ended: number; recurring: StoredWindow[] }> {
  const inForce = maintenanceAt(await teamWindows(db, teamId, now), now).windows.map((window) => window.id);
  const windows = await db.maintenanceWindow.findMany({ where: { id: { in: inForce } } });
  const oneOff = windows.filter((window) => window.recurrence === null).map((window) => window.id);
  const { count } = await db.maintenanceWindow.updateMany({
    where: { id: { in: oneOff } },
    data: { endsAt: new Date(now) },
  });
  return { ended: count, recurring: windows.filter((window) => window.recurrence !== null).map(windowOf) };
}
