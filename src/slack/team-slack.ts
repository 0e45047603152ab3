/**
 * Which Slack bot speaks for a team: the bot of the workspace installation that the team belongs
 * to (OAuth mode), or the one SLACK_BOT_TOKEN / dry-run client (single-workspace mode). A paused
 * team (bot removed from its channel, app uninstalled) gets no client at all: nothing is posted
 * or paged there.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { Config } from '../config';
import { sqlPoolOf, type Database } from '../db/client';
import type { TeamSnapshot } from '../domain/alert';
import type { Logger } from '../logger';
import { createSlackApi, type SlackApi } from './client';
import { InstallationMissingError, type InstallationBots } from './installations';

/** A team is paused: Slack calls for it are refused without retry (the workflow records why). */
export const TEAM_PAUSED = 'TeamPaused';
/** The team's workspace has no installation (uninstalled, tokens revoked): refused without retry. */
export const SLACK_NOT_INSTALLED = 'SlackNotInstalled';

/** Resolves the Slack client of a team as the alert workflow knows it. */
export type SlackForTeam = (team: Pick<TeamSnapshot, 'slackChannelId' | 'installationId'>) => Promise<SlackApi>;

export function createSlackForTeam({
  config,
  db,
  log,
  bots,
  defaultSlack,
  wrap = (api) => api,
}: {
  config: Pick<Config, 'slack'>;
  db: Database;
  log: Logger;
  bots: InstallationBots;
  /** The client of single-workspace mode (SLACK_BOT_TOKEN, or the dry run). */
  defaultSlack: SlackApi;
  /** Instruments each client (metrics) the same way as the default one. */
  wrap?: (api: SlackApi) => SlackApi;
}): SlackForTeam {
  const clients = new Map<string, { token: string; client: SlackApi }>();
  return async (team) => {
    // Asked before every call of every alert: one plain query on the pool.
    const { rows } = await sqlPoolOf(db).query<{ name: string; pausedAt: Date | null }>(
      `SELECT name, paused_at AS "pausedAt" FROM teams
       WHERE slack_channel_id = $1 AND installation_id IS NOT DISTINCT FROM $2::uuid AND archived_at IS NULL LIMIT 1`,
      [team.slackChannelId, team.installationId ?? null]
    );
    const row = rows[0];
    if (row?.pausedAt) {
      throw ApplicationFailure.nonRetryable(
        `team ${row.name} is paused (Escalator was removed from its channel or uninstalled)`,
        TEAM_PAUSED
      );
    }
    if (!team.installationId) return defaultSlack;
    let token: string;
    try {
      token = (await bots.byId(team.installationId)).token;
    } catch (error) {
      if (error instanceof InstallationMissingError)
        throw ApplicationFailure.nonRetryable(error.message, SLACK_NOT_INSTALLED);
      throw error;
    }
    // A reinstall's new token gets a new client; the old one is dropped.
    const known = clients.get(team.installationId);
    if (known?.token === token) return known.client;
    const client = wrap(createSlackApi({ token, apiUrl: config.slack.apiUrl, log }));
    clients.set(team.installationId, { token, client });
    return client;
  };
}
