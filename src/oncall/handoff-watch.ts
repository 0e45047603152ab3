/**
 * Starting and waking a schedule's handoff watcher (workflows/schedule-handoffs-workflow.ts): the
 * gateway after each change of a schedule, its overrides or its options; the worker as it starts,
 * for every schedule that asks for notices or a user group (one whose change was saved while
 * Temporal could not be told). Both are signal-with-start: one watcher per schedule, started when
 * none runs, told to look again when one does.
 */
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import type { Database } from '../db/client';
import type { Logger } from '../logger';
import { callTemporal } from '../temporal/calls';
import {
  SCHEDULE_HANDOFFS_WORKFLOW_TYPE,
  scheduleChangedSignal,
  scheduleHandoffsWorkflowId,
  type ScheduleHandoffsInput,
} from '../workflows/definitions';

/** A schedule change waits this long at most for Temporal: the change itself is saved already. */
const TELL_WATCHER_TIMEOUT_MS = 2_000;

/** Tells the schedule's watcher to look again, starting it when none runs (it ends by itself when not needed). */
export async function watchScheduleHandoffs(
  temporal: Client,
  { scheduleId, taskQueue }: { scheduleId: string; taskQueue: string }
): Promise<void> {
  await temporal.workflow.signalWithStart(SCHEDULE_HANDOFFS_WORKFLOW_TYPE, {
    workflowId: scheduleHandoffsWorkflowId(scheduleId),
    taskQueue,
    args: [{ scheduleId } satisfies ScheduleHandoffsInput],
    signal: scheduleChangedSignal,
    signalArgs: [],
  });
}

/**
 * After a change of a schedule (`watched`: it asks for notices or a user group now): starts or
 * wakes its watcher; otherwise wakes one that runs, so that it sees it has nothing left to do
 * and ends. Throws TemporalUnavailableError when Temporal does not answer in time.
 */
export async function tellHandoffWatcher(
  temporal: Client,
  { scheduleId, taskQueue, watched }: { scheduleId: string; taskQueue: string; watched: boolean }
): Promise<void> {
  await callTemporal(temporal, 'tell the handoff watcher', TELL_WATCHER_TIMEOUT_MS, async () => {
    if (watched) return watchScheduleHandoffs(temporal, { scheduleId, taskQueue });
    try {
      await temporal.workflow.getHandle(scheduleHandoffsWorkflowId(scheduleId)).signal(scheduleChangedSignal);
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw error;
    }
  });
}

/** Wakes the watcher of every schedule with handoff notices or a user group (run as a worker starts). */
export async function watchAllScheduleHandoffs(deps: {
  db: Database;
  temporal: Client;
  taskQueue: string;
  log: Logger;
}): Promise<void> {
  const schedules = await deps.db.schedule.findMany({
    where: { OR: [{ handoffNotices: true }, { slackUsergroupId: { not: null } }] },
    select: { id: true },
  });
  for (const { id } of schedules) {
    await watchScheduleHandoffs(deps.temporal, { scheduleId: id, taskQueue: deps.taskQueue });
  }
  if (schedules.length > 0) deps.log.info({ schedules: schedules.length }, 'handoff watchers woken');
}
