/**
 * `POST /sns/:token` on the real gateway app, over the run's PostgreSQL and Temporal dev server
 * (no worker: what reaches Temporal is read from workflow histories). Messages are signed the way
 * AWS signs them, with the test key whose certificate the injected fetcher serves.
 */
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import type { SubscriptionConfirmer } from '../../src/sns/subscription';
import { createSnsVerifier } from '../../src/sns/verify';
import { loadFixture } from '../fixtures';
import {
  CLOSED_PORT_ADDRESS,
  createTestGateway,
  randomSlackSuffix,
  randomTeamName,
  registerTeam,
  type RegisteredTeam,
  type TestGateway,
} from '../helpers/gateway';
import {
  forgerKey,
  recordingCertificateFetcher,
  signSnsEnvelope,
  snsFixture,
  type SignOptions,
  type SnsEnvelope,
  type SnsFixtureName,
} from '../helpers/sns';
import { reportsSignalled, signalNames, startInputOf } from '../helpers/workflow-history';

const ALARM_ARN = 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:api-5xx-rate-high';
const TOPIC_ARN = 'arn:aws:sns:eu-west-1:123456789012:escalator-alarms';

/** A fixture envelope with a fresh MessageId (unless given), signed now with the test key. */
function signed(name: SnsFixtureName, changes: Partial<SnsEnvelope> = {}, options: SignOptions = {}): SnsEnvelope {
  return signSnsEnvelope({ ...snsFixture(name), MessageId: randomUUID(), ...changes }, options);
}

/** A CloudWatch alarm notification whose Message is the given alarm JSON. */
function alarmNotification(alarm: Record<string, unknown>): SnsEnvelope {
  return signed('notification-cloudwatch-alarm', { Message: JSON.stringify(alarm) });
}

describe('POST /sns/:token', () => {
  const certificates = recordingCertificateFetcher();
  const confirmedUrls: string[] = [];
  /** AWS's answer to the next confirmations; 200 unless a test says otherwise. */
  let confirmationStatus = 200;
  const confirmer: SubscriptionConfirmer = (url) => {
    confirmedUrls.push(url);
    return Promise.resolve({ status: confirmationStatus });
  };
  let gateway: TestGateway;
  let team: RegisteredTeam;

  /** Posts an envelope as SNS does: JSON as text/plain, with its type and id in headers. */
  function deliver(token: string, envelope: SnsEnvelope | string, headers: Record<string, string> = {}) {
    const body = typeof envelope === 'string' ? envelope : JSON.stringify(envelope);
    const sent = request(gateway.app)
      .post(`/sns/${token}`)
      .set('Content-Type', 'text/plain; charset=UTF-8')
      .set('x-amz-sns-message-type', typeof envelope === 'string' ? 'Notification' : (envelope.Type ?? ''))
      .set('x-amz-sns-message-id', typeof envelope === 'string' ? randomUUID() : (envelope.MessageId ?? ''));
    for (const [name, value] of Object.entries(headers)) sent.set(name, value);
    return sent.send(body);
  }

  /** Registers a team with endpoint settings through the admin API. */
  async function teamWith(settings: Record<string, unknown>): Promise<{ token: string; id: string; name: string }> {
    const response = await request(gateway.app)
      .post('/api/teams')
      .set(gateway.adminAuth)
      .send({
        name: randomTeamName('sns'),
        slackChannelId: `C${randomSlackSuffix()}`,
        engineers: [`U${randomSlackSuffix()}`],
        ...settings,
      })
      .expect(201);
    return response.body;
  }

  beforeAll(async () => {
    gateway = createTestGateway({
      snsVerifier: createSnsVerifier({ fetchCertificate: certificates.fetchCertificate }),
      snsSubscriptionConfirmer: confirmer,
    });
    team = await registerTeam(gateway);
  });

  beforeEach(() => {
    confirmationStatus = 200;
  });

  afterAll(async () => {
    await gateway?.close();
  });

  describe('a verified Notification', () => {
    test.each(['1', '2'] as const)(
      'opens the CloudWatch alarm, keyed by its ARN (SignatureVersion %s)',
      async (signatureVersion) => {
        const ours = await teamWith({});
        const response = await deliver(
          ours.token,
          signed('notification-cloudwatch-alarm', {}, { signatureVersion })
        ).expect(202);

        expect(response.body).toEqual({
          alertId: expect.stringMatching(/^[0-9a-f-]{36}$/),
          workflowId: expect.stringMatching(new RegExp(`^alert/${ours.name}/`)),
          duplicate: false,
        });
        const alert = await gateway.db.alert.findUniqueOrThrow({ where: { id: response.body.alertId } });
        expect(alert).toMatchObject({ fingerprint: ALARM_ARN, title: 'api-5xx-rate-high', source: 'cloudwatch' });
        const input = await startInputOf(gateway, response.body.workflowId);
        expect(input.content.link).toContain('eu-west-1.console.aws.amazon.com/cloudwatch');
      }
    );

    test('the same message delivered twice at once makes one alert, one count and one signal', async () => {
      const ours = await teamWith({});
      const message = signed('notification-cloudwatch-alarm');

      const answers = await Promise.all([deliver(ours.token, message), deliver(ours.token, message)]);

      expect(answers.map((answer) => answer.status)).toEqual([202, 202]);
      expect(answers.map((answer) => answer.body.duplicate).sort()).toEqual([false, true]);
      expect(answers[0].body.alertId).toBe(answers[1].body.alertId);
      const alerts = await gateway.db.alert.findMany({ where: { teamId: ours.id } });
      expect(alerts).toHaveLength(1);
      expect(alerts[0]!.occurrences).toBe(1);
      expect(await signalNames(gateway, alerts[0]!.workflowId)).toEqual(['occurrence']);
    });

    test('a replayed message within the hour acts once; an older replay is refused with 401', async () => {
      const ours = await teamWith({});
      const message = signed('notification-cloudwatch-alarm');
      await deliver(ours.token, message).expect(202);

      const replay = await deliver(ours.token, message).expect(202);
      const stale = signed('notification-cloudwatch-alarm', {}, { timestamp: new Date(Date.now() - 2 * 3_600_000) });
      const staleAnswer = await deliver(ours.token, stale).expect(401);

      expect(replay.body.duplicate).toBe(true);
      expect(staleAnswer.body.error).toMatch(/too old/);
      const alert = await gateway.db.alert.findFirstOrThrow({ where: { teamId: ours.id } });
      expect(alert.occurrences).toBe(1);
    });

    test('a second ALARM transition (new message, new state change time) counts a repeat; OK resolves the alert', async () => {
      const ours = await teamWith({});
      const firstFiring = signed('notification-cloudwatch-alarm');
      const first = await deliver(ours.token, firstFiring).expect(202);
      // The same transition published again (another MessageId, same StateChangeTime): not a new firing.
      const republished = await deliver(ours.token, signed('notification-cloudwatch-alarm')).expect(202);

      const secondFiring = signed('notification-cloudwatch-alarm', {
        Message: String(firstFiring.Message).replace('2026-11-28T10:20:43.123+0000', '2026-11-28T11:20:00.000+0000'),
      });
      const repeat = await deliver(ours.token, secondFiring).expect(202);
      const ok = signed('notification-cloudwatch-ok');
      const resolved = await deliver(ours.token, ok).expect(202);
      const okAgain = await deliver(ours.token, ok).expect(202);

      expect(republished.body).toEqual({
        alertId: first.body.alertId,
        workflowId: first.body.workflowId,
        duplicate: true,
      });
      expect(repeat.body).toEqual({ alertId: first.body.alertId, workflowId: first.body.workflowId, duplicate: true });
      const alert = await gateway.db.alert.findUniqueOrThrow({ where: { id: first.body.alertId } });
      expect(alert.occurrences).toBe(2);
      expect(resolved.body).toEqual({
        alertId: first.body.alertId,
        workflowId: first.body.workflowId,
        duplicate: false,
      });
      expect(okAgain.body).toMatchObject({ alertId: first.body.alertId, duplicate: true });
      const reports = await reportsSignalled(gateway, first.body.workflowId);
      expect(reports.map((report) => report.signal)).toEqual(['occurrence', 'occurrence', 'resolution']);
    });

    test('INSUFFICIENT_DATA is ignored (and said so) by default, and alerts where the endpoint asks for it', async () => {
      const alarm = loadFixture('cloudwatch/alarm-insufficient-data-metric-math.json');
      const quiet = await teamWith({});
      const strict = await teamWith({ insufficientData: 'firing' });

      const ignored = await deliver(quiet.token, alarmNotification(alarm)).expect(202);
      const alerted = await deliver(strict.token, alarmNotification(alarm)).expect(202);

      expect(ignored.body).toEqual({
        alertId: null,
        workflowId: null,
        duplicate: false,
        ignored: expect.stringMatching(/INSUFFICIENT_DATA/),
      });
      expect(await gateway.db.alert.count({ where: { teamId: quiet.id } })).toBe(0);
      expect(alerted.body.duplicate).toBe(false);
      const alert = await gateway.db.alert.findUniqueOrThrow({ where: { id: alerted.body.alertId } });
      expect(alert).toMatchObject({ title: 'orders queue backlog per consumer', severity: 'warning' });
    });

    test('a plain-text message from any publisher becomes an alert titled by its Subject', async () => {
      const response = await deliver(team.token, signed('notification-plain-text')).expect(202);

      const alert = await gateway.db.alert.findUniqueOrThrow({ where: { id: response.body.alertId } });
      expect(alert).toMatchObject({ source: 'sns', title: snsFixture('notification-plain-text').Subject });
    });
  });

  describe('refusals', () => {
    test('a forged signature is 401 and records nothing', async () => {
      const ours = await teamWith({});
      const forged = signed('notification-cloudwatch-alarm', {}, { key: forgerKey() });

      const response = await deliver(ours.token, forged).expect(401);

      expect(response.body.error).toMatch(/signature/);
      expect(await gateway.db.alert.count({ where: { teamId: ours.id } })).toBe(0);
    });

    test('a Message changed after signing is 401', async () => {
      const ours = await teamWith({});
      const tampered = signed('notification-cloudwatch-alarm');
      tampered.Message = tampered.Message!.replace('"NewStateValue":"ALARM"', '"NewStateValue":"OK"');

      await deliver(ours.token, tampered).expect(401);

      expect(await gateway.db.alert.count({ where: { teamId: ours.id } })).toBe(0);
    });

    test.each([
      ['a look-alike host', 'https://sns.eu-west-1.amazonaws.com.evil.example/SimpleNotificationService-x.pem'],
      ['plain http', 'http://sns.eu-west-1.amazonaws.com/SimpleNotificationService-x.pem'],
      ['an S3 bucket', 'https://s3.amazonaws.com/attacker/SimpleNotificationService-x.pem'],
      ['user-info before the host', 'https://sns.eu-west-1.amazonaws.com@evil.example/cert.pem'],
    ])('a certificate URL on %s is 401 and is never fetched', async (_case, certificateUrl) => {
      const envelope = signed('notification-cloudwatch-alarm', { SigningCertURL: certificateUrl });

      const response = await deliver(team.token, envelope).expect(401);

      expect(response.body.error).toMatch(/SigningCertURL/);
      expect(certificates.requestedUrls).not.toContain(certificateUrl);
    });

    test('an unknown token is 404 before any verification: no certificate is fetched', async () => {
      const certificateUrl = `https://sns.us-east-1.amazonaws.com/SimpleNotificationService-${randomUUID()}.pem`;
      const envelope = signed('notification-cloudwatch-alarm', { SigningCertURL: certificateUrl });

      const response = await deliver('A'.repeat(43), envelope).expect(404);

      expect(response.body).toEqual({ error: 'unknown endpoint token' });
      expect(certificates.requestedUrls).not.toContain(certificateUrl);
    });

    test('a topic outside the endpoint allow-list is 403, for notifications and confirmations alike', async () => {
      const ours = await teamWith({ allowedTopicArns: ['arn:aws:sns:*:123456789012:payments-*'] });
      const before = confirmedUrls.length;

      const notification = await deliver(ours.token, signed('notification-cloudwatch-alarm')).expect(403);
      await deliver(ours.token, signed('subscription-confirmation')).expect(403);

      expect(notification.body.error).toContain(TOPIC_ARN);
      expect(confirmedUrls).toHaveLength(before);
      expect(await gateway.db.alert.count({ where: { teamId: ours.id } })).toBe(0);
    });

    test('a topic on the allow-list passes', async () => {
      const ours = await teamWith({ allowedTopicArns: ['arn:aws:sns:*:123456789012:escalator-*'] });

      await deliver(ours.token, signed('notification-cloudwatch-alarm')).expect(202);
    });

    test('truncated JSON is 400, and so is a body that is not an SNS envelope', async () => {
      const truncated = JSON.stringify(signed('notification-cloudwatch-alarm')).slice(0, 200);

      const broken = await deliver(team.token, truncated).expect(400);
      const notSns = await deliver(team.token, JSON.stringify({ title: 'Disk full' })).expect(400);

      expect(broken.body.error).toMatch(/not JSON/);
      expect(notSns.body.error).toMatch(/not a signed SNS envelope/);
    });

    test('a body over the limit is 413', async () => {
      const huge = signed('notification-plain-text', { Message: 'x'.repeat(600 * 1024) });

      const response = await deliver(team.token, huge).expect(413);

      expect(response.body.error).toMatch(/larger than the limit/);
    });

    test('a certificate that cannot be fetched is 503, so that SNS delivers again', async () => {
      const outage = createTestGateway({
        snsVerifier: createSnsVerifier({ fetchCertificate: () => Promise.reject(new Error('connect ETIMEDOUT')) }),
      });
      try {
        const ours = await registerTeam(outage);
        const response = await request(outage.app)
          .post(`/sns/${ours.token}`)
          .set('Content-Type', 'text/plain; charset=UTF-8')
          .send(JSON.stringify(signed('notification-cloudwatch-alarm')))
          .expect(503);

        expect(response.body.error).toMatch(/retry later/);
        expect(await outage.db.alert.count({ where: { teamId: ours.id } })).toBe(0);
      } finally {
        await outage.close();
      }
    });

    test('POST /api/teams refuses an allow-list entry that is not an SNS topic ARN', async () => {
      const response = await request(gateway.app)
        .post('/api/teams')
        .set(gateway.adminAuth)
        .send({
          name: randomTeamName(),
          slackChannelId: 'C0OPS',
          engineers: ['U0ALICE'],
          allowedTopicArns: ['escalator-alarms'],
        })
        .expect(400);

      expect(response.body.error).toMatch(/^allowedTopicArns\.0: must be an SNS topic ARN/);
    });
  });

  describe('subscriptions', () => {
    test('a verified SubscriptionConfirmation is confirmed with AWS and shown to the team as a notice', async () => {
      const ours = await teamWith({});
      const confirmation = signed('subscription-confirmation');

      const response = await deliver(ours.token, confirmation).expect(200);

      expect(response.body).toEqual({ confirmed: TOPIC_ARN });
      expect(confirmedUrls).toContain(confirmation.SubscribeURL);
      const notice = await gateway.db.alert.findFirstOrThrow({ where: { teamId: ours.id } });
      expect(notice).toMatchObject({
        title: 'SNS subscription confirmed: escalator-alarms',
        severity: 'info',
        source: 'sns',
      });
      expect(await signalNames(gateway, notice.workflowId)).toEqual(['occurrence', 'resolution']);
    });

    test('a redelivered confirmation posts no second notice', async () => {
      const ours = await teamWith({});
      const confirmation = signed('subscription-confirmation');

      await deliver(ours.token, confirmation).expect(200);
      await deliver(ours.token, confirmation).expect(200);

      const notices = await gateway.db.alert.findMany({ where: { teamId: ours.id } });
      expect(notices).toHaveLength(1);
      expect(notices[0]!.occurrences).toBe(1);
    });

    test('a SubscribeURL on a host that is not SNS is never fetched, even when the signature holds', async () => {
      const ours = await teamWith({});
      const hostile = signed('subscription-confirmation', {
        SubscribeURL: `http://169.254.169.254/latest/meta-data/?Action=ConfirmSubscription&TopicArn=${TOPIC_ARN}&Token=x`,
      });

      const response = await deliver(ours.token, hostile).expect(401);

      expect(response.body.error).toMatch(/SubscribeURL/);
      expect(confirmedUrls).not.toContain(hostile.SubscribeURL);
      expect(await gateway.db.alert.count({ where: { teamId: ours.id } })).toBe(0);
    });

    test('a forged confirmation is 401 and its SubscribeURL is never fetched', async () => {
      const subscribeUrl = `https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${TOPIC_ARN}&Token=${randomUUID()}`;
      const forged = signed('subscription-confirmation', { SubscribeURL: subscribeUrl }, { key: forgerKey() });

      await deliver(team.token, forged).expect(401);

      expect(confirmedUrls).not.toContain(forged.SubscribeURL);
    });

    test('AWS failing to confirm is 503 (SNS sends the confirmation again) and shows nothing yet', async () => {
      const ours = await teamWith({});
      confirmationStatus = 503;

      await deliver(ours.token, signed('subscription-confirmation')).expect(503);

      expect(await gateway.db.alert.count({ where: { teamId: ours.id } })).toBe(0);
    });

    test('an UnsubscribeConfirmation is recorded as a notice, and its SubscribeURL is not visited', async () => {
      const ours = await teamWith({});
      const unsubscribed = signed('unsubscribe-confirmation');
      const before = confirmedUrls.length;

      const response = await deliver(ours.token, unsubscribed).expect(200);

      expect(response.body).toEqual({ unsubscribed: TOPIC_ARN });
      expect(confirmedUrls).toHaveLength(before);
      const notice = await gateway.db.alert.findFirstOrThrow({ where: { teamId: ours.id } });
      expect(notice.title).toBe('SNS subscription ended: escalator-alarms');
    });
  });

  describe('raw message delivery (no signed envelope)', () => {
    const alarm = JSON.parse(snsFixture('notification-cloudwatch-alarm').Message!) as Record<string, unknown>;

    test('is refused with 400 naming the problem where the endpoint does not allow it', async () => {
      const ours = await teamWith({});

      const response = await deliver(ours.token, JSON.stringify(alarm), { 'x-amz-sns-rawdelivery': 'true' }).expect(
        400
      );

      expect(response.body.error).toMatch(/raw message delivery cannot be verified/);
      expect(await gateway.db.alert.count({ where: { teamId: ours.id } })).toBe(0);
    });

    test('is taken as a webhook where the endpoint allows it, and a redelivery acts once', async () => {
      const ours = await teamWith({ allowRawDelivery: true });
      const messageId = randomUUID();
      const headers = { 'x-amz-sns-rawdelivery': 'true', 'x-amz-sns-message-id': messageId };

      const first = await deliver(ours.token, JSON.stringify(alarm), headers).expect(202);
      const again = await deliver(ours.token, JSON.stringify(alarm), headers).expect(202);

      expect(first.body.duplicate).toBe(false);
      expect(again.body).toMatchObject({ alertId: first.body.alertId, duplicate: true });
      const alert = await gateway.db.alert.findUniqueOrThrow({ where: { id: first.body.alertId } });
      expect(alert).toMatchObject({ fingerprint: ALARM_ARN, occurrences: 1 });
    });

    test('a signed envelope still goes through verification on an endpoint that allows raw delivery', async () => {
      const ours = await teamWith({ allowRawDelivery: true });

      await deliver(ours.token, signed('notification-cloudwatch-alarm', {}, { key: forgerKey() })).expect(401);
    });
  });
});

describe('POST /sns/:token while Temporal is unreachable', () => {
  let gateway: TestGateway;
  let team: RegisteredTeam;

  beforeAll(async () => {
    gateway = createTestGateway({
      temporalAddress: CLOSED_PORT_ADDRESS,
      snsVerifier: createSnsVerifier({ fetchCertificate: recordingCertificateFetcher().fetchCertificate }),
    });
    team = await registerTeam(gateway);
  });

  afterAll(async () => {
    await gateway?.close();
  });

  test('a notification is 503 (SNS retries) and nothing is kept, so the retry is not taken for a redelivery', async () => {
    const message = signed('notification-cloudwatch-alarm');

    await request(gateway.app)
      .post(`/sns/${team.token}`)
      .set('Content-Type', 'text/plain; charset=UTF-8')
      .send(JSON.stringify(message))
      .expect(503);

    expect(await gateway.db.alert.count({ where: { teamId: team.id } })).toBe(0);
    expect(await gateway.db.delivery.count({ where: { endpoint: { teamId: team.id } } })).toBe(0);
  });
});
