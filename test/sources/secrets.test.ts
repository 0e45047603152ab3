import { normaliseAlertmanagerWebhook } from '../../src/sources/alertmanager';
import { isSecretName, maskSecretsInText } from '../../src/sources/secrets';
import { loadFixture } from '../fixtures';

describe('maskSecretsInText', () => {
  it.each([
    ['https://deploy:s3cr3t@git.example.com/repo.git', 'https://[masked]@git.example.com/repo.git'],
    ['postgres://app:pw@db-1:5432/orders is down', 'postgres://[masked]@db-1:5432/orders is down'],
    ['https://ghp_abcdef@github.com/org/repo', 'https://[masked]@github.com/org/repo'],
    ['https://x.example.com/hook?token=abc123&team=ops', 'https://x.example.com/hook?token=[masked]&team=ops'],
    ['login with password: hunter2, then retry', 'login with password: [masked], then retry'],
    ['{"api_key": "AKIA123"}', '{"api_key": "[masked]"}'],
    ['Authorization: Basic dXNlcjpwYXNz', 'Authorization: Basic [masked]'],
    ['curl -H "X-Auth: Bearer eyJhbGciOi.J9.abc" fails', 'curl -H "X-Auth: Bearer [masked]" fails'],
    ['bot xoxb-1234-5678-abcdefghij revoked', 'bot [masked] revoked'],
    ['user token xoxp-1-2-3-abcdef expired', 'user token [masked] expired'],
    ['pushed with ghp_abcdefghijklmnopqrstuvwxyz0123456789', 'pushed with [masked]'],
    ['key AKIAIOSFODNN7EXAMPLE in logs', 'key [masked] in logs'],
    ['leaked:\n-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----\nend', 'leaked:\n[masked]\nend'],
    ['cut off: -----BEGIN PRIVATE KEY-----\nMIIEvQIBADAN', 'cut off: [masked]'],
    ['connect db_pass=hunter2 failed', 'connect db_pass=[masked] failed'],
    ['pass\u{E0001}word=hunter2', 'password=[masked]'],
    ['to\u{E0074}ken: abc123', 'token: [masked]'],
  ])('masks %s', (text, masked) => {
    expect(maskSecretsInText(text)).toBe(masked);
  });

  it('leaves ordinary alert text alone', () => {
    const text = 'Disk 97% full on db-1 (/var); see https://grafana.example.com/d/abc?orgId=1&from=now-1h';
    expect(maskSecretsInText(text)).toBe(text);
  });

  it('removes bidirectional overrides and zero-width characters', () => {
    expect(maskSecretsInText('invoice\u202Efdp.exe \u2066x\u2069 a\u200Bb\uFEFF')).toBe('invoicefdp.exe x ab');
  });

  it('removes tag characters, Hangul fillers and line and paragraph separators', () => {
    expect(maskSecretsInText('a\u{E0041}\u{E007F}b \u3164c\u115F \u2028d\u2029')).toBe('ab c d');
  });

  it('leaves words that merely contain "pass" alone', () => {
    const text = 'bypass=on compass: north passenger=3';
    expect(maskSecretsInText(text)).toBe(text);
  });
});

describe('isSecretName', () => {
  it.each([
    'password',
    'db.Password',
    'API-Key',
    'client_secret',
    'X-Auth-Token',
    'Authorization',
    'aws_access_key_id',
    'db_pass',
    'DB-PASS',
    'smtpPass',
    'pass\u{E0001}word',
  ])('%s names a secret', (label) => expect(isSecretName(label)).toBe(true));
  it.each(['host', 'severity', 'instance', 'region', 'alertname', 'bypass', 'compass', 'passenger'])(
    '%s does not',
    (label) => expect(isSecretName(label)).toBe(false)
  );
});

test('an Alertmanager group is masked like any webhook: labels named like secrets, credentials in links', () => {
  const webhook = loadFixture<{ alerts: Array<Record<string, Record<string, string> | string>> }>(
    'alertmanager/firing-and-resolved.json'
  );
  const first = webhook.alerts[0]!;
  first.labels = { ...(first.labels as Record<string, string>), db_password: 'hunter2' };
  first.generatorURL = 'https://prom:hunter2@prometheus.example.com/graph?g0.expr=up';

  const [alert] = normaliseAlertmanagerWebhook(webhook);

  expect(JSON.stringify(alert)).not.toContain('hunter2');
  expect(alert!.content.link).toBe('https://[masked]@prometheus.example.com/graph?g0.expr=up');
});
