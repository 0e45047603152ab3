/** The SNS HTTP(S) envelope: its three message types, how to read one, and what AWS signed. */
import { z } from 'zod';
import { SnsFormatError } from './errors';

const envelopeFields = {
  MessageId: z.string().min(1),
  TopicArn: z.string().min(1),
  Message: z.string(),
  Timestamp: z.string().min(1),
  SignatureVersion: z.string().min(1),
  Signature: z.string().min(1),
  SigningCertURL: z.string().min(1),
};

const notificationSchema = z.object({
  Type: z.literal('Notification'),
  ...envelopeFields,
  // HTTP deliveries omit Subject when there is none; Lambda's copy of the same envelope says null.
  Subject: z
    .string()
    .nullish()
    .transform((subject) => subject ?? undefined),
  UnsubscribeURL: z.string().optional(),
  MessageAttributes: z.record(z.string(), z.unknown()).optional(),
});

const confirmationSchema = z.object({
  Type: z.enum(['SubscriptionConfirmation', 'UnsubscribeConfirmation']),
  ...envelopeFields,
  Token: z.string().min(1),
  SubscribeURL: z.string().min(1),
});

const envelopeSchema = z.discriminatedUnion('Type', [notificationSchema, confirmationSchema]);

export type SnsNotification = z.infer<typeof notificationSchema>;
export type SnsConfirmation = z.infer<typeof confirmationSchema>;
/** An SNS envelope as AWS sends it to an HTTP(S) subscriber, any of its three types. */
export type SnsMessage = z.infer<typeof envelopeSchema>;
export type SnsMessageType = SnsMessage['Type'];

/**
 * Reads an SNS envelope from a request body: the raw text (SNS sends JSON as text/plain) or an
 * already parsed object. Throws SnsFormatError naming what is missing; checks nothing about
 * authenticity.
 */
export function parseSnsEnvelope(body: unknown): SnsMessage {
  let value = body;
  if (Buffer.isBuffer(value)) value = value.toString('utf8');
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value) as unknown;
    } catch {
      throw new SnsFormatError('body is not JSON: an SNS envelope was expected');
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SnsFormatError('body is not an SNS envelope');
  }
  if (!('Type' in value) || !('Signature' in value)) {
    // What raw message delivery looks like: the publisher's message without AWS's signed envelope.
    throw new SnsFormatError(
      'body is not a signed SNS envelope (no Type or Signature); raw message delivery cannot be verified, turn it off'
    );
  }
  const parsed = envelopeSchema.safeParse(value);
  if (!parsed.success) {
    throw new SnsFormatError(
      parsed.error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`).join('; ')
    );
  }
  return parsed.data;
}

const NOTIFICATION_SIGNED_KEYS = ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'] as const;
const CONFIRMATION_SIGNED_KEYS = [
  'Message',
  'MessageId',
  'SubscribeURL',
  'Timestamp',
  'Token',
  'TopicArn',
  'Type',
] as const;

/**
 * The exact text AWS signs: `name\nvalue\n` for each signed key in this order, Subject only when
 * present. Both confirmation types sign Token and SubscribeURL (sns-validator 0.3.5 forgets them
 * for UnsubscribeConfirmation).
 */
export function snsStringToSign(message: SnsMessage): string {
  const entries: [string, string | undefined][] =
    message.Type === 'Notification'
      ? NOTIFICATION_SIGNED_KEYS.map((key) => [key, message[key]])
      : CONFIRMATION_SIGNED_KEYS.map((key) => [key, message[key]]);
  return entries
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([key, value]) => `${key}\n${value}\n`)
    .join('');
}
