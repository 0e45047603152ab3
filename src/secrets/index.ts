/**
 * The secret box that the configuration asks for: KMS_KEY_ID selects an AWS KMS key, otherwise
 * ENCRYPTION_KEY is the local key-encryption key. Keys named in ENCRYPTION_KEY_PREVIOUS (and
 * ENCRYPTION_KEY itself when KMS is current) stay readable until `npm run rotate-keys` is done.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, type Config } from '../config';
import { createSecretBox, type KeyEncryptionKey, type SecretBox } from './envelope';
import { decodeLocalKey, generateLocalKey, kmsKeyEncryptionKey, localKeyEncryptionKey } from './key-encryption-keys';

export { installationContext } from './contexts';
export { SecretBoxError, type SecretBox } from './envelope';

/** Whether the configuration names a key-encryption key at all. */
export function hasKeyEncryptionKey(config: Pick<Config, 'secrets'>): boolean {
  return config.secrets.encryptionKey !== undefined || config.secrets.kmsKeyId !== undefined;
}

/** OAuth mode stores bot tokens: `npm run api` / `npm run worker` refuse to start without a key for them. */
export function assertSecretsConfigured(config: Pick<Config, 'secrets' | 'slackOAuth'>): void {
  if (config.slackOAuth && !hasKeyEncryptionKey(config)) {
    throw new ConfigError(
      'SLACK_CLIENT_ID is set (OAuth install) but neither ENCRYPTION_KEY nor KMS_KEY_ID is: the bot tokens could not be stored encrypted'
    );
  }
}

/** Builds the secret box from the configuration; undefined when no key is configured. */
export function createSecretBoxFromConfig(config: Pick<Config, 'secrets'>): SecretBox | undefined {
  const { encryptionKey, previousKeys, kmsKeyId } = config.secrets;
  const local = (key: string) => localKeyEncryptionKey(decodeLocalKey(key) as Buffer);
  const previous: KeyEncryptionKey[] = previousKeys.map(local);
  if (kmsKeyId) {
    if (encryptionKey) previous.push(local(encryptionKey));
    return createSecretBox(kmsKeyEncryptionKey(kmsKeyId), previous);
  }
  if (encryptionKey) return createSecretBox(local(encryptionKey), previous);
  return undefined;
}

export const LOCAL_KEY_FILE = 'encryption-key';

/**
 * `npm start` without ENCRYPTION_KEY or KMS_KEY_ID: the key kept in the data directory, created
 * (mode 0600) on the first start. Losing this file makes the stored Slack tokens unreadable.
 */
export function localKeyFromDataDir(dataDir: string): string {
  const file = path.join(dataDir, LOCAL_KEY_FILE);
  if (existsSync(file)) {
    const key = readFileSync(file, 'utf8').trim();
    if (!decodeLocalKey(key)) throw new Error(`${file} does not hold a base64 key of 32 bytes`);
    return key;
  }
  const key = generateLocalKey();
  writeFileSync(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return key;
}
