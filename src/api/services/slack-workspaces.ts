/**
 * The workspace a Slack request (event, command) comes from, with the bot that answers there:
 * the workspace's OAuth installation, or in single-workspace mode the SLACK_BOT_TOKEN bot.
 */
import type { Config } from '../../config';
import type { Logger } from '../../logger';
import type { InstallationBots } from '../../slack/installations';
import { createWorkspaceSlack, type WorkspaceSlack } from '../../slack/workspace-client';

export interface Workspace {
  /** The installation's row id; null in single-workspace mode. */
  installationId: string | null;
  slackTeamId: string;
  botUserId: string;
  slack: WorkspaceSlack;
}

export interface Workspaces {
  /** Undefined when Escalator has no bot in that workspace (not installed, uninstalled, dry run). */
  find(slackTeamId: string): Promise<Workspace | undefined>;
}

export function createWorkspaces({
  config,
  bots,
  log,
}: {
  config: Pick<Config, 'slack'>;
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

  return {
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
      if (!config.slack.botToken) return undefined;
      const slack = clientFor('single-workspace', config.slack.botToken);
      return { installationId: null, slackTeamId, botUserId: await slack.botUserId(), slack };
    },
  };
}
