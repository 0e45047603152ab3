/**
 * SNS message verification: a pure function of the request body, the clock and a certificate
 * fetcher, so that the gateway wraps it in a thin middleware and tests sign with their own key.
 *
 * AWS's own `sns-validator` (0.3.5) would do the signature check, but its certificate download
 * is a private `https.get` with no timeout, no injection point and an unbounded module-level
 * cache, and it signs UnsubscribeConfirmation without Token/SubscribeURL. So the string to sign
 * (message.ts) and the RSA check below follow AWS's documentation, with node:crypto doing the
 * cryptography; test/sns/verify-agrees-with-sns-validator.test.ts runs sns-validator itself over
 * the same signed messages to prove the two agree.
 */
import { createVerify, X509Certificate } from 'node:crypto';
import { SnsTopicNotAllowedError, SnsUnavailableError, SnsVerificationError } from './errors';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { isSnsCertificateUrl } from './hosts';
import { parseSnsEnvelope, snsStringToSign, type SnsMessage } from './message';

/** Downloads a signing certificate (PEM text). Rejects with SnsVerificationError when it does not exist. */
export type CertificateFetcher = (url: string, options: { signal: AbortSignal }) => Promise<string>;

export interface SnsVerifierOptions {
  /** Where certificates come from; AWS over HTTPS unless a test brings its own. */
  fetchCertificate?: CertificateFetcher;
  /** Milliseconds since the epoch. */
  now?: () => number;
  /** Older messages are refused. SNS's longest retry policy spans an hour, so a redelivery still passes. */
  maxAgeMs?: number;
  /** How far in the future a Timestamp may be, for clock skew. */
  maxFutureSkewMs?: number;
  certificateTimeoutMs?: number;
  /**
   * How many certificate URLs are remembered; AWS uses one per region at a time. Certificates that
   * verified a message and those that have not (yet) are kept apart, this many of each: forged
   * messages naming new URLs can only push out each other, never a certificate that proved itself.
   */
  certificateCacheSize?: number;
  /** How long a failed download is answered from memory (its error again) before it is tried anew. */
  failedCertificateTtlMs?: number;
  /**
   * Certificate downloads allowed per minute for one budget (the gateway: one endpoint); more are
   * answered 503 without a request. A flood of forged messages on one endpoint spends its own budget only.
   */
  certificateDownloadsPerMinute?: number;
}

export interface SnsVerifier {
  /**
   * Parses and verifies an SNS envelope (raw body text or parsed JSON). Resolves with the message
   * once it is provably from AWS; rejects with SnsFormatError (400), SnsVerificationError (401) or
   * SnsUnavailableError (503: the certificate could not be fetched; SNS will retry).
   */
  verify(body: unknown, context?: { budgetKey?: string }): Promise<SnsMessage>;
}

const HOUR_MS = 60 * 60 * 1000;
const MAX_CERTIFICATE_BYTES = 64 * 1024;
const SIGNATURE_ALGORITHMS: Record<string, string> = { '1': 'RSA-SHA1', '2': 'RSA-SHA256' };

// Objects this module verified: subscription confirmation refuses anything else at run time, not
// only by type, since fetching an unverified SubscribeURL is the SSRF of CVE-2026-32096.
const verifiedMessages = new WeakSet<SnsMessage>();

/** True only for a message object returned by an SnsVerifier's `verify`. */
export function isVerifiedSnsMessage(message: SnsMessage): boolean {
  return verifiedMessages.has(message);
}

/** Fetches a certificate from AWS: HTTPS, no redirects, bounded size; 5xx and network errors are retryable. */
export const fetchSnsCertificate: CertificateFetcher = async (url, { signal }) => {
  const response = await fetch(url, { signal, redirect: 'error' });
  if (response.status !== 200) {
    await response.body?.cancel();
    if (response.status >= 500 || response.status === 429) {
      throw new SnsUnavailableError(`the signing certificate URL answered HTTP ${response.status}`);
    }
    throw new SnsVerificationError(`the signing certificate URL answered HTTP ${response.status}`);
  }
  if (Number(response.headers.get('content-length') ?? 0) > MAX_CERTIFICATE_BYTES) {
    await response.body?.cancel();
    throw new SnsVerificationError('the signing certificate is too large');
  }
  const pem = await response.text();
  if (pem.length > MAX_CERTIFICATE_BYTES) throw new SnsVerificationError('the signing certificate is too large');
  return pem;
};

/** Builds a verifier with its own certificate cache. */
export function createSnsVerifier(options: SnsVerifierOptions = {}): SnsVerifier {
  const fetchCertificate = options.fetchCertificate ?? fetchSnsCertificate;
  const now = options.now ?? Date.now;
  const maxAgeMs = options.maxAgeMs ?? HOUR_MS;
  const maxFutureSkewMs = options.maxFutureSkewMs ?? 5 * 60 * 1000;
  const certificateTimeoutMs = options.certificateTimeoutMs ?? 5_000;
  const cacheSize = Math.max(1, options.certificateCacheSize ?? 32);
  const failedCertificateTtlMs = options.failedCertificateTtlMs ?? 30_000;
  // Forged messages can name any .pem on an SNS host: each distinct URL would be one download.
  const downloads = new RateLimiterMemory({ points: options.certificateDownloadsPerMinute ?? 20, duration: 60 });
  // Certificates that verified a signature: only another proven certificate pushes one out (LRU).
  const trusted = new Map<string, X509Certificate>();
  // The others, downloaded or being downloaded. Promises, so that a burst of messages shares one
  // download; insertion order makes it an LRU. A failed download stays (with when to forget it), so
  // that a flood of messages naming it costs nothing.
  const certificates = new Map<string, { certificate: Promise<X509Certificate>; failedUntil?: number }>();

  async function downloadCertificate(url: string, budgetKey: string): Promise<X509Certificate> {
    try {
      await downloads.consume(budgetKey);
    } catch {
      throw new SnsUnavailableError('too many signing certificate downloads: retry later');
    }
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new SnsUnavailableError(`fetching the signing certificate timed out after ${certificateTimeoutMs} ms`));
      }, certificateTimeoutMs);
    });
    let pem: string;
    try {
      pem = await Promise.race([fetchCertificate(url, { signal: controller.signal }), timeout]);
    } catch (error) {
      if (error instanceof SnsVerificationError || error instanceof SnsUnavailableError) throw error;
      throw new SnsUnavailableError(`could not fetch the signing certificate: ${(error as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
    try {
      return new X509Certificate(pem);
    } catch {
      throw new SnsVerificationError('the signing certificate is not a PEM certificate');
    }
  }

  function certificateFor(url: string, budgetKey: string): Promise<X509Certificate> {
    const proven = trusted.get(url);
    if (proven && Date.parse(proven.validTo) >= now()) {
      trusted.delete(url);
      trusted.set(url, proven);
      return Promise.resolve(proven);
    }
    trusted.delete(url);
    const cached = certificates.get(url);
    if (cached && (cached.failedUntil === undefined || now() < cached.failedUntil)) {
      certificates.delete(url);
      certificates.set(url, cached);
      return cached.certificate;
    }
    const loading = downloadCertificate(url, budgetKey);
    const entry: { certificate: Promise<X509Certificate>; failedUntil?: number } = { certificate: loading };
    certificates.set(url, entry);
    // A failed download is remembered briefly, then tried again by the next delivery.
    void loading.catch(() => {
      entry.failedUntil = now() + failedCertificateTtlMs;
    });
    for (const oldest of certificates.keys()) {
      if (certificates.size <= cacheSize) break;
      certificates.delete(oldest);
    }
    return loading;
  }

  /** A certificate that verified a message moves to the proven ones. */
  function trust(url: string, certificate: X509Certificate): void {
    certificates.delete(url);
    trusted.delete(url);
    trusted.set(url, certificate);
    for (const oldest of trusted.keys()) {
      if (trusted.size <= cacheSize) break;
      trusted.delete(oldest);
    }
  }

  function checkTimestamp(timestamp: string): void {
    const sentAt = Date.parse(timestamp);
    if (Number.isNaN(sentAt)) throw new SnsVerificationError('Timestamp is not a date');
    const age = now() - sentAt;
    if (age > maxAgeMs) throw new SnsVerificationError(`message is too old (sent ${timestamp})`);
    if (-age > maxFutureSkewMs) throw new SnsVerificationError(`message is dated in the future (${timestamp})`);
  }

  return {
    async verify(body, context = {}) {
      const message = parseSnsEnvelope(body);
      const algorithm = SIGNATURE_ALGORITHMS[message.SignatureVersion];
      if (!algorithm) throw new SnsVerificationError(`SignatureVersion ${message.SignatureVersion} is not supported`);
      // Everything that can be refused without the network is refused before the download.
      if (!isSnsCertificateUrl(message.SigningCertURL)) {
        throw new SnsVerificationError('SigningCertURL is not an https .pem URL on an SNS host');
      }
      checkTimestamp(message.Timestamp);

      const certificate = await certificateFor(message.SigningCertURL, context.budgetKey ?? 'all');
      const at = now();
      if (Date.parse(certificate.validFrom) > at || Date.parse(certificate.validTo) < at) {
        throw new SnsVerificationError('the signing certificate is not valid now');
      }
      let signatureHolds: boolean;
      try {
        signatureHolds = createVerify(algorithm)
          .update(snsStringToSign(message), 'utf8')
          .verify(certificate.publicKey, message.Signature, 'base64');
      } catch {
        signatureHolds = false;
      }
      if (!signatureHolds) throw new SnsVerificationError('signature does not match the message');
      trust(message.SigningCertURL, certificate);
      verifiedMessages.add(message);
      return message;
    },
  };
}

/**
 * Refuses a message from a topic the endpoint was not set up for (SnsTopicNotAllowedError).
 * An empty list allows any topic; `*` in an entry matches within one ARN part, as in
 * `arn:aws:sns:*:123456789012:*`.
 */
export function checkTopicAllowed(message: Pick<SnsMessage, 'TopicArn'>, allowedTopicArns: readonly string[]): void {
  if (allowedTopicArns.length === 0) return;
  const allowed = allowedTopicArns.some((pattern) => topicPattern(pattern).test(message.TopicArn));
  if (!allowed) throw new SnsTopicNotAllowedError(`topic ${message.TopicArn} is not allowed on this endpoint`);
}

function topicPattern(pattern: string): RegExp {
  const escaped = pattern.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${escaped.join('[^:]*')}$`);
}
