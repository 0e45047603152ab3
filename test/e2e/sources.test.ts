/**
 * Every source end to end, from real-format payloads: the gateway over HTTP, the Temporal dev
 * server, a worker, PostgreSQL and the Slack stand-in. SNS messages are signed with the test key
 * and verified against its certificate, served by an injected fetcher. The escalation timeout is
 * an hour, so that nothing escalates while a test runs.
 */
import { randomUUID } from 'node:crypto';
import type { SubscriptionConfirmer } from '../../src/sns/subscription';
import { createSnsVerifier } from '../../src/sns/verify';
import { alertWorkflowId } from '../../src/domain/fingerprint';
import { loadFixture, loadFixtureText } from '../fixtures';
import { startTestEscalator, type RunningTestEscalator, type TestTeam } from '../helpers/escalator';
import type { FakeSlackMessage } from '../helpers/fake-slack';
import {
  recordingCertificateFetcher,
  signSnsEnvelope,
  snsFixture,
  type SnsEnvelope,
  type SnsFixtureName,
} from '../helpers/sns';
import { waitFor } from '../helpers/wait';

const ALARM_ARN = 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:api-5xx-rate-high';

const confirmedUrls: string[] = [];
const confirmer: SubscriptionConfirmer = (url) => {
  confirmedUrls.push(url);
  return Promise.resolve({ status: 200 });
};

let escalator: RunningTestEscalator;

beforeAll(async () => {
  escalator = await startTestEscalator(
    { ESCALATION_TIMEOUT: '1h' },
    {
      gateway: {
        snsVerifier: createSnsVerifier({ fetchCertificate: recordingCertificateFetcher().fetchCertificate }),
        snsSubscriptionConfirmer: confirmer,
      },
    }
  );
}, 60_000);

afterAll(async () => {
  await escalator?.stop();
});

/** A fixture envelope with a fresh MessageId, signed now. */
function signed(name: SnsFixtureName, changes: Partial<SnsEnvelope> = {}): SnsEnvelope {
  return signSnsEnvelope({ ...snsFixture(name), MessageId: randomUUID(), ...changes });
}

/** Delivers an envelope as SNS does: JSON as text/plain, its type and id in headers. */
async function deliverSns(team: TestTeam, envelope: SnsEnvelope): Promise<{ status: number; body: any }> {
  const response = await fetch(`${escalator.url}${team.snsPath}`, {
    method: 'POST',
    headers: {
      'Content-Type': 'text/plain; charset=UTF-8',
      'x-amz-sns-message-type': envelope.Type ?? '',
      'x-amz-sns-message-id': envelope.MessageId ?? '',
    },
    body: JSON.stringify(envelope),
  });
  return { status: response.status, body: await response.json() };
}

/** Sends a raw body to a webhook path. */
async function send(
  method: string,
  path: string,
  body?: string,
  contentType?: string
): Promise<{ status: number; body: any }> {
  const response = await fetch(`${escalator.url}${path}`, {
    method,
    body,
    headers: contentType ? { 'Content-Type': contentType } : {},
  });
  return { status: response.status, body: await response.json() };
}

/** The alert messages in a channel (thread replies left out). */
function alertMessages(channel: string): FakeSlackMessage[] {
  return escalator.slack.messages(channel).filter((message) => !message.threadTs);
}

/** Everything a reader sees of a message: its notification text and every block. */
function shown(message: FakeSlackMessage | undefined): string {
  return message ? `${message.text ?? ''}\n${JSON.stringify(message.blocks ?? [])}` : '';
}

/** Waits until the channel's one alert message shows `pattern`, and returns what it shows. */
async function messageShowing(channel: string, pattern: RegExp | string): Promise<string> {
  const matches = (text: string) => (typeof pattern === 'string' ? text.includes(pattern) : pattern.test(text));
  return waitFor(`the alert message in ${channel} to show ${String(pattern)}`, () => {
    const text = shown(alertMessages(channel)[0]);
    return matches(text) ? text : undefined;
  });
}

async function alertDetail(alertId: string) {
  const detail = await escalator.get(`/api/alerts/${alertId}`, escalator.adminAuth);
  expect(detail.status).toBe(200);
  return detail.body;
}

describe('AWS SNS', () => {
  test('a CloudWatch alarm is posted; its next ALARM transition counts on the same message; OK resolves it', async () => {
    const team = await escalator.createTeam({ prefix: 'src' });

    const firstFiring = signed('notification-cloudwatch-alarm');
    const opened = await deliverSns(team, firstFiring);
    expect(opened).toEqual({
      status: 202,
      body: { alertId: expect.any(String), workflowId: alertWorkflowId(team.name, ALARM_ARN), duplicate: false },
    });
    const posted = await messageShowing(team.channel, 'api-5xx-rate-high');
    expect(posted).toContain('eu-west-1.console.aws.amazon.com/cloudwatch');
    expect(posted).toContain('123456789012');

    const nextTransition = signed('notification-cloudwatch-alarm', {
      Message: String(firstFiring.Message).replace('2026-11-28T10:20:43.123+0000', '2026-11-28T11:20:00.000+0000'),
    });
    const repeated = await deliverSns(team, nextTransition);
    expect(repeated.body).toMatchObject({ alertId: opened.body.alertId, duplicate: true });
    await messageShowing(team.channel, '×2');

    expect((await deliverSns(team, signed('notification-cloudwatch-ok'))).status).toBe(202);
    await messageShowing(team.channel, /\*resolved\*/);
    await waitFor(
      'the alert to be resolved',
      async () => (await alertDetail(opened.body.alertId)).state === 'resolved'
    );
    expect(await alertDetail(opened.body.alertId)).toMatchObject({ occurrences: 2, fingerprint: ALARM_ARN });
    expect(alertMessages(team.channel)).toHaveLength(1);
  });

  test('a redelivery, concurrent or after the alert was closed, never makes a second alert or count', async () => {
    const team = await escalator.createTeam({ prefix: 'src' });
    const message = signed('notification-cloudwatch-alarm');

    const [first, second] = await Promise.all([deliverSns(team, message), deliverSns(team, message)]);
    expect([first.status, second.status]).toEqual([202, 202]);
    expect([first.body.duplicate, second.body.duplicate].sort()).toEqual([false, true]);
    await messageShowing(team.channel, 'api-5xx-rate-high');
    const { alertId, workflowId } = first.body;

    expect(await escalator.press({ action: 'close', workflowId, userId: 'U0ALICE', userName: 'alice' })).toBe(200);
    await messageShowing(team.channel, /\*closed\* by alice/);
    await waitFor('the alert to be closed', async () => (await alertDetail(alertId)).state === 'closed');
    const late = await deliverSns(team, message);

    expect(late).toEqual({ status: 202, body: { alertId, workflowId, duplicate: true } });
    expect(await alertDetail(alertId)).toMatchObject({ state: 'closed', occurrences: 1 });
    expect(await escalator.db.alert.count({ where: { teamId: team.id } })).toBe(1);
    expect(alertMessages(team.channel)).toHaveLength(1);
  });

  test('a subscription confirmation is confirmed with AWS and lands in the channel and a timeline, resolved', async () => {
    const team = await escalator.createTeam({ prefix: 'src' });
    const confirmation = signed('subscription-confirmation');

    const answer = await deliverSns(team, confirmation);

    expect(answer).toEqual({ status: 200, body: { confirmed: confirmation.TopicArn } });
    expect(confirmedUrls).toContain(confirmation.SubscribeURL);
    const notice = await messageShowing(
      team.channel,
      /SNS subscription confirmed: escalator-alarms[\s\S]*\*resolved\*/
    );
    expect(notice).not.toContain('"ack"');
    const listed = await escalator.get(`/api/alerts?team=${team.name}`, escalator.adminAuth);
    expect(listed.body.alerts).toHaveLength(1);
    await waitFor('the notice to be resolved', async () => {
      const detail = await alertDetail(listed.body.alerts[0].id);
      return detail.state === 'resolved' && detail.timeline.some((event: { type: string }) => event.type === 'posted');
    });
  });

  test('an EventBridge GuardDuty finding through SNS gets a readable title', async () => {
    const team = await escalator.createTeam({ prefix: 'src' });

    expect((await deliverSns(team, signed('notification-eventbridge-guardduty'))).status).toBe(202);

    await messageShowing(
      team.channel,
      '198.51.100.23 is performing SSH brute force attacks against i-0a1b2c3d4e5f67890'
    );
  });
});

describe('Alertmanager and Grafana', () => {
  test('a group posts its firing alerts with their labels; the same alert sent resolved resolves it', async () => {
    const team = await escalator.createTeam({ prefix: 'src' });
    const group = loadFixture<{ alerts: Array<{ status: string }> }>('alertmanager/firing-and-resolved.json');
    const path = `${team.webhookPath}/alertmanager`;

    const opened = await send('POST', path, JSON.stringify(group), 'application/json');
    expect(opened.status).toBe(202);
    expect(opened.body.alerts.map((alert: { duplicate: boolean; ignored?: string }) => alert.ignored)).toEqual([
      undefined,
      'no open alert for this key',
    ]);
    const posted = await messageShowing(team.channel, 'API error rate above 5% on api-1');
    expect(posted).toContain('api-1:9100');
    expect(posted).toContain('prometheus.example.com');

    group.alerts[0]!.status = 'resolved';
    expect((await send('POST', path, JSON.stringify(group), 'application/json')).status).toBe(202);
    await messageShowing(team.channel, /\*resolved\*/);
    const alertId = opened.body.alerts[0].alertId;
    await waitFor('the alert to be resolved', async () => (await alertDetail(alertId)).state === 'resolved');
    expect(alertMessages(team.channel)).toHaveLength(1);
  });

  test("Grafana's contact point posts the firing alert linked to its panel", async () => {
    const team = await escalator.createTeam({ prefix: 'src' });

    const answer = await send(
      'POST',
      `${team.webhookPath}/alertmanager`,
      JSON.stringify(loadFixture('grafana/firing-and-resolved.json')),
      'application/json'
    );

    expect(answer.status).toBe(202);
    const posted = await messageShowing(team.channel, 'CPU above 90% on web-3');
    expect(posted).toContain('viewPanel=3');
  });
});

describe('tools that post what they can', () => {
  test('Uptime Robot (GET with query parameters): down posts, up resolves', async () => {
    const team = await escalator.createTeam({ prefix: 'src' });
    const query = (name: string) =>
      new URLSearchParams(loadFixture<Record<string, string>>(`uptimerobot/${name}.json`)).toString();

    expect((await send('GET', `${team.webhookPath}?${query('monitor-down-query')}`)).status).toBe(202);
    await messageShowing(team.channel, 'Shop is down');
    expect((await send('GET', `${team.webhookPath}?${query('monitor-up-query')}`)).status).toBe(202);
    await messageShowing(team.channel, /\*resolved\*/);
  });

  test('an EventBridge event sent directly (API destination)', async () => {
    const team = await escalator.createTeam({ prefix: 'src' });

    const answer = await send(
      'POST',
      team.webhookPath,
      loadFixtureText('eventbridge/cloudwatch-alarm-state-change.json'),
      'application/json'
    );

    expect(answer.body.workflowId).toBe(alertWorkflowId(team.name, ALARM_ARN));
    await messageShowing(team.channel, 'api-5xx-rate-high');
  });

  test('New Relic', async () => {
    const team = await escalator.createTeam({ prefix: 'src' });

    const answer = await send(
      'POST',
      team.webhookPath,
      loadFixtureText('newrelic/issue-activated.json'),
      'application/json'
    );

    expect(answer.status).toBe(202);
    await messageShowing(team.channel, 'checkout-service: Error percentage');
  });

  test('curl with a form body: unknown fields are shown with the alert', async () => {
    const team = await escalator.createTeam({ prefix: 'src' });

    const answer = await send(
      'POST',
      team.webhookPath,
      'title=Nightly+backup+failed&severity=critical&host=db-2',
      'application/x-www-form-urlencoded'
    );

    expect(answer.body).toEqual({ alertId: expect.any(String), workflowId: expect.any(String), duplicate: false });
    const posted = await messageShowing(team.channel, 'Nightly backup failed');
    expect(posted).toContain('host');
    expect(posted).toContain('db-2');
  });

  test('curl with text/plain: the first line is the title', async () => {
    const team = await escalator.createTeam({ prefix: 'src' });

    const answer = await send(
      'POST',
      team.webhookPath,
      'Deploy of api stuck\nstep 3 of 5 for 20 minutes',
      'text/plain'
    );

    expect(answer.status).toBe(202);
    const posted = await messageShowing(team.channel, 'Deploy of api stuck');
    expect(posted).toContain('step 3 of 5 for 20 minutes');
  });
});
