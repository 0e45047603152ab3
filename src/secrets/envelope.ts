/**
 * Envelope encryption of the secrets Escalator keeps (Slack bot tokens): each secret gets its own
 * random data key, the secret is sealed with AES-256-GCM under it, and only the data key is
 * wrapped by the key-encryption key (a local key or AWS KMS). Rotating the key-encryption key
 * therefore rewraps 32-byte data keys and never touches the secrets' ciphertexts.
 *
 * A sealed secret is one JSON string: `{v, kek, wk, iv, ct}` (base64url fields), where `kek` names
 * the key-encryption key that wrapped `wk`, so that several keys can be readable during a rotation.
 * `context` (e.g. `slack-installation:T0123`) is bound into both layers as additional
 * authenticated data: a sealed value copied onto another row does not open there.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** Wraps and unwraps data keys: a local AES key or a KMS key. */
export interface KeyEncryptionKey {
  /** Stored beside each wrapped key: `local:<fingerprint>` or `kms:<key id>`. */
  id: string;
  /** Whether this key can unwrap a data key that the key named `kekId` wrapped. */
  canUnwrap(kekId: string): boolean;
  wrap(dataKey: Buffer, context: string): Promise<Buffer>;
  unwrap(wrapped: Buffer, context: string): Promise<Buffer>;
}

export interface SecretBox {
  /** Seals `plain` under a fresh data key wrapped by the current key-encryption key. */
  seal(plain: string, context: string): Promise<string>;
  /** Opens a sealed secret with whichever readable key wrapped it; throws SecretBoxError otherwise. */
  open(sealed: string, context: string): Promise<string>;
  /** Whether `sealed` is wrapped by the current key (nothing for a rotation to do). */
  isCurrent(sealed: string): boolean;
  /** The same secret with its data key rewrapped by the current key (ciphertext unchanged). */
  rewrap(sealed: string, context: string): Promise<string>;
  /** The current key's id, for logs and the rotation report (never key material). */
  currentKeyId: string;
}

export class SecretBoxError extends Error {
  override name = 'SecretBoxError';
}

const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const DATA_KEY_BYTES = 32;

interface SealedSecret {
  v: number;
  kek: string;
  wk: string;
  iv: string;
  ct: string;
}

/** AES-256-GCM with a 12-byte IV; the output is ciphertext followed by the 16-byte tag. */
export function aesGcmEncrypt(key: Buffer, iv: Buffer, plain: Buffer, aad: string): Buffer {
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  return Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
}

/** Inverse of aesGcmEncrypt; throws when the key, the AAD or a single byte is wrong. */
export function aesGcmDecrypt(key: Buffer, iv: Buffer, sealed: Buffer, aad: string): Buffer {
  if (sealed.length < TAG_BYTES) throw new SecretBoxError('sealed data is too short');
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES)), decipher.final()]);
}

function parseSealed(sealed: string): SealedSecret {
  let parsed: unknown;
  try {
    parsed = JSON.parse(sealed);
  } catch {
    throw new SecretBoxError('not a sealed secret');
  }
  const s = parsed as Partial<SealedSecret>;
  if (s?.v !== VERSION || typeof s.kek !== 'string' || !s.wk || !s.iv || !s.ct) {
    throw new SecretBoxError('not a sealed secret of a known version');
  }
  return s as SealedSecret;
}

/**
 * A secret box over the current key-encryption key and the keys still readable during a
 * rotation (`previous`). The current key is always readable too.
 */
export function createSecretBox(current: KeyEncryptionKey, previous: KeyEncryptionKey[] = []): SecretBox {
  const readable = [current, ...previous];

  async function unwrapDataKey(secret: SealedSecret, context: string): Promise<Buffer> {
    const kek = readable.find((key) => key.canUnwrap(secret.kek));
    if (!kek) {
      throw new SecretBoxError(
        `the secret was sealed under ${secret.kek}, which is neither the current key nor a previous one`
      );
    }
    try {
      return await kek.unwrap(Buffer.from(secret.wk, 'base64url'), context);
    } catch (error) {
      throw new SecretBoxError(`could not unwrap the data key with ${kek.id}: ${(error as Error).message}`);
    }
  }

  return {
    currentKeyId: current.id,
    async seal(plain, context) {
      const dataKey = randomBytes(DATA_KEY_BYTES);
      const iv = randomBytes(IV_BYTES);
      const ct = aesGcmEncrypt(dataKey, iv, Buffer.from(plain, 'utf8'), context);
      const wk = await current.wrap(dataKey, context);
      dataKey.fill(0);
      const sealed: SealedSecret = {
        v: VERSION,
        kek: current.id,
        wk: wk.toString('base64url'),
        iv: iv.toString('base64url'),
        ct: ct.toString('base64url'),
      };
      return JSON.stringify(sealed);
    },
    async open(sealed, context) {
      const secret = parseSealed(sealed);
      const dataKey = await unwrapDataKey(secret, context);
      try {
        return aesGcmDecrypt(
          dataKey,
          Buffer.from(secret.iv, 'base64url'),
          Buffer.from(secret.ct, 'base64url'),
          context
        ).toString('utf8');
      } catch (error) {
        if (error instanceof SecretBoxError) throw error;
        throw new SecretBoxError('the secret does not open: wrong context or tampered data');
      } finally {
        dataKey.fill(0);
      }
    },
    isCurrent(sealed) {
      return parseSealed(sealed).kek === current.id;
    },
    async rewrap(sealed, context) {
      const secret = parseSealed(sealed);
      if (secret.kek === current.id) return sealed;
      const dataKey = await unwrapDataKey(secret, context);
      try {
        // Prove the data key opens this secret before the old wrapping is given up.
        aesGcmDecrypt(dataKey, Buffer.from(secret.iv, 'base64url'), Buffer.from(secret.ct, 'base64url'), context);
        const wk = await current.wrap(dataKey, context);
        return JSON.stringify({ ...secret, kek: current.id, wk: wk.toString('base64url') });
      } finally {
        dataKey.fill(0);
      }
    },
  };
}
