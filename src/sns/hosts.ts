/**
 * Which URLs in an SNS envelope may be fetched. Both `SigningCertURL` and `SubscribeURL` arrive
 * from the sender, so until they are checked they are attacker-controlled: only AWS's own SNS
 * hosts pass, decided on the URL as written, before any network call.
 */

/** `sns.<region>.amazonaws.com` or `sns.<region>.amazonaws.com.cn`, with a real region code shape. */
const SNS_HOST = /^sns\.([a-z]{2}(?:-[a-z]+)+-\d{1,2})\.amazonaws\.com(?:\.cn)?$/;

/**
 * Parses `raw` as an `https://` URL on an SNS host, or returns undefined. The authority must be
 * exactly the host name: no user-info (`user@host`), no port (not even `:443`), no backslashes or
 * upper case, so that what we check is what a client would connect to.
 */
export function parseSnsHostUrl(raw: string): URL | undefined {
  if (!raw.startsWith('https://')) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return undefined;
  }
  const writtenAuthority = raw.slice('https://'.length).split(/[/?#]/, 1)[0];
  if (url.protocol !== 'https:' || writtenAuthority !== url.hostname) return undefined;
  return SNS_HOST.test(url.hostname) ? url : undefined;
}

/** True for a signing certificate URL AWS would use: an SNS host, a path ending in `.pem`, nothing else. */
export function isSnsCertificateUrl(raw: string): boolean {
  const url = parseSnsHostUrl(raw);
  return url !== undefined && url.pathname.endsWith('.pem') && url.search === '' && url.hash === '';
}

/**
 * True for a `SubscribeURL` that confirms a subscription to `topicArn` and can do nothing else:
 * an SNS host, path `/`, `Action=ConfirmSubscription`, the same topic, a token.
 */
export function isSnsConfirmSubscriptionUrl(raw: string, topicArn: string): boolean {
  const url = parseSnsHostUrl(raw);
  if (!url || url.pathname !== '/' || url.hash !== '') return false;
  const params = url.searchParams;
  return (
    params.get('Action') === 'ConfirmSubscription' &&
    params.get('TopicArn') === topicArn &&
    (params.get('Token') ?? '') !== ''
  );
}
