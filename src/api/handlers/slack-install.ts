/**
 * `GET /slack/install` and `GET /slack/oauth_redirect`: the OAuth v2 install for many workspaces,
 * through @slack/oauth's InstallProvider. The install page sets a state cookie and links to Slack;
 * the redirect checks that state (cookie and signed value), exchanges the code with
 * oauth.v2.access, and stores the installation sealed. A reinstall updates the same workspace.
 */
import { ErrorCode, InstallProvider, type CodedError, type Installation } from '@slack/oauth';
import type { RequestHandler } from 'express';
import type { Config } from '../../config';
import type { Logger } from '../../logger';

/** What the bot needs: post and update messages, read its channels and their members, the command, its mentions. */
export const BOT_SCOPES = ['chat:write', 'channels:read', 'groups:read', 'users:read', 'commands', 'app_mentions:read'];

/** Failures caused by the browser's request (stale or forged state, no code, cancelled): 400. */
const CLIENT_ERRORS = new Set<string>([
  ErrorCode.MissingStateError,
  ErrorCode.InvalidStateError,
  ErrorCode.MissingCodeError,
  ErrorCode.AuthorizationError,
  'slack_webapi_platform_error',
]);

export interface SlackInstallRoutes {
  install: RequestHandler;
  redirect: RequestHandler;
}

export function slackInstallHandlers({
  oauth,
  slackApiUrl,
  publicUrl,
  installationStore,
  log,
}: {
  oauth: NonNullable<Config['slackOAuth']>;
  slackApiUrl: string;
  publicUrl: string;
  installationStore: ConstructorParameters<typeof InstallProvider>[0]['installationStore'];
  log: Logger;
}): SlackInstallRoutes {
  const provider = new InstallProvider({
    clientId: oauth.clientId,
    clientSecret: oauth.clientSecret,
    stateSecret: oauth.stateSecret,
    installationStore,
    installUrlOptions: { scopes: BOT_SCOPES, redirectUri: `${publicUrl}/slack/oauth_redirect` },
    clientOptions: { slackApiUrl: slackApiUrl.endsWith('/') ? slackApiUrl : `${slackApiUrl}/` },
  });

  return {
    install: async (req, res) => {
      await provider.handleInstallPath(req, res);
    },
    redirect: async (req, res) => {
      await provider.handleCallback(req, res, {
        success: (installation: Installation) => {
          const workspace = installation.team?.name ?? installation.enterprise?.name ?? 'your workspace';
          log.info({ slackTeamId: installation.team?.id ?? installation.enterprise?.id }, 'Slack app installed');
          page(res, 200, 'Escalator is installed', [
            `Escalator is installed in ${escapeHtml(workspace)}.`,
            'Invite it to the channel of a team: <code>/invite @Escalator</code>. It answers there with the team\u2019s endpoint URLs.',
          ]);
        },
        failure: (error: CodedError) => {
          const clientError = CLIENT_ERRORS.has(error.code);
          log.warn({ code: error.code, reason: error.message }, 'Slack install failed');
          page(res, clientError ? 400 : 503, 'Escalator could not be installed', [
            clientError
              ? `The install link was not valid here (${escapeHtml(error.code)}). Start again from <a href="${publicUrl}/slack/install">the install page</a>.`
              : 'Escalator could not store the installation just now. Try again in a moment.',
          ]);
        },
      });
    },
  };
}

function page(res: Parameters<RequestHandler>[1], status: number, title: string, paragraphs: string[]): void {
  res
    .status(status)
    .type('html')
    .send(
      `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1>${paragraphs
        .map((p) => `<p>${p}</p>`)
        .join('')}</body></html>`
    );
}

/** Text from Slack (a workspace name, an error code) shown in the result page. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
