/**
 * Input limits are checked once, at the door, for every source: a body too deep, too wide, with a
 * string or a key too long, or a group with too many alerts is a 400 whose `{error}` names what is
 * wrong, with no stack trace logged (senders do not retry a 4xx; Alertmanager retries a 5xx for
 * ever). What is accepted is kept whole.
 */
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { INPUT_LIMITS } from '../../src/sources/input-limits';
import { createSnsVerifier } from '../../src/sns/verify';
import { createTestGateway, registerTeam, type RegisteredTeam, type TestGateway } from '../helpers/gateway';
import { recordingCertificateFetcher, signSnsEnvelope, snsFixture } from '../helpers/sns';

let gateway: TestGateway;
let team: RegisteredTeam;

beforeAll(async () => {
  gateway = createTestGateway({
    snsVerifier: createSnsVerifier({ fetchCertificate: recordingCertificateFetcher().fetchCertificate }),
  });
  team = await registerTeam(gateway);
});

afterAll(async () => {
  await gateway?.close();
});

/** `{"a":{"a":…1…}}`, `levels` deep, built as text (building it as objects would recurse). */
function nestedJson(levels: number): string {
  return `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
}

function alertmanagerAlert(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    status: 'firing',
    labels: { alertname: 'DiskFull', instance: 'db-1' },
    annotations: { summary: 'Disk almost full' },
    startsAt: '2026-12-07T10:00:00Z',
    fingerprint: `fp${randomUUID().slice(0, 8)}`,
    ...overrides,
  };
}

function alertmanagerGroup(alerts: Array<Record<string, unknown>>): Record<string, unknown> {
  return { version: '4', groupKey: '{}:{alertname="DiskFull"}', status: 'firing', receiver: 'escalator', alerts };
}

/**
 * What the gateway logged about failed requests since `from` (a line count): a refusal must log
 * no error and no stack. (The intake dispatcher's own lines, about other tests' alerts, are not
 * about a request.)
 */
function requestFailuresLogged(from: number): unknown[] {
  return gateway
    .logLines()
    .slice(from)
    .filter(
      (line) =>
        line.msg === 'request failed' || ((line.level as number) >= 50 && (line.req ?? line.reqId) !== undefined)
    );
}

function postJson(path: string, body: string, headers: Record<string, string> = {}) {
  return request(gateway.app).post(path).set('Content-Type', 'application/json').set(headers).send(body);
}

describe('refused with 400 naming what is wrong, no stack trace logged', () => {
  test.each([
    [
      "an Alertmanager alert's values 4,000 levels deep (/alertmanager)",
      () => `/webhooks/${team.token}/alertmanager`,
      () =>
        JSON.stringify(alertmanagerGroup([alertmanagerAlert({ values: { B: '__DEEP__' } })])).replace(
          '"__DEEP__"',
          nestedJson(4_000)
        ),
      /^alerts is nested more than 32 levels deep$/,
    ],
    [
      "an Alertmanager alert's values 4,000 levels deep (the plain webhook URL)",
      () => `/webhooks/${team.token}`,
      () =>
        JSON.stringify(alertmanagerGroup([alertmanagerAlert({ values: { B: '__DEEP__' } })])).replace(
          '"__DEEP__"',
          nestedJson(4_000)
        ),
      /^alerts is nested more than 32 levels deep$/,
    ],
    [
      "an EventBridge event's detail 5,000 levels deep",
      () => `/webhooks/${team.token}`,
      () =>
        JSON.stringify({
          version: '0',
          id: randomUUID(),
          'detail-type': 'CloudWatch Alarm State Change',
          source: 'aws.cloudwatch',
          account: '123456789012',
          time: '2026-12-07T10:00:00Z',
          region: 'eu-west-1',
          resources: ['arn:aws:cloudwatch:eu-west-1:123456789012:alarm:deep'],
          detail: '__DEEP__',
        }).replace('"__DEEP__"', nestedJson(5_000)),
      /^detail is nested more than 32 levels deep$/,
    ],
    [
      'a group of 3,000 alerts',
      () => `/webhooks/${team.token}/alertmanager`,
      () =>
        JSON.stringify(
          alertmanagerGroup(Array.from({ length: 3_000 }, (_, i) => ({ status: 'firing', fingerprint: `f${i}` })))
        ),
      /alerts: 3000 alerts in one group, at most 1000/,
    ],
    [
      'an Alertmanager fingerprint of 20,000 characters',
      () => `/webhooks/${team.token}/alertmanager`,
      () => JSON.stringify(alertmanagerGroup([alertmanagerAlert({ fingerprint: 'f'.repeat(20_000) })])),
      /key .* is 20000 characters, at most 500/,
    ],
    [
      'an Alertmanager startsAt of 15,000 characters',
      () => `/webhooks/${team.token}/alertmanager`,
      () => JSON.stringify(alertmanagerGroup([alertmanagerAlert({ startsAt: '2'.repeat(15_000) })])),
      /firing .* is 15000 characters, at most 200/,
    ],
    [
      'a generic key of 12,000 characters',
      () => `/webhooks/${team.token}`,
      () => JSON.stringify({ title: 'Long key', key: 'k'.repeat(12_000) }),
      /key: .* <=500 characters/,
    ],
    [
      'a string of 70,000 characters',
      () => `/webhooks/${team.token}`,
      () => JSON.stringify({ title: 'Long note', note: 'n'.repeat(70_000) }),
      /^note: a string of 70000 characters, at most 65536$/,
    ],
  ])('%s', async (_what, path, body, error) => {
    const logged = gateway.logLines().length;

    const response = await postJson(path(), body()).expect(400);

    expect(response.body.error).toMatch(error);
    expect(requestFailuresLogged(logged)).toEqual([]);
  });

  test('an X-Alert-Key of 12,000 characters', async () => {
    const logged = gateway.logLines().length;
    const response = await postJson(`/webhooks/${team.token}`, JSON.stringify({ title: 'Keyed' }), {
      'X-Alert-Key': 'x'.repeat(12_000),
    }).expect(400);

    expect(response.body.error).toBe(`X-Alert-Key: 12000 characters, at most ${INPUT_LIMITS.keyLength}`);
    expect(requestFailuresLogged(logged)).toEqual([]);
  });

  test("a signed SNS notification whose EventBridge event's detail is 5,000 levels deep", async () => {
    const logged = gateway.logLines().length;
    const message = JSON.stringify({
      version: '0',
      id: randomUUID(),
      'detail-type': 'GuardDuty Finding',
      source: 'aws.guardduty',
      account: '123456789012',
      time: '2026-12-07T10:00:00Z',
      region: 'eu-west-1',
      resources: [],
      detail: '__DEEP__',
    }).replace('"__DEEP__"', nestedJson(5_000));
    const envelope = signSnsEnvelope({
      ...snsFixture('notification-eventbridge-guardduty'),
      MessageId: randomUUID(),
      Message: message,
    });

    const response = await request(gateway.app)
      .post(`/sns/${team.token}`)
      .set('Content-Type', 'text/plain; charset=UTF-8')
      .set('x-amz-sns-message-type', 'Notification')
      .send(JSON.stringify(envelope))
      .expect(400);

    expect(response.body.error).toMatch(/^detail is nested more than 32 levels deep$/);
    expect(requestFailuresLogged(logged)).toEqual([]);
  });
});

test('a key at the limit is accepted and kept whole', async () => {
  const key = `${randomUUID()}-${'k'.repeat(INPUT_LIMITS.keyLength - 37)}`;

  const response = await postJson(`/webhooks/${team.token}`, JSON.stringify({ title: 'Longest key', key })).expect(202);

  const alert = await gateway.db.alert.findUniqueOrThrow({ where: { id: response.body.alertId as string } });
  expect(alert.fingerprint).toBe(key);
});
