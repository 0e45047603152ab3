/** Bearer authentication of the admin API (`/api/*`) with ADMIN_TOKEN. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { HttpError } from '../errors';

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * Refuses every request without `Authorization: Bearer <ADMIN_TOKEN>` (401). With ADMIN_TOKEN
 * unset the admin API is closed rather than open. The comparison is over SHA-256 digests, so it
 * takes the same time whatever the presented token's length or content.
 */
export function requireAdminToken(adminToken: string | undefined): RequestHandler {
  const expected = adminToken === undefined ? undefined : sha256(adminToken);
  return (req, res, next) => {
    res.set('WWW-Authenticate', 'Bearer');
    if (!expected) {
      throw new HttpError(401, 'ADMIN_TOKEN is not configured: the admin API refuses every call');
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
    if (!match) throw new HttpError(401, 'missing bearer token: send Authorization: Bearer <ADMIN_TOKEN>');
    if (!timingSafeEqual(sha256(match[1] as string), expected)) throw new HttpError(401, 'invalid admin token');
    res.removeHeader('WWW-Authenticate');
    next();
  };
}
