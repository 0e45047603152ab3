import request from 'supertest';
import { createFreshDatabase, type FreshDatabase } from '../db/fresh-database';
import { CLOSED_PORT_ADDRESS, createTestGateway, type TestGateway } from '../helpers/gateway';

describe('health probes', () => {
  let gateway: TestGateway;
  let gatewayWithoutTemporal: TestGateway;
  let gatewayWithoutDatabase: TestGateway;

  beforeAll(() => {
    gateway = createTestGateway();
    gatewayWithoutTemporal = createTestGateway({ temporalAddress: CLOSED_PORT_ADDRESS });
    gatewayWithoutDatabase = createTestGateway({
      databaseUrl: 'postgresql://escalator:nothing@127.0.0.1:1/escalator',
    });
  });

  afterAll(async () => {
    await Promise.all([gateway?.close(), gatewayWithoutTemporal?.close(), gatewayWithoutDatabase?.close()]);
  });

  test('/healthz answers 200 even while Temporal is unreachable', async () => {
    await request(gateway.app).get('/healthz').expect(200);
    await request(gatewayWithoutTemporal.app).get('/healthz').expect(200);
  });

  test('/readyz answers 200 when Temporal and PostgreSQL both answer', async () => {
    // Both answering is the premise, so establish it first: the probe gives each 2 s, and a fresh
    // gateway's first probe also pays for connecting, which a loaded machine can stretch past that.
    await gateway.temporal.connection.ensureConnected();
    await gateway.db.$queryRaw`SELECT 1`;

    const response = await request(gateway.app).get('/readyz').expect(200);
    expect(response.body).toEqual({ status: 'ready', checks: { temporal: 'ok', database: 'ok' } });
  });

  test('/readyz answers 503 naming Temporal when it does not answer, within a few seconds', async () => {
    const started = Date.now();
    const response = await request(gatewayWithoutTemporal.app).get('/readyz').expect(503);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(response.body.error).toBe('not ready: temporal did not answer');
    expect(response.body.checks).toMatchObject({ database: 'ok', temporal: expect.stringMatching(/^unavailable: /) });
  });

  test('/readyz answers 503 naming PostgreSQL when it does not answer', async () => {
    const response = await request(gatewayWithoutDatabase.app).get('/readyz').expect(503);
    expect(response.body.error).toBe('not ready: database did not answer');
    expect(response.body.checks).toMatchObject({ temporal: 'ok', database: expect.stringMatching(/^unavailable: /) });
  });

  test('/readyz answers 503 on a database that lacks migrations, saying to run npm run migrate', async () => {
    const unmigrated: FreshDatabase = await createFreshDatabase('escalator_readyz_unmigrated');
    const gatewayOnUnmigrated = createTestGateway({ databaseUrl: unmigrated.url });
    try {
      const response = await request(gatewayOnUnmigrated.app).get('/readyz').expect(503);

      expect(response.body.error).toBe(
        'not ready: the database is not migrated: run `npm run migrate` (in the image: `node dist/db/migrate-cli.js`)'
      );
      expect(response.body.checks).toMatchObject({
        temporal: 'ok',
        database: expect.stringMatching(/^unavailable: database is not migrated \(\d+ migrations? (is|are) pending/),
      });
    } finally {
      await gatewayOnUnmigrated.close();
      await unmigrated.drop();
    }
  });

  test('unknown routes answer 404 with a JSON error, and every answer carries a request id', async () => {
    const response = await request(gateway.app).get('/no/such/route').expect(404);
    expect(response.body).toEqual({ error: 'Not Found' });
    expect(response.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});
