/**
 * Slack workspaces that installed the app (OAuth v2), kept in PostgreSQL. This is the
 * `installationStore` of @slack/oauth's InstallProvider: the installation it hands over (bot
 * token, user token, scopes) is stored sealed by the secret box, never in plain text. The few
 * fields Escalator looks things up by (workspace id, bot user id) sit beside it in the clear.
 */
import type { Installation, InstallationQuery, InstallationStore } from '@slack/oauth';
import type { Database, Prisma } from '../db/client';
import { installationContext, type SecretBox } from '../secrets';

/** The key an installation is stored under: the organisation for org-wide installs, else the workspace. */
function installationKey(query: { isEnterpriseInstall?: boolean; enterpriseId?: string; teamId?: string }): string {
  const key = query.isEnterpriseInstall ? query.enterpriseId : query.teamId;
  if (!key) throw new Error('an installation names neither its workspace nor its organisation');
  return key;
}

export class InstallationMissingError extends Error {
  override name = 'InstallationMissingError';
}

/** Called after an installation was stored (first install or reinstall) with its row id. */
export type OnInstalled = (installation: { id: string; slackTeamId: string; reinstall: boolean }) => Promise<void>;

/** The installation store over PostgreSQL and the secret box. A reinstall updates the same row. */
export function createInstallationStore({
  db,
  secrets,
  onInstalled,
}: {
  db: Database;
  secrets: SecretBox;
  onInstalled?: OnInstalled;
}): InstallationStore {
  return {
    async storeInstallation(installation) {
      const slackTeamId = installationKey({
        isEnterpriseInstall: installation.isEnterpriseInstall,
        enterpriseId: installation.enterprise?.id,
        teamId: installation.team?.id,
      });
      const sealedInstallation = await secrets.seal(JSON.stringify(installation), installationContext(slackTeamId));
      const fields = {
        enterpriseId: installation.enterprise?.id ?? null,
        teamName: installation.team?.name ?? installation.enterprise?.name ?? null,
        botUserId: installation.bot?.userId ?? null,
        sealedInstallation,
        uninstalledAt: null,
      };
      const earlier = await db.slackInstallation.findUnique({ where: { slackTeamId }, select: { id: true } });
      const row = await db.slackInstallation.upsert({
        where: { slackTeamId },
        create: { slackTeamId, ...fields },
        update: fields,
        select: { id: true },
      });
      await onInstalled?.({ id: row.id, slackTeamId, reinstall: earlier !== null });
    },

    async fetchInstallation(query) {
      const slackTeamId = installationKey(query);
      const row = await db.slackInstallation.findUnique({ where: { slackTeamId } });
      if (!row?.sealedInstallation) throw new InstallationMissingError(`no installation for ${slackTeamId}`);
      return JSON.parse(await secrets.open(row.sealedInstallation, installationContext(slackTeamId))) as Installation;
    },

    async deleteInstallation(query: InstallationQuery<boolean>) {
      await forgetInstallationTokens(db, installationKey(query));
    },
  };
}

/**
 * Drops an installation's tokens (app uninstalled, tokens revoked) and pauses its teams, each
 * pause written to that team's audit trail with `reason`; the row stays so that a reinstall finds
 * its teams again. Returns the row id, if there was one.
 */
export async function forgetInstallationTokens(
  db: Database,
  slackTeamId: string,
  reason = 'the app was uninstalled'
): Promise<string | undefined> {
  const row = await db.slackInstallation.findUnique({ where: { slackTeamId }, select: { id: true } });
  if (!row) return undefined;
  const now = new Date();
  await db.$transaction(async (tx) => {
    await tx.slackInstallation.update({
      where: { id: row.id },
      data: { sealedInstallation: null, uninstalledAt: now },
    });
    await pauseWorkspaceTeams(tx, row.id, reason, now);
  });
  return row.id;
}

/**
 * Pauses the active teams of an installation (`null`: the SLACK_BOT_TOKEN workspace's), writing
 * each pause to its team's audit trail. Returns how many were paused.
 */
export async function pauseWorkspaceTeams(
  tx: Prisma.TransactionClient,
  installationId: string | null,
  reason: string,
  now = new Date()
): Promise<number> {
  const active = await tx.team.findMany({ where: { installationId, pausedAt: null }, select: { id: true } });
  const teamIds = active.map((team) => team.id);
  await tx.team.updateMany({ where: { id: { in: teamIds } }, data: { pausedAt: now } });
  await tx.teamAuditEntry.createMany({
    data: teamIds.map((teamId) => ({ teamId, actor: 'slack', action: 'paused', detail: { reason } })),
  });
  return teamIds.length;
}

/** What a caller needs to talk to Slack as an installation's bot. */
export interface InstallationBot {
  installationId: string;
  slackTeamId: string;
  botUserId: string;
  token: string;
}

/** Opens a sealed installation only when asked, and keeps the bot for a short while. */
export interface InstallationBots {
  byId(installationId: string): Promise<InstallationBot>;
  bySlackTeamId(slackTeamId: string): Promise<InstallationBot | undefined>;
  /** Forgets what is cached for this installation (uninstall, reinstall). */
  forget(installationId: string): void;
}

/** Opening a token costs a KMS call with KMS keys: tokens are cached this long in memory. */
const BOT_CACHE_MS = 60_000;

export function createInstallationBots({
  db,
  secrets,
  clock = Date.now,
}: {
  db: Database;
  secrets: SecretBox | undefined;
  clock?: () => number;
}): InstallationBots {
  const cache = new Map<string, { bot: InstallationBot; until: number }>();

  async function open(row: {
    id: string;
    slackTeamId: string;
    botUserId: string | null;
    sealedInstallation: string | null;
  }): Promise<InstallationBot> {
    if (!row.sealedInstallation) throw new InstallationMissingError(`the app is not installed in ${row.slackTeamId}`);
    if (!secrets) throw new InstallationMissingError('no key-encryption key is configured to open Slack tokens');
    const installation = JSON.parse(
      await secrets.open(row.sealedInstallation, installationContext(row.slackTeamId))
    ) as Installation;
    if (!installation.bot?.token)
      throw new InstallationMissingError(`the installation in ${row.slackTeamId} has no bot`);
    const bot = {
      installationId: row.id,
      slackTeamId: row.slackTeamId,
      botUserId: installation.bot.userId,
      token: installation.bot.token,
    };
    cache.set(row.id, { bot, until: clock() + BOT_CACHE_MS });
    return bot;
  }

  return {
    async byId(installationId) {
      const cached = cache.get(installationId);
      if (cached && cached.until > clock()) return cached.bot;
      const row = await db.slackInstallation.findUnique({ where: { id: installationId } });
      if (!row) throw new InstallationMissingError(`no installation ${installationId}`);
      return open(row);
    },
    async bySlackTeamId(slackTeamId) {
      const row = await db.slackInstallation.findUnique({ where: { slackTeamId } });
      if (!row?.sealedInstallation) return undefined;
      const cached = cache.get(row.id);
      if (cached && cached.until > clock()) return cached.bot;
      return open(row);
    },
    forget(installationId) {
      cache.delete(installationId);
    },
  };
}
