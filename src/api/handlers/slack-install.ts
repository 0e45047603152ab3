/**
 * `GET /slack/install` and `GET /slack/oauth_redirect`: the OAuth v2 install for many workspaces,
 * through @slack/oauth's InstallProvider. The install page sets a state cookie and links to Slack;
 * the redirect checks that state (cookie and signed value), exchanges the code with
 * oauth.v2.access, and stores the installation sealed. A reinstall updates the same workspace.
 */
import { createHash } from 'node:crypto';
import {
  ClearStateStore,
  ErrorCode,
  InstallProvider,
  InvalidStateError,
  type CodedError,
  type Installation,
  type StateStore,
} from '@slack/oauth';
import type { RequestHandler } from 'express';
import type { Config } from '../../config';
import type { Logger } from '../../logger';

/** What the bot needs: post and update messages, read its channels, members and their presence (skipAway), the command, its mentions, a schedule's user group. */
export const BOT_SCOPES = [
  'chat:write',
  'channels:read',
  'groups:read',
  'users:read',
  'dnd:read',
  'commands',
  'app_mentions:read',
  // Schedules that keep a Slack user group set to whoever is on call (docs/oncall.md).
  'usergroups:write',
];

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
  takeOnce,
  log,
}: {
  oauth: NonNullable<Config['slackOAuth']>;
  slackApiUrl: string;
  publicUrl: string;
  installationStore: ConstructorParameters<typeof InstallProvider>[0]['installationStore'];
  /** Records an id; false when it was recorded before (by any gateway): what makes a state single-use. */
  takeOnce: (id: string) => Promise<boolean>;
  log: Logger;
}): SlackInstallRoutes {
  const provider = new InstallProvider({
    clientId: oauth.clientId,
    clientSecret: oauth.clientSecret,
    stateStore: singleUseStateStore(new ClearStateStore(oauth.stateSecret, STATE_LIFETIME_SECONDS), takeOnce),
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
            'Invite it to the channel of a team: <code>/invite @Escalator</code>. It shows the team\u2019s endpoint URLs to whoever invited it, and to nobody else.',
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

/** How long an install link's state is valid (@slack/oauth's default for its cookie). */
const STATE_LIFETIME_SECONDS = 600;

/**
 * @slack/oauth's signed state, which is valid for its whole lifetime however often it is shown:
 * here a state verifies once. Its hash is recorded with the Slack event receipts (shared by every
 * gateway, pruned after a day), so a replayed redirect is refused as an invalid state (issue 24).
 */
function singleUseStateStore(signed: StateStore, takeOnce: (id: string) => Promise<boolean>): StateStore {
  return {
    generateStateParam: (installOptions, now) => signed.generateStateParam(installOptions, now),
    async verifyStateParam(now, state) {
      const installOptions = await signed.verifyStateParam(now, state);
      const id = `oauth-state:${createHash('sha256').update(state).digest('hex')}`;
      if (!(await takeOnce(id))) throw new InvalidStateError('this install link was already used');
      return installOptions;
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
