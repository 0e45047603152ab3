/**
 * Our verifier signs-checks with node:crypto rather than through AWS's `sns-validator`, whose
 * certificate download cannot be injected (see src/sns/verify.ts). This file runs the real
 * sns-validator over the same messages, its certificate served over real TLS on loopback, to
 * prove the two agree on what AWS signed.
 */
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import MessageValidator from 'sns-validator';
import { createSnsVerifier } from '../../src/sns/verify';
import {
  recordingCertificateFetcher,
  signSnsEnvelope,
  snsFixture,
  testSigningCertificate,
  testSigningKey,
  type SnsEnvelope,
  type SnsFixtureName,
} from '../helpers/sns';

/** Sends every HTTPS connection to the loopback server, keeping the SNS host name for TLS. */
class LoopbackAgent extends https.Agent {
  constructor(private readonly port: number) {
    super({ ca: testSigningCertificate, keepAlive: false });
  }

  override createConnection(options: https.RequestOptions): ReturnType<typeof tls.connect> {
    return tls.connect({ ...(options as tls.ConnectionOptions), host: '127.0.0.1', port: this.port });
  }
}

let certificateServer: https.Server;
let originalAgent: https.Agent;
const servedPaths: string[] = [];

beforeAll(async () => {
  certificateServer = https.createServer({ key: testSigningKey, cert: testSigningCertificate }, (request, response) => {
    servedPaths.push(request.url ?? '');
    response.end(testSigningCertificate);
  });
  await new Promise<void>((resolve) => certificateServer.listen(0, '127.0.0.1', resolve));
  // sns-validator downloads with a bare https.get, which uses the global agent.
  originalAgent = https.globalAgent;
  https.globalAgent = new LoopbackAgent((certificateServer.address() as AddressInfo).port);
});

afterAll(async () => {
  https.globalAgent = originalAgent;
  await new Promise((resolve) => certificateServer.close(resolve));
});

/** sns-validator's verdict: 'accepted', or its error message. */
function snsValidatorVerdict(envelope: SnsEnvelope): Promise<string> {
  return new Promise((resolve) =>
    new MessageValidator().validate({ ...envelope }, (error) => resolve(error ? error.message : 'accepted'))
  );
}

async function oursAccepts(envelope: SnsEnvelope): Promise<boolean> {
  const { fetchCertificate } = recordingCertificateFetcher();
  return createSnsVerifier({ fetchCertificate })
    .verify({ ...envelope })
    .then(
      () => true,
      () => false
    );
}

const AGREED: SnsFixtureName[] = [
  'subscription-confirmation',
  'notification-cloudwatch-alarm',
  'notification-eventbridge-guardduty',
  'notification-plain-text',
  'notification-plain-text-no-subject',
];

describe.each(['1', '2'] as const)('SignatureVersion %s', (signatureVersion) => {
  it.each(AGREED)('both accept a genuine %s', async (fixture) => {
    const envelope = signSnsEnvelope(snsFixture(fixture), { signatureVersion });

    expect(await snsValidatorVerdict(envelope)).toBe('accepted');
    expect(await oursAccepts(envelope)).toBe(true);
    expect(servedPaths.length).toBeGreaterThan(0);
  });

  it.each(AGREED)('both refuse a %s whose Message was changed after signing', async (fixture) => {
    const envelope = { ...signSnsEnvelope(snsFixture(fixture), { signatureVersion }), Message: 'changed' };

    expect(await snsValidatorVerdict(envelope)).toBe('The message signature is invalid.');
    expect(await oursAccepts(envelope)).toBe(false);
  });
});

it('sns-validator 0.3.5 refuses a genuine UnsubscribeConfirmation, which ours accepts as AWS documents it', async () => {
  const envelope = signSnsEnvelope(snsFixture('unsubscribe-confirmation'));

  expect(await snsValidatorVerdict(envelope)).toBe('The message signature is invalid.');
  expect(await oursAccepts(envelope)).toBe(true);
});
