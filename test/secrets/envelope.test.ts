/**
 * Secrets at rest: envelope encryption with a local key-encryption key and with AWS KMS (moto's
 * KMS on loopback), and key rotation through `npm run rotate-keys` against a real database.
 */
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config';
import { createDatabase, type Database } from '../../src/db/client';
import { migrateDatabase } from '../../src/db/migrate';
import {
  assertSecretsConfigured,
  createSecretBoxFromConfig,
  installationContext,
  localKeyFromDataDir,
  SecretBoxError,
  type SecretBox,
} from '../../src/secrets';
import { generateLocalKey } from '../../src/secrets/key-encryption-keys';
import { rotateSecrets } from '../../src/secrets/rotation';
import { createInstallationStore } from '../../src/slack/installations';
import { createFreshDatabase, type FreshDatabase } from '../db/fresh-database';
import { startLocalKms, type LocalKms } from '../helpers/moto';
import { runCommand } from '../helpers/processes';

const TOKEN = 'xoxb-1111-2222-secretbottoken';

function box(env: Record<string, string>): SecretBox {
  const secrets = createSecretBoxFromConfig(loadConfig(env));
  if (!secrets) throw new Error('no key configured');
  return secrets;
}

function byWorkspace(teamId: string) {
  return { teamId, enterpriseId: undefined, isEnterpriseInstall: false };
}

function installation(teamId: string, token = TOKEN) {
  return {
    team: { id: teamId, name: `Workspace ${teamId}` },
    enterprise: undefined,
    user: { id: 'U0INSTALLER', token: undefined, scopes: undefined },
    bot: { token, scopes: ['chat:write'], id: 'B0BOT', userId: 'U0BOT' },
    isEnterpriseInstall: false,
    authVersion: 'v2' as const,
  };
}

describe('with a local key-encryption key', () => {
  const key = generateLocalKey();

  test('a sealed secret opens again, and its text shows neither the secret nor the key', async () => {
    const secrets = box({ ENCRYPTION_KEY: key });

    const sealed = await secrets.seal(TOKEN, 'ctx');

    expect(sealed).not.toContain(TOKEN);
    expect(sealed).not.toContain('secretbottoken');
    expect(sealed).not.toContain(key);
    expect(await secrets.open(sealed, 'ctx')).toBe(TOKEN);
  });

  test('each secret gets its own data key: sealing the same text twice gives different wrapped keys', async () => {
    const secrets = box({ ENCRYPTION_KEY: key });

    const [a, b] = [JSON.parse(await secrets.seal(TOKEN, 'ctx')), JSON.parse(await secrets.seal(TOKEN, 'ctx'))];

    expect(a.wk).not.toBe(b.wk);
    expect(a.ct).not.toBe(b.ct);
  });

  test('a secret does not open under another context, another key, or with one byte changed', async () => {
    const secrets = box({ ENCRYPTION_KEY: key });
    const sealed = await secrets.seal(TOKEN, 'slack-installation:T1');
    const tampered = JSON.parse(sealed);
    tampered.ct = Buffer.from(
      Buffer.from(tampered.ct, 'base64url').map((byte, i) => (i === 0 ? byte ^ 1 : byte))
    ).toString('base64url');

    await expect(secrets.open(sealed, 'slack-installation:T2')).rejects.toThrow(SecretBoxError);
    await expect(box({ ENCRYPTION_KEY: generateLocalKey() }).open(sealed, 'slack-installation:T1')).rejects.toThrow(
      /neither the current key nor a previous one/
    );
    await expect(secrets.open(JSON.stringify(tampered), 'slack-installation:T1')).rejects.toThrow(SecretBoxError);
  });

  test('ENCRYPTION_KEY that is not the base64 of 32 bytes stops the start with the variable named', () => {
    expect(() => loadConfig({ ENCRYPTION_KEY: 'too-short' })).toThrow(ConfigError);
    expect(() => loadConfig({ ENCRYPTION_KEY: 'too-short' })).toThrow(/ENCRYPTION_KEY/);
    expect(() => loadConfig({ ENCRYPTION_KEY_PREVIOUS: `${key},nope` })).toThrow(/ENCRYPTION_KEY_PREVIOUS/);
  });

  test('OAuth mode wants all three variables, and a key for the tokens before npm run api or worker start', () => {
    const oauth = { SLACK_CLIENT_ID: '1.2', SLACK_CLIENT_SECRET: 'secret', SLACK_STATE_SECRET: 'state' };

    expect(() => loadConfig({ SLACK_CLIENT_ID: '1.2' })).toThrow(/SLACK_CLIENT_SECRET and SLACK_STATE_SECRET/);
    expect(() => assertSecretsConfigured(loadConfig(oauth))).toThrow(/neither ENCRYPTION_KEY nor KMS_KEY_ID/);
    expect(() => assertSecretsConfigured(loadConfig({ ...oauth, ENCRYPTION_KEY: key }))).not.toThrow();
    expect(() => assertSecretsConfigured(loadConfig({ ...oauth, KMS_KEY_ID: 'alias/escalator' }))).not.toThrow();
    expect(() => assertSecretsConfigured(loadConfig({}))).not.toThrow();
  });

  test('npm start generates a key into the data directory once, readable by its owner only', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'escalator-key-'));

    const first = localKeyFromDataDir(dir);
    const again = localKeyFromDataDir(dir);

    expect(again).toBe(first);
    expect(Buffer.from(first, 'base64')).toHaveLength(32);
    const file = path.join(dir, 'encryption-key');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8').trim()).toBe(first);
  });
});

describe('stored installations and key rotation', () => {
  let fresh: FreshDatabase;
  let db: Database;
  let kms: LocalKms;

  beforeAll(async () => {
    fresh = await createFreshDatabase('escalator_secrets');
    await migrateDatabase(fresh.url);
    db = createDatabase(fresh.url);
    kms = await startLocalKms();
    Object.assign(process.env, kms.env);
  }, 600_000);

  afterAll(async () => {
    await db?.$disconnect();
    await fresh?.drop();
    await kms?.stop();
  });

  async function storedRows(): Promise<string> {
    const rows = await db.slackInstallation.findMany();
    return JSON.stringify(rows);
  }

  test('an installation is stored sealed and read back whole', async () => {
    const secrets = box({ ENCRYPTION_KEY: generateLocalKey() });
    const store = createInstallationStore({ db, secrets });

    await store.storeInstallation(installation('T0STORE'));

    expect(await storedRows()).not.toContain(TOKEN);
    const fetched = await store.fetchInstallation(byWorkspace('T0STORE'));
    expect(fetched.bot?.token).toBe(TOKEN);
  });

  test('with KMS_KEY_ID the data keys are wrapped by KMS, and a KMS-wrapped secret opens again', async () => {
    const keyId = await kms.createKey();
    const secrets = box({ KMS_KEY_ID: keyId });

    const sealed = await secrets.seal(TOKEN, installationContext('T0KMS'));

    expect(JSON.parse(sealed).kek).toBe(`kms:${keyId}`);
    expect(sealed).not.toContain(TOKEN);
    expect(await box({ KMS_KEY_ID: keyId }).open(sealed, installationContext('T0KMS'))).toBe(TOKEN);
    await expect(secrets.open(sealed, installationContext('T0OTHER'))).rejects.toThrow(SecretBoxError);
  });

  test('npm run rotate-keys rewraps every secret under the new key while the old one stays readable, then nothing is left to do', async () => {
    await db.slackInstallation.deleteMany();
    const oldKey = generateLocalKey();
    const newKey = generateLocalKey();
    const oldStore = createInstallationStore({ db, secrets: box({ ENCRYPTION_KEY: oldKey }) });
    for (const teamId of ['T0ROT1', 'T0ROT2', 'T0ROT3']) await oldStore.storeInstallation(installation(teamId));
    const during = createInstallationStore({
      db,
      secrets: box({ ENCRYPTION_KEY: newKey, ENCRYPTION_KEY_PREVIOUS: oldKey }),
    });
    expect((await during.fetchInstallation(byWorkspace('T0ROT2'))).bot?.token).toBe(TOKEN);

    const command = runCommand('npm', ['run', '--silent', 'rotate-keys'], {
      DATABASE_URL: fresh.url,
      ENCRYPTION_KEY: newKey,
      ENCRYPTION_KEY_PREVIOUS: oldKey,
    });
    const { code } = await command.exited;

    expect({ code, output: command.output() }).toEqual({
      code: 0,
      output: expect.stringMatching(/3 secret\(s\) rewrapped, 0 already current/),
    });
    expect(command.output()).not.toContain(newKey);
    const newOnly = createInstallationStore({ db, secrets: box({ ENCRYPTION_KEY: newKey }) });
    for (const teamId of ['T0ROT1', 'T0ROT2', 'T0ROT3']) {
      expect((await newOnly.fetchInstallation(byWorkspace(teamId))).bot?.token).toBe(TOKEN);
      await expect(oldStore.fetchInstallation(byWorkspace(teamId))).rejects.toThrow(SecretBoxError);
    }
    expect(await rotateSecrets(db, box({ ENCRYPTION_KEY: newKey }))).toMatchObject({ rewrapped: 0, current: 3 });
  });

  test('rotating from the local key to KMS, then to another KMS key, keeps every installation readable', async () => {
    await db.slackInstallation.deleteMany();
    const localKey = generateLocalKey();
    await createInstallationStore({ db, secrets: box({ ENCRYPTION_KEY: localKey }) }).storeInstallation(
      installation('T0MOVE')
    );
    const firstKms = await kms.createKey();
    const secondKms = await kms.createKey();

    const toKms = await rotateSecrets(db, box({ KMS_KEY_ID: firstKms, ENCRYPTION_KEY: localKey }));
    const toSecondKms = await rotateSecrets(db, box({ KMS_KEY_ID: secondKms }));

    expect([toKms.rewrapped, toSecondKms.rewrapped]).toEqual([1, 1]);
    const row = await db.slackInstallation.findUniqueOrThrow({ where: { slackTeamId: 'T0MOVE' } });
    expect(JSON.parse(row.sealedInstallation!).kek).toBe(`kms:${secondKms}`);
    const kmsOnly = createInstallationStore({ db, secrets: box({ KMS_KEY_ID: secondKms }) });
    expect((await kmsOnly.fetchInstallation(byWorkspace('T0MOVE'))).bot?.token).toBe(TOKEN);
    expect(await storedRows()).not.toContain(TOKEN);
  });
});
