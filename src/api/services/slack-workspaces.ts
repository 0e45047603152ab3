/**
 * The workspace a Slack request (event, command, press) comes from, with the bot that answers there:
 * the workspace's OAuth installation, or in single-workspace mode the SLACK_BOT_TOKEN bot.
 *
 * Every signed request is bound to a workspace Escalator knows before it may act: one with an
 * installation row, or the bot token's own (its `team_id` from auth.test). Slack signs what any
 * workspace sends to the app, so a workspace id without an installation is not "the bot token's
 * workspace" by default: it is a stranger's (issue 24).
 */
import type { Config } from '../../config';
import { sqlPool, type Database } from '../../db/client';
import type { Logger } from '../../logger';
import type { InstallationBots } from '../../slack/installations';
import { createWorkspaceSlack, type WorkspaceSlack } from '../../slack/workspace-client';

/** The workspace id of the local Slack preview's presses (dry run only: no Slack is there). */
export const PREVIEW_SLACK_TEAM_ID = 'T0PREVIEW';

export interface Workspace {
  /** The installation's row id; null in single-workspace mode. */
  installationId: string | null;
  slackTeamId: string;
  botUserId: string;
  slack: WorkspaceSlack;
}

/**
 * How a workspace id is known: it has an installation row (installed now or before), it is the
 * bot token's own workspace, it is the dry run's preview; or it is unknown and nothing it sends acts.
 */
export type WorkspaceBinding = 'installation' | 'own' | 'preview' | 'unknown';

export interface Workspaces {
  /** How `slackTeamId` is known; 'unknown' also when the bot token's workspace cannot be asked just now. */
  bind(slackTeamId: string): Promise<WorkspaceBinding>;
  /** Undefined when Escalator has no bot in that workspace (not installed, uninstalled, dry run, a stranger). */
  find(slackTeamId: string): Promise<Workspace | undefined>;
}

export function createWorkspaces({
  config,
  db,
  bots,
  log,
}: {
  config: Pick<Config, 'slack'>;
  db: Database;
  bots: InstallationBots;
  log: Logger;
}): Workspaces {
  const clients = new Map<string, { token: string; slack: WorkspaceSlack }>();
  const clientFor = (key: string, token: string) => {
    const known = clients.get(key);
    if (known?.token === token) return known.slack;
    const slack = createWorkspaceSlack({ token, apiUrl: config.slack.apiUrl, log });
    clients.set(key, { token, slack });
    return slack;
  };
  // Installation rows are never deleted (an uninstall keeps the row for a reinstall): a workspace
  // found once stays known, and a press in a storm needs no connection of the shared pool for it.
  const installed = new Set<string>();
  const singleWorkspace = () =>
    config.slack.botToken ? clientFor('single-workspace', config.slack.botToken) : undefined;

  /** Whether `slackTeamId` is SLACK_BOT_TOKEN's workspace (auth.test, asked once and kept). */
  async function isOwn(slackTeamId: string): Promise<boolean> {
    const slack = singleWorkspace();
    if (!slack) return false;
    try {
      return (await slack.slackTeamId()) === slackTeamId;
    } catch (error) {
      log.warn({ err: error, slackTeamId }, 'could not ask Slack which workspace the bot token is (auth.test)');
      return false;
    }
  }

  return {
    async bind(slackTeamId) {
      if (installed.has(slackTeamId)) return 'installation';
      if (await isOwn(slackTeamId)) return 'own';
      if (config.slack.dryRun && slackTeamId === PREVIEW_SLACK_TEAM_ID) return 'preview';
      // The presses' lane: a button press must not wait behind a storm's reports for a connection.
      const { rowCount } = await sqlPool(db, 'interactive').query(
        'SELECT 1 FROM slack_installations WHERE slack_team_id = $1',
        [slackTeamId]
      );
      if (!rowCount) return 'unknown';
      installed.add(slackTeamId);
      return 'installation';
    },
    async find(slackTeamId) {
      const bot = await bots.bySlackTeamId(slackTeamId);
      if (bot) {
        return {
          installationId: bot.installationId,
          slackTeamId,
          botUserId: bot.botUserId,
          slack: clientFor(bot.installationId, bot.token),
        };
      }
      const slack = singleWorkspace();
      if (!slack || !(await isOwn(slackTeamId))) return undefined;
      return { installationId: null, slackTeamId, botUserId: await slack.botUserId(), slack };
    },
  };
}
