/**
 * The two kinds of key-encryption key: a local AES-256 key (ENCRYPTION_KEY, base64 of 32 bytes)
 * and an AWS KMS key (KMS_KEY_ID), reached through the AWS SDK's KMS client, which reads
 * AWS_REGION, AWS_ENDPOINT_URL and credentials from the environment as every AWS tool does.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { KMSClient } from '@aws-sdk/client-kms';
import { aesGcmDecrypt, aesGcmEncrypt, type KeyEncryptionKey } from './envelope';
import { LOCAL_KEY_BYTES } from './local-key';

export { decodeLocalKey, generateLocalKey } from './local-key';

const IV_BYTES = 12;

/** Names a local key without revealing it: the first 16 hex digits of SHA-256 over a label and the key. */
function localKeyId(key: Buffer): string {
  return `local:${createHash('sha256').update('escalator-kek-id\0').update(key).digest('hex').slice(0, 16)}`;
}

/** A key-encryption key held in memory: wraps data keys with AES-256-GCM. */
export function localKeyEncryptionKey(key: Buffer): KeyEncryptionKey {
  if (key.length !== LOCAL_KEY_BYTES) throw new Error(`a local key-encryption key must be ${LOCAL_KEY_BYTES} bytes`);
  const id = localKeyId(key);
  return {
    id,
    canUnwrap: (kekId) => kekId === id,
    wrap(dataKey, context) {
      const iv = randomBytes(IV_BYTES);
      return Promise.resolve(Buffer.concat([iv, aesGcmEncrypt(key, iv, dataKey, `kek:${context}`)]));
    },
    unwrap(wrapped, context) {
      return Promise.resolve(
        aesGcmDecrypt(key, wrapped.subarray(0, IV_BYTES), wrapped.subarray(IV_BYTES), `kek:${context}`)
      );
    },
  };
}

/** KMS calls are on the path of Slack calls: fail fast rather than hang an activity. */
const KMS_TIMEOUT_MS = 5_000;

/**
 * A key-encryption key in AWS KMS: data keys are wrapped with KMS Encrypt and unwrapped with
 * Decrypt, the context passed as KMS encryption context. A symmetric KMS ciphertext names its own
 * key, so data keys wrapped by an earlier KMS key stay readable while the caller may still use it.
 */
export function kmsKeyEncryptionKey(keyId: string, client?: KMSClient): KeyEncryptionKey {
  return {
    id: `kms:${keyId}`,
    canUnwrap: (kekId) => kekId.startsWith('kms:'),
    async wrap(dataKey, context) {
      const { EncryptCommand } = await kmsSdk();
      const result = await (client ??= await createKmsClient()).send(
        new EncryptCommand({ KeyId: keyId, Plaintext: dataKey, EncryptionContext: { escalator: context } })
      );
      if (!result.CiphertextBlob) throw new Error('KMS Encrypt answered without a ciphertext');
      return Buffer.from(result.CiphertextBlob);
    },
    async unwrap(wrapped, context) {
      const { DecryptCommand } = await kmsSdk();
      const result = await (client ??= await createKmsClient()).send(
        new DecryptCommand({ CiphertextBlob: wrapped, EncryptionContext: { escalator: context } })
      );
      if (!result.Plaintext) throw new Error('KMS Decrypt answered without a plaintext');
      return Buffer.from(result.Plaintext);
    },
  };
}

/**
 * The AWS SDK's KMS client is loaded on first use: loaded at start it cost every process about
 * 15 MiB of memory (its code and the AWS SDK core), though only deployments with KMS_KEY_ID use it.
 */
function kmsSdk(): Promise<typeof import('@aws-sdk/client-kms')> {
  return import('@aws-sdk/client-kms');
}

/** The SDK's KMS client as the environment configures it, with a request timeout. */
export async function createKmsClient(): Promise<KMSClient> {
  const { KMSClient } = await kmsSdk();
  return new KMSClient({ requestHandler: { requestTimeout: KMS_TIMEOUT_MS }, maxAttempts: 2 });
}
