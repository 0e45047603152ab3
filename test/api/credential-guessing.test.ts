/**
 * Guessing endpoint tokens and admin bearers costs the guesser: after a few failures a client
 * address is answered 429 with Retry-After, without a database query, while other clients,
 * working tokens and /healthz carry on.
 */
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { sqlPoolOf } from '../../src/db/client';
import {
  FAILED_CREDENTIALS_PER_WINDOW,
  FAILED_CREDENTIALS_WINDOW_SECONDS,
} from '../../src/api/middleware/credential-guard';
import { createTestGateway, registerTeam, type RegisteredTeam, type TestGateway } from '../helpers/gateway';

const guess = () => randomBytes(32).toString('base64url');

/** Counts the endpoint lookups the app sends to the real database (through the pool under its client). */
function countingEndpointLookups(gateway: TestGateway): { count: () => number } {
  let lookups = 0;
  const pool = sqlPoolOf(gateway.db);
  const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  (pool as { query: unknown }).query = (...args: unknown[]) => {
    const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string } | undefined)?.text;
    if (text && /FROM endpoints\b/.test(text)) lookups += 1;
    return query(...args);
  };
  return { count: () => lookups };
}

describe('a client guessing endpoint tokens', () => {
  let gateway: TestGateway;
  let team: RegisteredTeam;

  beforeAll(async () => {
    gateway = createTestGateway({ env: { TRUST_PROXY: 'true' } });
    team = await registerTeam(gateway);
  });

  afterAll(async () => {
    await gateway?.close();
  });

  test('is answered 429 with Retry-After once over the limit, and its flood stops reaching the database', async () => {
    const lookups = countingEndpointLookups(gateway);
    const attacker = '203.0.113.7';
    const statuses: number[] = [];
    let retryAfter: string | undefined;
    for (let i = 0; i < 300; i++) {
      const route = i % 2 === 0 ? `/webhooks/${guess()}` : `/sns/${guess()}`;
      const response = await request(gateway.app).post(route).set('X-Forwarded-For', attacker).send({ title: 'x' });
      statuses.push(response.status);
      retryAfter ??= response.headers['retry-after'];
    }

    expect(statuses.slice(0, FAILED_CREDENTIALS_PER_WINDOW - 1).every((status) => status === 404)).toBe(true);
    expect(statuses.slice(FAILED_CREDENTIALS_PER_WINDOW).every((status) => status === 429)).toBe(true);
    // Blocked for BLOCK_SECONDS, longer than the counting window.
    expect(Number(retryAfter)).toBeGreaterThan(FAILED_CREDENTIALS_WINDOW_SECONDS);
    // At most one query per allowed failure, none for the rest of the flood.
    expect(lookups.count()).toBeLessThanOrEqual(FAILED_CREDENTIALS_PER_WINDOW);
    // One warning says who was blocked; the refused requests do not fill the log (debug only).
    const lines = gateway.logLines();
    expect(lines.filter((line) => line.client === attacker && /client blocked/.test(String(line.msg)))).toHaveLength(1);
    const refusedAtInfo = lines.filter(
      (line) => (line.res as { statusCode?: number } | undefined)?.statusCode === 429 && Number(line.level) >= 30
    );
    expect(refusedAtInfo).toEqual([]);
  });

  test('does not shut out other clients, nor the blocked address’s own working token, nor /healthz', async () => {
    const attacker = '203.0.113.8';
    const sender = '198.51.100.20';
    // The sender's token worked from the shared address before the flood (a proxy or NAT both use).
    await request(gateway.app)
      .post(`/webhooks/${team.token}`)
      .set('X-Forwarded-For', attacker)
      .send({ title: `Before the flood ${guess()}` })
      .expect(202);
    for (let i = 0; i < FAILED_CREDENTIALS_PER_WINDOW + 5; i++) {
      await request(gateway.app).post(`/webhooks/${guess()}`).set('X-Forwarded-For', attacker).send({ title: 'x' });
    }
    await request(gateway.app).post(`/webhooks/${guess()}`).set('X-Forwarded-For', attacker).expect(429);

    await request(gateway.app).get('/healthz').set('X-Forwarded-For', attacker).expect(200);
    await request(gateway.app)
      .post(`/webhooks/${team.token}`)
      .set('X-Forwarded-For', attacker)
      .send({ title: `During the flood ${guess()}` })
      .expect(202);
    await request(gateway.app).post(`/webhooks/${guess()}`).set('X-Forwarded-For', sender).expect(404);
  });

  test('a token found unknown is not looked up again while it is remembered', async () => {
    const lookups = countingEndpointLookups(gateway);
    const token = guess();
    const client = '198.51.100.30';

    await request(gateway.app).post(`/webhooks/${token}`).set('X-Forwarded-For', client).expect(404);
    await request(gateway.app).post(`/webhooks/${token}`).set('X-Forwarded-For', client).expect(404);
    await request(gateway.app).post(`/sns/${token}`).set('X-Forwarded-For', client).expect(404);

    expect(lookups.count()).toBe(1);
  });
});

describe('a client guessing the admin bearer', () => {
  let gateway: TestGateway;

  beforeAll(() => {
    gateway = createTestGateway({ env: { TRUST_PROXY: 'true' } });
  });

  afterAll(async () => {
    await gateway?.close();
  });

  test('is answered 429 with Retry-After once over the limit, even when it then sends the right one', async () => {
    const attacker = '203.0.113.9';
    for (let i = 0; i < FAILED_CREDENTIALS_PER_WINDOW; i++) {
      await request(gateway.app)
        .get('/api/alerts')
        .set('X-Forwarded-For', attacker)
        .set('Authorization', `Bearer ${guess()}`)
        .expect(401);
    }
    const over = await request(gateway.app)
      .get('/api/alerts')
      .set('X-Forwarded-For', attacker)
      .set('Authorization', `Bearer ${guess()}`)
      .expect(429);
    expect(Number(over.headers['retry-after'])).toBeGreaterThan(0);
    expect(over.body.error).toMatch(/too many failed tokens/);

    await request(gateway.app).get('/api/alerts').set('X-Forwarded-For', attacker).set(gateway.adminAuth).expect(429);
    await request(gateway.app)
      .get('/api/alerts')
      .set('X-Forwarded-For', '198.51.100.40')
      .set(gateway.adminAuth)
      .expect(200);
  });
});
