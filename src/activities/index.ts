/**
 * The alert workflow's activities, built over their dependencies so that tests and the worker
 * hand in real clients. The workflow proxies `AlertActivities` (types only).
 */
import type { Database } from '../db/client';
import type { Logger } from '../logger';
import type { Metrics } from '../observability/metrics';
import type { SlackApi } from '../slack/client';
import type { SlackForTeam } from '../slack/team-slack';
import { createSlackActivities } from './slack-activities';
import { createTimelineActivities } from './timeline-activities';

export interface ActivityDeps {
  slack: SlackApi;
  db: Database;
  log: Logger;
  /** Lifecycle counters and histograms (escalations, acknowledgements, time to close). */
  metrics?: Metrics;
  /** The Slack client of an alert's team (its installation's bot); unset: `slack` for every team. */
  slackForTeam?: SlackForTeam;
}

export function createActivities(deps: ActivityDeps) {
  return { ...createSlackActivities(deps), ...createTimelineActivities(deps) };
}

export type AlertActivities = ReturnType<typeof createActivities>;
