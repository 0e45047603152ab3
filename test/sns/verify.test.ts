import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  SnsFormatError,
  SnsTopicNotAllowedError,
  SnsUnavailableError,
  SnsVerificationError,
} from '../../src/sns/errors';
import { loadFixture } from '../fixtures';
import { checkTopicAllowed, createSnsVerifier, fetchSnsCertificate } from '../../src/sns/verify';
import {
  forgerKey,
  recordingCertificateFetcher,
  signSnsEnvelope,
  snsFixture,
  testSigningCertificate,
  type SnsFixtureName,
} from '../helpers/sns';

const ENVELOPES: SnsFixtureName[] = [
  'subscription-confirmation',
  'unsubscribe-confirmation',
  'notification-cloudwatch-alarm',
  'notification-plain-text',
  'notification-plain-text-no-subject',
];

function withoutField(envelope: Record<string, string>, name: string): Record<string, string> {
  const copy = { ...envelope };
  delete copy[name];
  return copy;
}

describe('SNS message verification', () => {
  describe.each(['1', '2'] as const)('SignatureVersion %s', (signatureVersion) => {
    it.each(ENVELOPES)('accepts a genuine %s', async (fixture) => {
      const { fetchCertificate } = recordingCertificateFetcher();
      const envelope = signSnsEnvelope(snsFixture(fixture), { signatureVersion });

      const message = await createSnsVerifier({ fetchCertificate }).verify(envelope);

      expect(message.Type).toBe(envelope.Type);
      expect(message.MessageId).toBe(envelope.MessageId);
      expect(message.Message).toBe(envelope.Message);
    });
  });

  it('accepts the raw body text, as SNS posts JSON as text/plain', async () => {
    const { fetchCertificate } = recordingCertificateFetcher();
    const raw = JSON.stringify(signSnsEnvelope(snsFixture('notification-cloudwatch-alarm')));

    const message = await createSnsVerifier({ fetchCertificate }).verify(raw);

    expect(message.TopicArn).toBe('arn:aws:sns:eu-west-1:123456789012:escalator-alarms');
  });

  it('refuses a message signed with a key that is not the certificate’s', async () => {
    const { fetchCertificate } = recordingCertificateFetcher();
    const forged = signSnsEnvelope(snsFixture('notification-cloudwatch-alarm'), { key: forgerKey() });

    await expect(createSnsVerifier({ fetchCertificate }).verify(forged)).rejects.toThrow(
      new SnsVerificationError('signature does not match the message')
    );
  });

  it('refuses a signed message whose Message was changed afterwards', async () => {
    const { fetchCertificate } = recordingCertificateFetcher();
    const envelope = signSnsEnvelope(snsFixture('notification-cloudwatch-alarm'));
    const tampered = { ...envelope, Message: envelope.Message!.replace('"ALARM"', '"OK"') };

    await expect(createSnsVerifier({ fetchCertificate }).verify(tampered)).rejects.toThrow(
      new SnsVerificationError('signature does not match the message')
    );
  });

  it('refuses a signed message that gained a Subject or a different SubscribeURL afterwards', async () => {
    const { fetchCertificate } = recordingCertificateFetcher();
    const verifier = createSnsVerifier({ fetchCertificate });
    const notification = signSnsEnvelope(snsFixture('notification-plain-text-no-subject'));
    const confirmation = signSnsEnvelope(snsFixture('subscription-confirmation'));

    await expect(verifier.verify({ ...notification, Subject: 'Injected' })).rejects.toThrow(/signature does not match/);
    await expect(
      verifier.verify({ ...confirmation, SubscribeURL: 'https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe' })
    ).rejects.toThrow(/signature does not match/);
  });

  it('refuses a signature that is not base64 of anything', async () => {
    const { fetchCertificate } = recordingCertificateFetcher();
    const envelope = { ...signSnsEnvelope(snsFixture('notification-plain-text')), Signature: '!!!not-a-signature' };

    await expect(createSnsVerifier({ fetchCertificate }).verify(envelope)).rejects.toThrow(/signature does not match/);
  });

  it.each([
    ['plain http', 'http://sns.eu-west-1.amazonaws.com/SimpleNotificationService-abc.pem'],
    ['a foreign host', 'https://evil.example.com/SimpleNotificationService-abc.pem'],
    ['a look-alike suffix', 'https://sns.us-east-1.amazonaws.com.evil.com/SimpleNotificationService-abc.pem'],
    ['an S3 bucket', 'https://s3.amazonaws.com/sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem'],
    ['user-info before an SNS host', 'https://sns.us-east-1.amazonaws.com@evil.com/SimpleNotificationService-abc.pem'],
    [
      'user-info before the real host',
      'https://evil.com@sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem',
    ],
    ['a backslash trick', 'https://sns.us-east-1.amazonaws.com\\@evil.com/SimpleNotificationService-abc.pem'],
    ['an explicit port', 'https://sns.us-east-1.amazonaws.com:8443/SimpleNotificationService-abc.pem'],
    ['even port 443', 'https://sns.us-east-1.amazonaws.com:443/SimpleNotificationService-abc.pem'],
    ['a path not ending in .pem', 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.txt'],
    ['.pem only in the query', 'https://sns.us-east-1.amazonaws.com/cert?x=.pem'],
    ['a trailing-dot host', 'https://sns.us-east-1.amazonaws.com./SimpleNotificationService-abc.pem'],
    ['a host that is not a region', 'https://sns.evil.amazonaws.com/SimpleNotificationService-abc.pem'],
    ['not a URL', 'SimpleNotificationService-abc.pem'],
  ])('refuses a SigningCertURL on %s without fetching it', async (_, url) => {
    const { fetchCertificate, requestedUrls } = recordingCertificateFetcher();
    const envelope = signSnsEnvelope({ ...snsFixture('notification-cloudwatch-alarm'), SigningCertURL: url });

    await expect(createSnsVerifier({ fetchCertificate }).verify(envelope)).rejects.toThrow(
      new SnsVerificationError('SigningCertURL is not an https .pem URL on an SNS host')
    );
    expect(requestedUrls).toEqual([]);
  });

  it('accepts certificates from the China regions’ SNS hosts', async () => {
    const { fetchCertificate, requestedUrls } = recordingCertificateFetcher();
    const url = 'https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-abc.pem';
    const envelope = signSnsEnvelope({ ...snsFixture('notification-plain-text'), SigningCertURL: url });

    await createSnsVerifier({ fetchCertificate }).verify(envelope);

    expect(requestedUrls).toEqual([url]);
  });

  it('refuses a message older than an hour without fetching the certificate', async () => {
    const { fetchCertificate, requestedUrls } = recordingCertificateFetcher();
    const sentAt = new Date(Date.now() - 61 * 60 * 1000);
    const envelope = signSnsEnvelope(snsFixture('notification-cloudwatch-alarm'), { timestamp: sentAt });

    await expect(createSnsVerifier({ fetchCertificate }).verify(envelope)).rejects.toThrow(/too old/);
    expect(requestedUrls).toEqual([]);
  });

  it('accepts a redelivery 59 minutes old, and honours a shorter maxAgeMs', async () => {
    const { fetchCertificate } = recordingCertificateFetcher();
    const envelope = signSnsEnvelope(snsFixture('notification-cloudwatch-alarm'), {
      timestamp: new Date(Date.now() - 59 * 60 * 1000),
    });

    await expect(createSnsVerifier({ fetchCertificate }).verify(envelope)).resolves.toBeDefined();
    await expect(createSnsVerifier({ fetchCertificate, maxAgeMs: 60_000 }).verify(envelope)).rejects.toThrow(
      SnsVerificationError
    );
  });

  it('reads the age from the injected clock', async () => {
    const { fetchCertificate } = recordingCertificateFetcher();
    const sentAt = new Date('2030-01-01T00:00:00Z');
    const envelope = signSnsEnvelope(snsFixture('notification-plain-text'), { timestamp: sentAt });

    const verifyAt = (ms: number) => createSnsVerifier({ fetchCertificate, now: () => ms }).verify(envelope);

    await expect(verifyAt(sentAt.getTime() + 30_000)).resolves.toBeDefined();
    await expect(verifyAt(sentAt.getTime() + 2 * 60 * 60 * 1000)).rejects.toThrow(/too old/);
  });

  it('refuses a message dated more than five minutes in the future', async () => {
    const { fetchCertificate, requestedUrls } = recordingCertificateFetcher();
    const envelope = signSnsEnvelope(snsFixture('notification-plain-text'), {
      timestamp: new Date(Date.now() + 10 * 60 * 1000),
    });

    await expect(createSnsVerifier({ fetchCertificate }).verify(envelope)).rejects.toThrow(/in the future/);
    expect(requestedUrls).toEqual([]);
  });

  it('refuses a certificate that has expired by the time of the message', async () => {
    const { fetchCertificate } = recordingCertificateFetcher();
    const farFuture = new Date('2200-01-01T00:00:00Z');
    const envelope = signSnsEnvelope(snsFixture('notification-plain-text'), { timestamp: farFuture });

    await expect(
      createSnsVerifier({ fetchCertificate, now: () => farFuture.getTime() }).verify(envelope)
    ).rejects.toThrow(new SnsVerificationError('the signing certificate is not valid now'));
  });

  it('refuses an unknown SignatureVersion', async () => {
    const { fetchCertificate, requestedUrls } = recordingCertificateFetcher();
    const envelope = { ...signSnsEnvelope(snsFixture('notification-plain-text')), SignatureVersion: '3' };

    await expect(createSnsVerifier({ fetchCertificate }).verify(envelope)).rejects.toThrow(
      new SnsVerificationError('SignatureVersion 3 is not supported')
    );
    expect(requestedUrls).toEqual([]);
  });

  it.each([
    ['a body that is not JSON', 'not json at all'],
    ['a JSON array', '[]'],
    ['a CloudWatch alarm posted with raw message delivery', loadFixture('cloudwatch/alarm-state-alarm.json')],
    ['an unknown Type', { ...snsFixture('notification-plain-text'), Type: 'Surprise' }],
    ['a confirmation without its Token', withoutField(snsFixture('subscription-confirmation'), 'Token')],
    ['a Message that is not a string', { ...snsFixture('notification-plain-text'), Message: { nested: true } }],
  ])('answers %s with a format error', async (_, body) => {
    const { fetchCertificate, requestedUrls } = recordingCertificateFetcher();

    await expect(createSnsVerifier({ fetchCertificate }).verify(body)).rejects.toThrow(SnsFormatError);
    expect(requestedUrls).toEqual([]);
  });

  it('names what is missing in a format error', async () => {
    const withoutToken = withoutField(snsFixture('subscription-confirmation'), 'Token');

    await expect(createSnsVerifier().verify(withoutToken)).rejects.toThrow(/Token/);
  });

  it('fetches each certificate once and reuses it', async () => {
    const { fetchCertificate, requestedUrls } = recordingCertificateFetcher();
    const verifier = createSnsVerifier({ fetchCertificate });

    await Promise.all([
      verifier.verify(signSnsEnvelope(snsFixture('notification-cloudwatch-alarm'))),
      verifier.verify(signSnsEnvelope(snsFixture('notification-cloudwatch-ok'))),
    ]);
    await verifier.verify(signSnsEnvelope(snsFixture('notification-plain-text')));

    expect(requestedUrls).toEqual([
      'https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem',
    ]);
  });

  it('keeps a bounded number of certificates, forgetting the least recently used', async () => {
    const { fetchCertificate, requestedUrls } = recordingCertificateFetcher();
    const verifier = createSnsVerifier({ fetchCertificate, certificateCacheSize: 2 });
    const signedWithCertAt = (region: string) =>
      signSnsEnvelope({
        ...snsFixture('notification-plain-text'),
        SigningCertURL: `https://sns.${region}.amazonaws.com/SimpleNotificationService-abc.pem`,
      });

    for (const region of ['eu-west-1', 'us-east-1', 'eu-west-1', 'ap-southeast-2', 'eu-west-1', 'us-east-1']) {
      await verifier.verify(signedWithCertAt(region));
    }

    expect(requestedUrls.map((url) => new URL(url).hostname)).toEqual([
      'sns.eu-west-1.amazonaws.com',
      'sns.us-east-1.amazonaws.com',
      'sns.ap-southeast-2.amazonaws.com',
      'sns.us-east-1.amazonaws.com',
    ]);
  });

  it('answers a certificate download that hangs with a retryable error, and aborts it', async () => {
    let aborted = false;
    const verifier = createSnsVerifier({
      certificateTimeoutMs: 50,
      fetchCertificate: (_url, { signal }) =>
        new Promise<string>(() => signal.addEventListener('abort', () => (aborted = true))),
    });

    await expect(verifier.verify(signSnsEnvelope(snsFixture('notification-plain-text')))).rejects.toThrow(
      new SnsUnavailableError('fetching the signing certificate timed out after 50 ms')
    );
    expect(aborted).toBe(true);
  });

  it('remembers a failed download briefly: a flood naming it fetches once, a delivery after the pause fetches again', async () => {
    const requested: string[] = [];
    let clock = Date.now();
    const verifier = createSnsVerifier({
      now: () => clock,
      failedCertificateTtlMs: 30_000,
      fetchCertificate: (url) => {
        requested.push(url);
        return requested.length === 1
          ? Promise.reject(new Error('socket hang up'))
          : Promise.resolve(testSigningCertificate);
      },
    });
    const envelope = signSnsEnvelope(snsFixture('notification-plain-text'));

    for (let i = 0; i < 50; i++) await expect(verifier.verify(envelope)).rejects.toThrow(SnsUnavailableError);
    expect(requested).toHaveLength(1);

    clock += 31_000;
    await expect(verifier.verify(envelope)).resolves.toBeDefined();
    expect(requested).toHaveLength(2);
  });

  it('bounds certificate downloads: forged messages naming ever new .pem URLs stop costing requests', async () => {
    const { fetchCertificate, requestedUrls } = recordingCertificateFetcher();
    const verifier = createSnsVerifier({ fetchCertificate, certificateDownloadsPerMinute: 5 });
    const outcomes: string[] = [];
    const key = forgerKey();

    for (let i = 0; i < 40; i++) {
      const forged = signSnsEnvelope(
        {
          ...snsFixture('notification-plain-text'),
          SigningCertURL: `https://sns.us-east-1.amazonaws.com/SimpleNotificationService-forged${i}.pem`,
        },
        { key }
      );
      outcomes.push(
        await verifier.verify(forged).then(
          () => 'verified',
          (error: Error) => error.name
        )
      );
    }

    expect(requestedUrls).toHaveLength(5);
    expect(outcomes.slice(0, 5).every((outcome) => outcome === 'SnsVerificationError')).toBe(true);
    expect(outcomes.slice(5).every((outcome) => outcome === 'SnsUnavailableError')).toBe(true);
  });

  it('keeps a certificate that verified a message while forged messages name 40 other certificate URLs', async () => {
    const { fetchCertificate, requestedUrls } = recordingCertificateFetcher();
    const verifier = createSnsVerifier({ fetchCertificate });
    const genuineUrl = snsFixture('notification-plain-text').SigningCertURL!;
    await verifier.verify(signSnsEnvelope(snsFixture('notification-plain-text')), { budgetKey: 'ours' });
    const key = forgerKey();

    for (let i = 0; i < 40; i++) {
      const forged = signSnsEnvelope(
        {
          ...snsFixture('notification-plain-text'),
          SigningCertURL: `https://sns.us-east-1.amazonaws.com/SimpleNotificationService-evict${i}.pem`,
        },
        { key }
      );
      await verifier.verify(forged, { budgetKey: `forger-${i % 4}` }).catch(() => undefined);
    }
    // The genuine certificate is still known: no new download, whatever the forgers' budgets.
    await expect(
      verifier.verify(signSnsEnvelope(snsFixture('notification-cloudwatch-alarm')), { budgetKey: 'ours' })
    ).resolves.toBeDefined();

    expect(requestedUrls.filter((url) => url === genuineUrl)).toHaveLength(1);
  });

  it("budgets downloads per endpoint: one endpoint's flood of forged URLs does not stop another's first download", async () => {
    const { fetchCertificate, requestedUrls } = recordingCertificateFetcher();
    const verifier = createSnsVerifier({ fetchCertificate, certificateDownloadsPerMinute: 5 });
    const key = forgerKey();

    for (let i = 0; i < 20; i++) {
      const forged = signSnsEnvelope(
        {
          ...snsFixture('notification-plain-text'),
          SigningCertURL: `https://sns.us-east-1.amazonaws.com/SimpleNotificationService-flood${i}.pem`,
        },
        { key }
      );
      await verifier.verify(forged, { budgetKey: 'endpoint-a' }).catch(() => undefined);
    }

    await expect(
      verifier.verify(signSnsEnvelope(snsFixture('notification-plain-text')), { budgetKey: 'endpoint-b' })
    ).resolves.toBeDefined();
    expect(requestedUrls).toHaveLength(6);
  });

  it('refuses a certificate URL that serves something other than a certificate', async () => {
    const verifier = createSnsVerifier({ fetchCertificate: () => Promise.resolve('<html>Not Found</html>') });

    await expect(verifier.verify(signSnsEnvelope(snsFixture('notification-plain-text')))).rejects.toThrow(
      new SnsVerificationError('the signing certificate is not a PEM certificate')
    );
  });
});

describe('fetchSnsCertificate, the default certificate download', () => {
  let server: Server;
  let base: string;

  beforeAll(async () => {
    server = createServer((request, response) => {
      if (request.url === '/cert.pem') return void response.end(testSigningCertificate);
      if (request.url === '/missing.pem') return void response.writeHead(404).end('Not Found');
      if (request.url === '/busy.pem') return void response.writeHead(503).end('Slow Down');
      if (request.url === '/moved.pem') return void response.writeHead(302, { location: '/cert.pem' }).end();
      response.writeHead(200, { 'content-length': String(100 * 1024) }).end('x'.repeat(100 * 1024));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const download = (path: string) => fetchSnsCertificate(`${base}${path}`, { signal: AbortSignal.timeout(5_000) });

  it('returns the PEM text', async () => {
    await expect(download('/cert.pem')).resolves.toBe(testSigningCertificate);
  });

  it('treats a 404 as a certificate that does not exist', async () => {
    await expect(download('/missing.pem')).rejects.toThrow(
      new SnsVerificationError('the signing certificate URL answered HTTP 404')
    );
  });

  it('treats a 503 as AWS being unavailable, so that SNS retries', async () => {
    await expect(download('/busy.pem')).rejects.toThrow(SnsUnavailableError);
  });

  it('does not follow redirects, which could lead anywhere', async () => {
    await expect(download('/moved.pem')).rejects.toThrow();
  });

  it('refuses an oversized answer', async () => {
    await expect(download('/huge.pem')).rejects.toThrow(
      new SnsVerificationError('the signing certificate is too large')
    );
  });
});

describe('checkTopicAllowed', () => {
  const message = { TopicArn: 'arn:aws:sns:eu-west-1:123456789012:escalator-alarms' };

  it('allows any topic when the list is empty', () => {
    expect(() => checkTopicAllowed(message, [])).not.toThrow();
  });

  it('allows a listed topic and an account-wide pattern', () => {
    expect(() => checkTopicAllowed(message, ['arn:aws:sns:eu-west-1:123456789012:escalator-alarms'])).not.toThrow();
    expect(() => checkTopicAllowed(message, ['arn:aws:sns:*:123456789012:*'])).not.toThrow();
  });

  it('refuses a topic that is not listed, as an authenticity failure', () => {
    const check = () =>
      checkTopicAllowed(message, ['arn:aws:sns:eu-west-1:123456789012:other', 'arn:aws:sns:*:999999999999:*']);

    expect(check).toThrow(SnsTopicNotAllowedError);
    expect(check).toThrow(SnsVerificationError);
    expect(check).toThrow('topic arn:aws:sns:eu-west-1:123456789012:escalator-alarms is not allowed on this endpoint');
  });

  it('does not let a wildcard reach across ARN parts', () => {
    expect(() => checkTopicAllowed(message, ['arn:aws:sns:eu-west-1:*'])).toThrow(SnsTopicNotAllowedError);
  });
});
