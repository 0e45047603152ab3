/** Bearer authentication: the admin API (`/api/*`) with ADMIN_TOKEN, the gateway's `/metrics` with METRICS_TOKEN. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { HttpError } from '../errors';
import type { CredentialGuard } from './credential-guard';

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * Refuses every request without `Authorization: Bearer <token>` (401). With the token unset the
 * route is closed rather than open. The comparison is over SHA-256 digests, so it takes the same
 * time whatever the presented token's length or content. Wrong bearers count against the
 * client's address: too many and it is answered 429 for a while.
 */
export function requireBearerToken(
  token: string | undefined,
  guard: CredentialGuard,
  names: { variable: string; what: string; closed: string }
): RequestHandler {
  const expected = token === undefined ? undefined : sha256(token);
  return async (req, res, next) => {
    res.set('WWW-Authenticate', 'Bearer');
    if (!expected) throw new HttpError(401, `${names.variable} is not configured: ${names.closed}`);
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
    if (!match) throw new HttpError(401, `missing bearer token: send Authorization: Bearer <${names.variable}>`);
    const presented = sha256(match[1] as string);
    await guard.checkNotBlocked(req, presented.toString('hex'));
    if (!timingSafeEqual(presented, expected)) {
      await guard.recordFailure(req);
      throw new HttpError(401, `invalid ${names.what} token`);
    }
    guard.recordSuccess(presented.toString('hex'));
    res.removeHeader('WWW-Authenticate');
    next();
  };
}

/** The admin API's bearer check: ADMIN_TOKEN unset closes the admin API. */
export function requireAdminToken(adminToken: string | undefined, guard: CredentialGuard): RequestHandler {
  return requireBearerToken(adminToken, guard, {
    variable: 'ADMIN_TOKEN',
    what: 'admin',
    closed: 'the admin API refuses every call',
  });
}
