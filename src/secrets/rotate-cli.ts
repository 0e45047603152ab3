/**
 * `npm run rotate-keys`: rewraps every stored secret under the current key-encryption key.
 *
 *   1. Set the new key (ENCRYPTION_KEY or KMS_KEY_ID) and keep the old local key readable in
 *      ENCRYPTION_KEY_PREVIOUS (an old KMS key stays readable as long as KMS lets us use it).
 *   2. Restart Escalator with both (it reads old and new), then run this command.
 *   3. When it reports nothing left under an old key, drop ENCRYPTION_KEY_PREVIOUS.
 *
 * `npm start` keeps its generated key in <data dir>/encryption-key: that is the previous key to name.
 */
import { ConfigError, loadConfig } from '../config';
import { createDatabase } from '../db/client';
import { createSecretBoxFromConfig } from './index';
import { rotateSecrets } from './rotation';

async function main(): Promise<void> {
  const config = loadConfig();
  if (!config.databaseUrl) throw new ConfigError('npm run rotate-keys needs DATABASE_URL');
  const secrets = createSecretBoxFromConfig(config);
  if (!secrets) throw new ConfigError('npm run rotate-keys needs the new key in ENCRYPTION_KEY or KMS_KEY_ID');
  const db = createDatabase(config.databaseUrl);
  try {
    const report = await rotateSecrets(db, secrets);
    process.stdout.write(
      `rotated to ${report.keyId}: ${report.rewrapped} secret(s) rewrapped, ${report.current} already current\n`
    );
  } finally {
    await db.$disconnect();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof ConfigError ? error.message : ((error as Error).stack ?? String(error))}\n`);
  process.exit(1);
});
