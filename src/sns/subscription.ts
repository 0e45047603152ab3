/**
 * Confirming an SNS subscription: visiting the SubscribeURL of a verified SubscriptionConfirmation.
 * The URL is the sender's until the signature holds, and even then only an SNS
 * `ConfirmSubscription` URL for the same topic is fetched (CVE-2026-32096 was a blind GET of it).
 */
import { SnsFormatError, SnsUnavailableError, SnsVerificationError } from './errors';
import { isSnsConfirmSubscriptionUrl } from './hosts';
import type { SnsMessage } from './message';
import { isVerifiedSnsMessage } from './verify';

/** GETs a URL and reports the HTTP status; the response body is not needed. */
export type SubscriptionConfirmer = (url: string, options: { signal: AbortSignal }) => Promise<{ status: number }>;

export interface ConfirmSubscriptionOptions {
  fetch?: SubscriptionConfirmer;
  timeoutMs?: number;
}

export interface ConfirmedSubscription {
  topicArn: string;
}

const confirmOverHttps: SubscriptionConfirmer = async (url, { signal }) => {
  const response = await fetch(url, { signal, redirect: 'error' });
  await response.body?.cancel();
  return { status: response.status };
};

/**
 * Confirms the subscription a verified SubscriptionConfirmation asks for. Throws SnsFormatError
 * for any other message type, SnsVerificationError when the message was not verified by
 * `createSnsVerifier` or its SubscribeURL is not an SNS ConfirmSubscription URL for its own topic
 * (nothing is fetched then), or when AWS refuses the confirmation (4xx); SnsUnavailableError when
 * AWS cannot be reached or answers 5xx, so that SNS sends the confirmation again.
 */
export async function confirmSubscription(
  message: SnsMessage,
  options: ConfirmSubscriptionOptions = {}
): Promise<ConfirmedSubscription> {
  if (message.Type !== 'SubscriptionConfirmation') {
    throw new SnsFormatError(`${message.Type} messages do not confirm a subscription`);
  }
  if (!isVerifiedSnsMessage(message)) {
    throw new SnsVerificationError('the subscription confirmation has not been verified');
  }
  if (!isSnsConfirmSubscriptionUrl(message.SubscribeURL, message.TopicArn)) {
    throw new SnsVerificationError('SubscribeURL is not an SNS ConfirmSubscription URL for this topic');
  }
  const confirm = options.fetch ?? confirmOverHttps;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  let status: number;
  try {
    ({ status } = await Promise.race([
      confirm(message.SubscribeURL, { signal: controller.signal }),
      new Promise<never>((_, reject) =>
        controller.signal.addEventListener('abort', () =>
          reject(new SnsUnavailableError(`confirming the subscription timed out after ${timeoutMs} ms`))
        )
      ),
    ]));
  } catch (error) {
    if (error instanceof SnsUnavailableError) throw error;
    throw new SnsUnavailableError(`could not confirm the subscription: ${(error as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
  if (status >= 500 || status === 429) throw new SnsUnavailableError(`AWS answered HTTP ${status} to the confirmation`);
  if (status < 200 || status >= 300) throw new SnsVerificationError(`AWS refused the confirmation (HTTP ${status})`);
  return { topicArn: message.TopicArn };
}
