/**
 * The handoff watcher of one schedule (`schedule-handoffs/<scheduleId>`, docs/oncall.md): while
 * the schedule asks for handoff notices or a Slack user group, it sleeps until the next change of
 * who is on call, then posts a notice in the channel of each team that uses the schedule and sets
 * the group to whoever is on call now.
 *
 * No polling and no time-zone arithmetic here: each look is an activity that answers who is on call
 * now and until when (the pure core's onCallAt), and the workflow sleeps until then, or until the
 * gateway signals that the schedule changed. Each wake looks at the present: handoffs that fell
 * while no worker ran give one notice for who is on call now, not one per handoff missed. It ends
 * when the schedule is deleted or both options are off, and continues as new with its small state.
 */
import {
  condition,
  continueAsNew,
  log,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { HandoffActivities } from '../activities';
import type { HandoffPlan } from '../activities/handoff-activities';
import { HANDOFF_SLACK_ACTIVITY_OPTIONS, ON_CALL_READ_LOCAL_ACTIVITY_OPTIONS } from './activity-options';
import { scheduleChangedSignal, type ScheduleHandoffsInput, type ScheduleHandoffsState } from './definitions';

const onCall = proxyLocalActivities<HandoffActivities>(ON_CALL_READ_LOCAL_ACTIVITY_OPTIONS);
const slack = proxyActivities<HandoffActivities>(HANDOFF_SLACK_ACTIVITY_OPTIONS);

/** A few handoffs' worth of events per hundred: a weekly rotation continues as new every year or two. */
export const DEFAULT_HANDOFF_MAX_HISTORY_EVENTS = 1_000;

/** When nothing changes within the core's horizon (two years), look again after this long. */
const LOOK_AGAIN_AFTER_MS = 730 * 86_400_000;

type WatchedPlan = Extract<HandoffPlan, { watched: true }>;

export async function scheduleHandoffsWorkflow(input: ScheduleHandoffsInput): Promise<void> {
  const { scheduleId } = input;
  const maxHistoryEvents = input.maxHistoryEvents ?? DEFAULT_HANDOFF_MAX_HISTORY_EVENTS;
  // Initialised before the handler is set: on signal-with-start, handlers run before this body.
  const state: ScheduleHandoffsState = { ...input.carried };
  let scheduleChanged = false;
  setHandler(scheduleChangedSignal, () => {
    scheduleChanged = true;
  });

  for (;;) {
    scheduleChanged = false;
    const now = Date.now();
    const plan = await onCall.readOnCall({ scheduleId, at: now });
    if (!plan.watched) {
      log.info('Schedule deleted, or neither handoff notices nor a user group: the watcher ends', { scheduleId });
      return;
    }
    await tellSlack(scheduleId, state, plan, now);
    state.users = plan.users;
    state.usergroupId = plan.usergroupId;
    state.until = plan.until;

    const info = workflowInfo();
    if (info.historyLength > maxHistoryEvents || info.continueAsNewSuggested) {
      await continueAsNew<typeof scheduleHandoffsWorkflow>({ ...input, carried: state });
    }
    const wakeAt = plan.until ?? now + LOOK_AGAIN_AFTER_MS;
    await condition(() => scheduleChanged, Math.max(wakeAt - now, 1));
  }
}

function sameUsers(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((user) => b.includes(user));
}

/**
 * A change of who is on call since the last look: the notices and the group. The first look of a
 * watcher posts no notice (nothing changed that it saw) but sets the group, as does a group chosen
 * since the last look. A channel or a group that Slack refuses is logged and left for the next
 * handoff: it stops nothing else.
 */
async function tellSlack(scheduleId: string, state: ScheduleHandoffsState, plan: WatchedPlan, now: number) {
  const handedOff = state.users !== undefined && !sameUsers(state.users, plan.users);
  if (handedOff && plan.handoffNotices) {
    // The handoff foreseen by the last look when it is due (however late the wake); otherwise the
    // schedule itself changed just now (an override, a new rotation).
    const changeAt = state.until != null && state.until <= now ? state.until : now;
    await Promise.all(
      plan.channels.map((channel) =>
        slack
          .postHandoffNotice({
            scheduleId,
            scheduleName: plan.scheduleName,
            changeAt,
            previous: state.users ?? [],
            users: plan.users,
            until: plan.until,
            channel,
          })
          .catch((error: unknown) =>
            log.warn('Handoff notice not posted', { scheduleId, channel: channel.slackChannelId, error: String(error) })
          )
      )
    );
  }
  const usergroupId = plan.usergroupId;
  if (usergroupId && (state.users === undefined || handedOff || usergroupId !== state.usergroupId)) {
    await slack
      .setOnCallUsergroup({ usergroupId, users: plan.users, bot: plan.usergroupBot })
      .catch((error: unknown) => log.warn('User group not set', { scheduleId, usergroupId, error: String(error) }));
  }
}
