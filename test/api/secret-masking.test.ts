/**
 * Secrets a sender put in an alert by mistake, found by their name or their shape, reach neither
 * PostgreSQL nor the workflow id (which is also the buttons' value) nor the answer; a key that held
 * one still names the same alert every time, and a key without one stays as readable as it was.
 */
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { createTestGateway, registerTeam, type RegisteredTeam, type TestGateway } from '../helpers/gateway';

let gateway: TestGateway;
let team: RegisteredTeam;

const GITHUB_TOKEN = `ghp_${'a1B2c3D4e5'.repeat(4)}`;
const SECRETS = [
  GITHUB_TOKEN,
  'xoxb-1111-2222-SlackBotSecret',
  'AKIAIOSFODNN7EXAMPLE',
  'eyJhbGciOiJIUzI1NiJ9.bearer-secret',
  'hunter2',
  'MIIEowIBAAKCAQEA',
];

beforeAll(async () => {
  gateway = createTestGateway();
  team = await registerTeam(gateway);
});

afterAll(async () => {
  await gateway?.close();
});

function send(body: Record<string, unknown>, alertKey?: string) {
  const call = request(gateway.app).post(`/webhooks/${team.token}`);
  if (alertKey) call.set('X-Alert-Key', alertKey);
  return call.send(body).expect(202);
}

test('a key and a text holding tokens, access keys, a PEM key and a db_pass are kept and named without them, stably', async () => {
  const key = `deploy-${randomUUID().slice(0, 8)}-${GITHUB_TOKEN}`;
  const body = {
    title: 'Deploy failed: Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.bearer-secret',
    text: [
      'bot xoxb-1111-2222-SlackBotSecret and AKIAIOSFODNN7EXAMPLE in the environment',
      '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----',
      'connect with db_pass=hunter2 and pass\u{E0001}word=hunter2\u3164\u2028done',
    ].join('\n'),
    DB_PASS: 'hunter2',
  };

  const first = await send(body, key);
  const again = await send(body, key);

  const workflowId = first.body.workflowId as string;
  expect(again.body.workflowId).toBe(workflowId);
  expect(workflowId).toMatch(new RegExp(`^alert/${team.name}/deploy-[0-9a-f]{8}-+masked-[0-9a-f-]+$`));
  const alert = await gateway.db.alert.findUniqueOrThrow({ where: { id: first.body.alertId as string } });
  const kept = JSON.stringify([alert, workflowId]);
  for (const secret of SECRETS) expect(kept).not.toContain(secret);
  expect(kept).not.toMatch(/[\u3164\u2028\u{E0000}-\u{E007F}]/u);
  expect(alert.fingerprint).toMatch(/^deploy-[0-9a-f]{8}-\[masked\]#[0-9a-f]{16}$/);

  const otherSecret = await send(body, key.replace(GITHUB_TOKEN, `ghp_${'z9Y8x7W6v5'.repeat(4)}`));
  expect(otherSecret.body.workflowId).not.toBe(workflowId);
});

test('a key without a secret keeps its readable workflow id', async () => {
  const key = `disk-db-${randomUUID().slice(0, 8)}`;

  const response = await send({ title: 'Disk almost full' }, key);

  expect(response.body.workflowId).toBe(`alert/${team.name}/${key}`);
});
