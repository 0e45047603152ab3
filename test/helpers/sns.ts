/**
 * Builders for SNS envelopes signed the way AWS signs them, with the test identity under
 * test/fixtures/sns/. The string to sign is spelled out here from AWS's documentation, apart from
 * the code under test, so that a mistake in one is not mirrored in the other.
 */
import { createSign, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { loadFixture, loadFixtureText } from '../fixtures';

/** The test signing key and its self-signed certificate (PEM). */
export const testSigningKey = loadFixtureText('sns/test-signing-key.pem');
export const testSigningCertificate = loadFixtureText('sns/test-signing-cert.pem');

/** An SNS envelope as it travels: every value a string. */
export type SnsEnvelope = Record<string, string>;

export type SnsFixtureName =
  | 'subscription-confirmation'
  | 'unsubscribe-confirmation'
  | 'notification-cloudwatch-alarm'
  | 'notification-cloudwatch-ok'
  | 'notification-eventbridge-guardduty'
  | 'notification-plain-text'
  | 'notification-plain-text-no-subject';

/** A fresh copy of an envelope fixture, unsigned (its Signature is a placeholder). */
export function snsFixture(name: SnsFixtureName): SnsEnvelope {
  return loadFixture<SnsEnvelope>(`sns/${name}.json`);
}

export interface SignOptions {
  /** '1' = SHA1withRSA (a topic's default), '2' = SHA256withRSA. */
  signatureVersion?: '1' | '2';
  /** Defaults to now, so that the message is fresh. */
  timestamp?: Date;
  /** Sign with another key (a forger's). */
  key?: string | KeyObject;
}

const SIGNED_KEYS: Record<string, string[]> = {
  Notification: ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'],
  SubscriptionConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
  UnsubscribeConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
};

/** Returns a copy of `envelope` with a fresh Timestamp and a valid Signature from the test key. */
export function signSnsEnvelope(envelope: SnsEnvelope, options: SignOptions = {}): SnsEnvelope {
  const signatureVersion = options.signatureVersion ?? '1';
  const signed: SnsEnvelope = {
    ...envelope,
    Timestamp: (options.timestamp ?? new Date()).toISOString(),
    SignatureVersion: signatureVersion,
  };
  const keys = SIGNED_KEYS[signed.Type!];
  if (!keys) throw new Error(`cannot sign an envelope of Type ${signed.Type}`);
  const stringToSign = keys
    .filter((key) => signed[key] !== undefined)
    .map((key) => `${key}\n${signed[key]}\n`)
    .join('');
  signed.Signature = createSign(signatureVersion === '1' ? 'RSA-SHA1' : 'RSA-SHA256')
    .update(stringToSign, 'utf8')
    .sign(options.key ?? testSigningKey, 'base64');
  return signed;
}

/** A private key nobody trusts: what a forger signs with. */
export function forgerKey(): KeyObject {
  return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
}

/** A certificate fetcher that serves the test certificate and remembers every URL it was asked for. */
export function recordingCertificateFetcher(certificate = testSigningCertificate): {
  fetchCertificate: (url: string, options: { signal: AbortSignal }) => Promise<string>;
  requestedUrls: string[];
} {
  const requestedUrls: string[] = [];
  return {
    requestedUrls,
    fetchCertificate: (url) => {
      requestedUrls.push(url);
      return Promise.resolve(certificate);
    },
  };
}
