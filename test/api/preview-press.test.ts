/**
 * The dry run's Slack preview takes presses from its own page only: a POST to /preview/press must
 * carry the page's Origin, and nothing that came through a proxy is served (a same-host proxy that
 * rewrites Host would otherwise open it to the network).
 */
import request from 'supertest';
import { createDryRunOutbox } from '../../src/slack/dry-run-outbox';
import { createTestGateway, type TestGateway } from '../helpers/gateway';

let gateway: TestGateway;

beforeAll(() => {
  gateway = createTestGateway({ dryRunOutbox: createDryRunOutbox() });
});

afterAll(async () => {
  await gateway?.close();
});

/** A press body that fails validation: a 400 shows the request got past the origin checks. */
const NOT_A_PRESS = { channel: 'not a channel' };

describe('POST /preview/press', () => {
  test('without an Origin (curl, a script, a proxy) is refused with 403', async () => {
    const response = await request(gateway.app).post('/preview/press').send(NOT_A_PRESS).expect(403);

    expect(response.body.error).toBe('the Slack preview accepts presses from its own page only');
  });

  test("from another origin, or through a proxy even with the page's Origin, is refused with 403", async () => {
    const server = request(gateway.app);

    await server.post('/preview/press').set('Origin', 'http://attacker.example').send(NOT_A_PRESS).expect(403);
    const viaProxy = await server
      .post('/preview/press')
      .set('X-Forwarded-For', '203.0.113.7')
      .set('Host', 'localhost:3000')
      .set('Origin', 'http://localhost:3000')
      .send(NOT_A_PRESS)
      .expect(403);
    expect(viaProxy.body.error).toMatch(/served to this machine only/);
  });

  test("with the page's own Origin reaches the press's validation", async () => {
    const agent = request(gateway.app).post('/preview/press');
    // supertest connects to 127.0.0.1:<port> and sends that as Host: the page's origin is http://<Host>.
    const response = await agent
      .set('Host', 'localhost:3000')
      .set('Origin', 'http://localhost:3000')
      .send(NOT_A_PRESS)
      .expect(400);

    expect(response.body.error).toMatch(/channel/);
  });
});
