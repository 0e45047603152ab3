/**
 * Key rotation: every stored secret's data key is rewrapped by the current key-encryption key.
 * Secrets stay readable throughout (the previous key opens what is not rewrapped yet), each row
 * is rewritten only if it did not change meanwhile, and a second run finds nothing to do.
 */
import type { Database } from '../db/client';
import { installationContext } from './contexts';
import type { SecretBox } from './envelope';

export interface RotationReport {
  /** Secrets rewrapped by this run. */
  rewrapped: number;
  /** Secrets already under the current key. */
  current: number;
  /** The current key's id (never key material). */
  keyId: string;
}

/** Rewraps every sealed Slack installation still under an older key. */
export async function rotateSecrets(db: Database, secrets: SecretBox): Promise<RotationReport> {
  const report: RotationReport = { rewrapped: 0, current: 0, keyId: secrets.currentKeyId };
  const rows = await db.slackInstallation.findMany({
    where: { sealedInstallation: { not: null } },
    select: { id: true, slackTeamId: true, sealedInstallation: true },
  });
  for (const row of rows) {
    const sealed = row.sealedInstallation as string;
    if (secrets.isCurrent(sealed)) {
      report.current += 1;
      continue;
    }
    const rewrapped = await secrets.rewrap(sealed, installationContext(row.slackTeamId));
    // Compare-and-set: a reinstall that stored a new installation meanwhile wins.
    const { count } = await db.slackInstallation.updateMany({
      where: { id: row.id, sealedInstallation: sealed },
      data: { sealedInstallation: rewrapped },
    });
    if (count === 1) report.rewrapped += 1;
  }
  return report;
}
