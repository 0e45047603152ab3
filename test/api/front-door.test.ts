/** The gateway's root URL: a person who opens it in a browser learns what runs and where to go. */
import request from 'supertest';
import { frontDoorPage } from '../../src/api/handlers/front-door';
import { loadConfig } from '../../src/config';
import { createTestGateway, type TestGateway } from '../helpers/gateway';

let gateway: TestGateway;

beforeAll(() => {
  gateway = createTestGateway();
});

afterAll(async () => {
  await gateway?.close();
});

test('GET / is a small HTML page: what runs, the escalation timeout, the preview and health links', async () => {
  const response = await request(gateway.app).get('/').expect(200);

  expect(response.headers['content-type']).toMatch(/^text\/html/);
  expect(response.text).toContain('<h1>Escalator is running</h1>');
  expect(response.text).toContain('5m without an Acknowledge');
  expect(response.text).toContain('<a href="/preview">');
  expect(response.text).toContain('<a href="/healthz">');
  expect(response.text).toContain('<a href="/readyz">');
  expect(response.text).toContain('docs/http-api.md');
});

test('links the Web UI when npm start runs it, and leaves the preview out when Slack is connected', () => {
  const page = frontDoorPage({
    config: loadConfig({ SLACK_BOT_TOKEN: 'xoxb-real', ESCALATION_TIMEOUT: '90s' }),
    webUiUrl: 'http://localhost:8233',
  });

  expect(page).toContain('<a href="http://localhost:8233">The Temporal Web UI</a>');
  expect(page).not.toContain('/preview');
  expect(page).not.toContain('Dry run');
  expect(page).toContain('90s without an Acknowledge');
});
