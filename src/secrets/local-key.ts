/** The local key-encryption key's text form: base64 of 32 bytes (ENCRYPTION_KEY). */
import { randomBytes } from 'node:crypto';

export const LOCAL_KEY_BYTES = 32;

/** Decodes a base64 ENCRYPTION_KEY; undefined when it is not exactly 32 bytes. */
export function decodeLocalKey(text: string): Buffer | undefined {
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) return undefined;
  const key = Buffer.from(trimmed, 'base64');
  return key.length === LOCAL_KEY_BYTES ? key : undefined;
}

/** A new local key, base64: what `npm start` writes into the data directory when none is set. */
export function generateLocalKey(): string {
  return randomBytes(LOCAL_KEY_BYTES).toString('base64');
}
