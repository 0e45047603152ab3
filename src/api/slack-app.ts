/**
 * The Slack app's parts of the gateway, built once from the gateway's dependencies: the OAuth
 * install (only when SLACK_CLIENT_ID/SECRET/STATE_SECRET are set), the Events API (with mentions
 * of the bot as commands and the App Home tab) and the slash command. They share the secret box and the installations' bots.
 */
import type { Client } from '@temporalio/client';
import type { RequestHandler } from 'express';
import type { Config } from '../config';
import type { Database } from '../db/client';
import type { Logger } from '../logger';
import type { Metrics } from '../observability/metrics';
import { createSecretBoxFromConfig, type SecretBox } from '../secrets';
import { createInstallationBots, createInstallationStore } from '../slack/installations';
import { slackCommandsHandler } from './handlers/slack-commands';
import { slackEventsHandler } from './handlers/slack-events';
import { slackInstallHandlers, type SlackInstallRoutes } from './handlers/slack-install';
import type { SlackResponder } from './services/slack-actions';
import { createEventReceipts } from './services/slack-event-receipts';
import { createWorkspaces, type Workspaces } from './services/slack-workspaces';
import { submitScheduleForm } from './services/slack-schedule-form';
import type { ViewSubmissions } from './handlers/slack';

export interface SlackAppRoutes {
  /** Unset unless the OAuth variables are. */
  install?: SlackInstallRoutes;
  events: RequestHandler;
  commands: RequestHandler;
  /** Which workspaces may act (installations, the bot token's own): presses are bound to them too. */
  workspaces: Workspaces;
  /** Modal submissions (the schedule form of `/escalator schedule`). */
  views: ViewSubmissions;
}

export function createSlackAppRoutes(deps: {
  config: Config;
  db: Database;
  log: Logger;
  responder: SlackResponder;
  /** Defaults to the configuration's key-encryption key. */
  secrets?: SecretBox;
  metrics?: Metrics;
  /** Work running behind answers already sent (events, commands). */
  background?: Set<Promise<void>>;
  /** Milliseconds since the epoch: when event receipts are taken and pruned. */
  clock?: () => number;
  /** Tells running alerts that their team's maintenance windows changed. */
  temporal?: Client;
}): SlackAppRoutes {
  const { config, db, log } = deps;
  const secrets = deps.secrets ?? createSecretBoxFromConfig(config);
  const bots = createInstallationBots({ db, secrets });
  const workspaces = createWorkspaces({ config, db, bots, log });
  const receipts = createEventReceipts({ db, clock: deps.clock });
  const install =
    config.slackOAuth && secrets
      ? slackInstallHandlers({
          oauth: config.slackOAuth,
          slackApiUrl: config.slack.apiUrl,
          publicUrl: config.publicUrl,
          installationStore: createInstallationStore({
            db,
            secrets,
            onInstalled: ({ id }) => Promise.resolve(bots.forget(id)),
          }),
          takeOnce: (id) => receipts.take(id),
          log,
        })
      : undefined;
  return {
    install,
    workspaces,
    views: (submission) =>
      submitScheduleForm(
        {
          db,
          workspaces,
          publicUrl: config.publicUrl,
          log,
          temporal: deps.temporal,
          taskQueue: config.temporal.taskQueue,
        },
        submission
      ),
    events: slackEventsHandler({
      db,
      temporal: deps.temporal,
      taskQueue: config.temporal.taskQueue,
      workspaces,
      bots,
      publicUrl: config.publicUrl,
      escalationTimeoutMs: config.escalationTimeoutMs,
      receipts,
      clock: deps.clock,
      log,
      background: deps.background,
    }),
    commands: slackCommandsHandler({
      db,
      temporal: deps.temporal,
      taskQueue: config.temporal.taskQueue,
      workspaces,
      responder: deps.responder,
      publicUrl: config.publicUrl,
      escalationTimeoutMs: config.escalationTimeoutMs,
      log,
      background: deps.background,
    }),
  };
}
