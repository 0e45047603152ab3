/**
 * Guessing credentials costs the guesser, not us: failed endpoint tokens and admin bearers are
 * counted per client address, and a client over the limit is answered 429 with Retry-After
 * before any database query. Tokens found unknown are remembered for a while, so that repeating
 * one costs a hash and a map lookup, not a query.
 *
 * Only failures are counted (rate-limiter-flexible's consume on failure), so that a busy sender
 * with a good token, an Alertmanager flushing a storm, is never slowed down; and tokens that
 * worked recently keep working from an address that is blocked, as a proxy or NAT shared with a
 * guesser would be.
 */
import type { Request } from 'express';
import { LRUCache } from 'lru-cache';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { Logger } from '../../logger';
import { HttpError } from '../errors';

/** Failed credentials one client address may present per window before it is blocked. */
export const FAILED_CREDENTIALS_PER_WINDOW = 30;
export const FAILED_CREDENTIALS_WINDOW_SECONDS = 60;
/** How long a client over the limit is refused. */
export const BLOCK_SECONDS = 300;
/** How long a token hash is remembered as unknown, or as known (the second only to let it pass a block). */
const REMEMBERED_TOKEN_TTL_MS = 60_000;
const REMEMBERED_TOKENS_MAX = 50_000;

/** 429 with the seconds until the client may try again. */
export class TooManyFailuresError extends HttpError {
  constructor(retryAfterSeconds: number) {
    super(429, `too many failed tokens from this address: retry in ${retryAfterSeconds} s`, retryAfterSeconds);
  }
}

export interface CredentialGuard {
  /** Throws TooManyFailuresError while the client is blocked, unless its token worked recently. */
  checkNotBlocked(req: Request, tokenHash?: string): Promise<void>;
  /** Counts a failed credential; throws TooManyFailuresError when this one went over the limit. */
  recordFailure(req: Request, tokenHash?: string): Promise<void>;
  /** A token that worked: it passes a block from now on for a while. */
  recordSuccess(tokenHash: string): void;
  /** Whether this token hash was found unknown a moment ago. */
  isKnownUnknown(tokenHash: string): boolean;
}

/**
 * One warning is logged when a client is blocked; its refused requests are logged at debug only
 * (see request-logging), so that a flood cannot fill the log either.
 */
export function createCredentialGuard(log?: Logger): CredentialGuard {
  const failures = new RateLimiterMemory({
    keyPrefix: 'failed-credentials',
    points: FAILED_CREDENTIALS_PER_WINDOW,
    duration: FAILED_CREDENTIALS_WINDOW_SECONDS,
    blockDuration: BLOCK_SECONDS,
  });
  const unknownTokens = new LRUCache<string, true>({ max: REMEMBERED_TOKENS_MAX, ttl: REMEMBERED_TOKEN_TTL_MS });
  const workingTokens = new LRUCache<string, true>({ max: REMEMBERED_TOKENS_MAX, ttl: REMEMBERED_TOKEN_TTL_MS });
  const clientOf = (req: Request) => req.ip ?? req.socket.remoteAddress ?? 'unknown';

  return {
    async checkNotBlocked(req, tokenHash) {
      if (tokenHash && workingTokens.has(tokenHash)) return;
      const state = await failures.get(clientOf(req));
      if (state && state.remainingPoints <= 0) throw blocked(state);
    },
    async recordFailure(req, tokenHash) {
      if (tokenHash) unknownTokens.set(tokenHash, true);
      const client = clientOf(req);
      let state: RateLimiterRes;
      try {
        state = await failures.consume(client);
      } catch (error) {
        if (error instanceof RateLimiterRes) throw blocked(error);
        throw error;
      }
      // This failure used the client's last point: block it now, for longer than the window.
      if (state.remainingPoints === 0) {
        await failures.block(client, BLOCK_SECONDS);
        log?.warn(
          { client, blockSeconds: BLOCK_SECONDS },
          `client blocked after ${FAILED_CREDENTIALS_PER_WINDOW} failed tokens or bearers in ${FAILED_CREDENTIALS_WINDOW_SECONDS} s`
        );
      }
    },
    recordSuccess(tokenHash) {
      workingTokens.set(tokenHash, true);
      unknownTokens.delete(tokenHash);
    },
    isKnownUnknown: (tokenHash) => unknownTokens.has(tokenHash),
  };
}

function blocked(state: RateLimiterRes): TooManyFailuresError {
  return new TooManyFailuresError(Math.max(1, Math.ceil(state.msBeforeNext / 1000)));
}
