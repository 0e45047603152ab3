import { createHmac } from 'node:crypto';
import { verifySlackSignature } from '../../src/api/slack-signature';

const secret = '8f742231b10e8888abcd99yyyzzz85a5';
const nowMs = Date.UTC(2026, 0, 15, 12, 0, 0);
const timestamp = String(nowMs / 1000);
const body = 'payload=%7B%22type%22%3A%22block_actions%22%7D';

function sign(rawBody: string, at = timestamp, withSecret = secret): string {
  return `v0=${createHmac('sha256', withSecret).update(`v0:${at}:${rawBody}`).digest('hex')}`;
}

describe('verifySlackSignature', () => {
  test('accepts the exact signed bytes, as a string or a Buffer', () => {
    const input = { signingSecret: secret, timestampHeader: timestamp, signatureHeader: sign(body), nowMs };

    expect(verifySlackSignature({ ...input, rawBody: body })).toEqual({ ok: true });
    expect(verifySlackSignature({ ...input, rawBody: Buffer.from(body) })).toEqual({ ok: true });
  });

  test('accepts a timestamp just under 5 minutes away on either side', () => {
    for (const offsetS of [-299, 299]) {
      const at = String(nowMs / 1000 + offsetS);
      const result = verifySlackSignature({
        signingSecret: secret,
        rawBody: body,
        timestampHeader: at,
        signatureHeader: sign(body, at),
        nowMs,
      });
      expect(result).toEqual({ ok: true });
    }
  });

  test.each([
    ['a body changed by one byte', { rawBody: `${body} ` }, 'X-Slack-Signature does not match'],
    ['another secret', { signatureHeader: sign(body, timestamp, 'other') }, 'X-Slack-Signature does not match'],
    ['a truncated signature', { signatureHeader: sign(body).slice(0, 20) }, 'X-Slack-Signature does not match'],
    ['a signature without v0=', { signatureHeader: sign(body).slice(3) }, 'X-Slack-Signature does not match'],
    ['no signature', { signatureHeader: undefined }, 'missing X-Slack-Signature header'],
    ['no timestamp', { timestampHeader: undefined }, 'missing X-Slack-Request-Timestamp header'],
    ['a non-numeric timestamp', { timestampHeader: '1.7e9' }, 'X-Slack-Request-Timestamp is not a number'],
    [
      'a timestamp 6 minutes old',
      { nowMs: nowMs + 6 * 60_000 },
      'X-Slack-Request-Timestamp is more than 5 minutes from now',
    ],
    [
      'a timestamp 6 minutes ahead',
      { nowMs: nowMs - 6 * 60_000 },
      'X-Slack-Request-Timestamp is more than 5 minutes from now',
    ],
  ])('refuses %s', (_case, change, reason) => {
    const result = verifySlackSignature({
      signingSecret: secret,
      rawBody: body,
      timestampHeader: timestamp,
      signatureHeader: sign(body),
      nowMs,
      ...change,
    });

    expect(result).toEqual({ ok: false, reason });
  });
});
