import { SnsFormatError, SnsUnavailableError, SnsVerificationError } from '../../src/sns/errors';
import { parseSnsEnvelope, type SnsMessage } from '../../src/sns/message';
import { confirmSubscription, type SubscriptionConfirmer } from '../../src/sns/subscription';
import { createSnsVerifier } from '../../src/sns/verify';
import { recordingCertificateFetcher, signSnsEnvelope, snsFixture, type SnsFixtureName } from '../helpers/sns';

const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:escalator-alarms';

/** Verifies a signed fixture, with its fields overridden before signing. */
async function verified(fixture: SnsFixtureName, overrides: Record<string, string> = {}): Promise<SnsMessage> {
  const { fetchCertificate } = recordingCertificateFetcher();
  return createSnsVerifier({ fetchCertificate }).verify(signSnsEnvelope({ ...snsFixture(fixture), ...overrides }));
}

/** A stand-in for AWS's ConfirmSubscription endpoint that answers `status` and remembers what it was asked. */
function awsAnswering(status: number): { confirm: SubscriptionConfirmer; requestedUrls: string[] } {
  const requestedUrls: string[] = [];
  return {
    requestedUrls,
    confirm: (url) => {
      requestedUrls.push(url);
      return Promise.resolve({ status });
    },
  };
}

describe('confirmSubscription', () => {
  it('visits the SubscribeURL of a verified SubscriptionConfirmation', async () => {
    const message = await verified('subscription-confirmation');
    const aws = awsAnswering(200);

    const confirmed = await confirmSubscription(message, { fetch: aws.confirm });

    expect(confirmed).toEqual({ topicArn: TOPIC });
    expect(aws.requestedUrls).toEqual([(message as { SubscribeURL: string }).SubscribeURL]);
  });

  it('never visits the SubscribeURL of a message that was not verified', async () => {
    const unverified = parseSnsEnvelope(snsFixture('subscription-confirmation'));
    const aws = awsAnswering(200);

    await expect(confirmSubscription(unverified, { fetch: aws.confirm })).rejects.toThrow(
      new SnsVerificationError('the subscription confirmation has not been verified')
    );
    expect(aws.requestedUrls).toEqual([]);
  });

  it.each([
    ['on a non-AWS host', 'https://internal.example.com/?Action=ConfirmSubscription&TopicArn=' + TOPIC + '&Token=t'],
    ['on the metadata service', 'http://169.254.169.254/latest/meta-data/iam/security-credentials/'],
    [
      'over plain http on an SNS host',
      `http://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${TOPIC}&Token=t`,
    ],
    [
      'on a look-alike host',
      `https://sns.eu-west-1.amazonaws.com.evil.com/?Action=ConfirmSubscription&TopicArn=${TOPIC}&Token=t`,
    ],
    [
      'with user-info before the host',
      `https://sns.eu-west-1.amazonaws.com@evil.com/?Action=ConfirmSubscription&TopicArn=${TOPIC}&Token=t`,
    ],
    ['for another action', `https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${TOPIC}:abc`],
    [
      'for another topic',
      'https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:eu-west-1:999999999999:x&Token=t',
    ],
    ['without a token', `https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${TOPIC}`],
    [
      'on another path',
      `https://sns.eu-west-1.amazonaws.com/redirect?Action=ConfirmSubscription&TopicArn=${TOPIC}&Token=t`,
    ],
  ])('never visits a SubscribeURL %s, even in a correctly signed message', async (_, subscribeUrl) => {
    const message = await verified('subscription-confirmation', { SubscribeURL: subscribeUrl });
    const aws = awsAnswering(200);

    await expect(confirmSubscription(message, { fetch: aws.confirm })).rejects.toThrow(
      new SnsVerificationError('SubscribeURL is not an SNS ConfirmSubscription URL for this topic')
    );
    expect(aws.requestedUrls).toEqual([]);
  });

  it.each(['unsubscribe-confirmation', 'notification-plain-text'] as const)(
    'does not confirm anything for a %s',
    async (fixture) => {
      const message = await verified(fixture);
      const aws = awsAnswering(200);

      await expect(confirmSubscription(message, { fetch: aws.confirm })).rejects.toThrow(SnsFormatError);
      expect(aws.requestedUrls).toEqual([]);
    }
  );

  it('asks SNS to send the confirmation again when AWS answers 5xx', async () => {
    const message = await verified('subscription-confirmation');

    await expect(confirmSubscription(message, { fetch: awsAnswering(503).confirm })).rejects.toThrow(
      new SnsUnavailableError('AWS answered HTTP 503 to the confirmation')
    );
  });

  it('reports a confirmation AWS refuses, such as an expired token', async () => {
    const message = await verified('subscription-confirmation');

    await expect(confirmSubscription(message, { fetch: awsAnswering(403).confirm })).rejects.toThrow(
      new SnsVerificationError('AWS refused the confirmation (HTTP 403)')
    );
  });

  it('gives up on a confirmation that hangs, aborting the request', async () => {
    const message = await verified('subscription-confirmation');
    let aborted = false;
    const hanging: SubscriptionConfirmer = (_url, { signal }) =>
      new Promise(() => signal.addEventListener('abort', () => (aborted = true)));

    await expect(confirmSubscription(message, { fetch: hanging, timeoutMs: 50 })).rejects.toThrow(
      new SnsUnavailableError('confirming the subscription timed out after 50 ms')
    );
    expect(aborted).toBe(true);
  });

  it('turns a network failure into a retryable error', async () => {
    const message = await verified('subscription-confirmation');
    const failing: SubscriptionConfirmer = () => Promise.reject(new Error('getaddrinfo ENOTFOUND'));

    await expect(confirmSubscription(message, { fetch: failing })).rejects.toThrow(SnsUnavailableError);
  });
});
