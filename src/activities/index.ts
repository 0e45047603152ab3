/**
 * The alert workflow's activities, built over their dependencies so that tests and the worker
 * hand in real clients. The workflow proxies `AlertActivities` (types only).
 */
import { createChannelSpacer } from '../slack/channel-spacer';
import { createChannelActivities } from './channel-activities';
import { createHandoffActivities } from './handoff-activities';
import { createMaintenanceActivities } from './maintenance-activities';
import { createOnCallActivities } from './oncall-activities';
import { createSlackActivities } from './slack-activities';
import { createTimelineActivities } from './timeline-activities';

import type { ActivityDeps } from './deps';

export type { ActivityDeps } from './deps';
export { activityKey } from './deps';

/** Every activity over its dependencies (the Slack spacer is made here when not given). */
export function createActivities(deps: ActivityDeps) {
  const shared = { ...deps, channelSpacer: deps.channelSpacer ?? createChannelSpacer() };
  return {
    ...createSlackActivities(shared),
    ...createTimelineActivities(shared),
    ...createOnCallActivities(shared),
    ...createMaintenanceActivities(shared),
    ...createChannelActivities(shared),
    ...createHandoffActivities(shared),
  };
}

/** What the alert workflow calls: Slack, the timeline, and who is on call. */
export type AlertActivities = ReturnType<typeof createSlackActivities> &
  ReturnType<typeof createTimelineActivities> &
  ReturnType<typeof createOnCallActivities> &
  ReturnType<typeof createMaintenanceActivities>;

/** What the channel pacer and the turn-taking steps call (channel-activities.ts). */
export type ChannelActivities = ReturnType<typeof createChannelActivities>;

/** What a schedule's handoff watcher calls (handoff-activities.ts). */
export type HandoffActivities = ReturnType<typeof createHandoffActivities>;
