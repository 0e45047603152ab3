import { derivedFingerprint } from '../../src/domain/fingerprint';
import { normaliseGenericAlert, normaliseGenericRequest } from '../../src/sources/generic';
import { InvalidAlertError } from '../../src/sources/types';
import { loadFixture } from '../fixtures';

describe('the generic JSON alert (the contract)', () => {
  it('needs only a title; the rest has defaults', () => {
    expect(normaliseGenericAlert({ title: 'Disk full on db-1' })).toEqual({
      status: 'firing',
      fingerprint: derivedFingerprint('generic', 'Disk full on db-1'),
      content: { title: 'Disk full on db-1', severity: 'warning', source: 'generic' },
    });
  });

  it('uses key as the fingerprint and reads status, severity, source and link', () => {
    const alert = normaliseGenericAlert({
      title: 'Disk full on db-1',
      key: 'disk-db-1',
      status: 'resolved',
      severity: 'P1',
      source: 'cron',
      link: 'https://grafana.example.com/d/disk',
    });

    expect(alert).toMatchObject({
      status: 'resolved',
      fingerprint: 'disk-db-1',
      content: { severity: 'critical', source: 'cron', link: 'https://grafana.example.com/d/disk' },
    });
  });

  it('takes our four severities in any case, and maps an alias, saying from what', () => {
    expect(normaliseGenericAlert({ title: 'x', severity: 'Critical' })).not.toHaveProperty('severityMappedFrom');
    expect(normaliseGenericAlert({ title: 'x', severity: 'Critical' }).content.severity).toBe('critical');
    expect(normaliseGenericAlert({ title: 'x', severity: 'high' })).toMatchObject({
      severityMappedFrom: 'high',
      content: { severity: 'error' },
    });
  });

  it('refuses a severity that is neither ours nor an alias, naming the accepted ones', () => {
    expect(() => normaliseGenericAlert({ title: 'x', severity: 'urgent-ish' })).toThrow(
      /severity: "urgent-ish" is not a severity: use critical, error, warning, info/
    );
  });

  it('names every wrong field', () => {
    const invalid = { title: ' ', status: 'maybe', link: 'javascript:alert(1)' };

    expect(() => normaliseGenericAlert(invalid)).toThrow(InvalidAlertError);
    expect(() => normaliseGenericAlert(invalid)).toThrow(/title: title is required.*status:.*link:/);
  });
});

describe('normaliseGenericRequest', () => {
  const json = (body: unknown, extra: { query?: Record<string, unknown>; alertKey?: string } = {}) =>
    normaliseGenericRequest({ contentType: 'application/json', body, ...extra });

  describe('JSON', () => {
    it('reads the contract’s fields like normaliseGenericAlert', () => {
      const body = { title: 'Disk full on db-1', severity: 'critical', key: 'disk-db-1' };

      expect(json(body)).toEqual(normaliseGenericAlert(body));
    });

    it('keeps fields it does not know and shows them, flattened, never refusing them', () => {
      const alert = json({ title: 'Deploy failed', service: 'checkout', build: { number: 412, branch: 'main' } });

      expect(alert.content.fields).toEqual([
        { label: 'service', value: 'checkout' },
        { label: 'build.number', value: '412' },
        { label: 'build.branch', value: 'main' },
      ]);
    });

    it('shows at most eight unknown fields and cuts long values', () => {
      const extra = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`extra${i}`, 'x'.repeat(500)]));

      const { fields } = json({ title: 'Noisy', ...extra }).content;

      expect(fields).toHaveLength(8);
      expect(fields![0]!.label).toBe('extra0');
      expect(fields![0]!.value).toHaveLength(200);
      expect(fields![0]!.value.endsWith('…')).toBe(true);
    });

    it('lets X-Alert-Key set the fingerprint, over the body’s key', () => {
      expect(json({ title: 'Disk full', key: 'from-body' }, { alertKey: 'from-header' }).fingerprint).toBe(
        'from-header'
      );
    });

    it('parses a raw JSON body and refuses one that does not parse', () => {
      expect(normaliseGenericRequest({ contentType: 'application/json', body: '{"title":"Raw"}' }).content.title).toBe(
        'Raw'
      );
      expect(() => normaliseGenericRequest({ contentType: 'application/json', body: '{"title":' })).toThrow(
        new InvalidAlertError('body is not valid JSON')
      );
    });

    it('refuses a JSON array', () => {
      expect(() => json([{ title: 'one' }])).toThrow(new InvalidAlertError('body must be a JSON object'));
    });

    it('says how to send a title when there is none', () => {
      expect(() => json({ text: 'no title here' })).toThrow(/^title is required/);
    });

    it('refuses a title that is not text, naming it', () => {
      expect(() => json({ title: 42 })).toThrow(/^title:/);
    });
  });

  describe('forms', () => {
    it('reads form fields from the raw body', () => {
      const alert = normaliseGenericRequest({
        contentType: 'application/x-www-form-urlencoded; charset=utf-8',
        body: 'title=Disk+full+on+db-1&severity=critical&host=db-1',
      });

      expect(alert.content).toMatchObject({ title: 'Disk full on db-1', severity: 'critical' });
      expect(alert.content.fields).toEqual([{ label: 'host', value: 'db-1' }]);
    });

    it('reads parsed form fields, taking the first of repeated ones', () => {
      const alert = normaliseGenericRequest({
        contentType: 'application/x-www-form-urlencoded',
        body: { title: ['First', 'Second'], status: 'resolved' },
      });

      expect(alert).toMatchObject({ status: 'resolved', content: { title: 'First' } });
    });

    it('reads JSON sent by `curl -d` without a Content-Type as the JSON it is', () => {
      const alert = normaliseGenericRequest({
        contentType: 'application/x-www-form-urlencoded',
        body: { '{"title":"Disk full","severity":"error"}': '' },
      });

      expect(alert.content).toMatchObject({ title: 'Disk full', severity: 'error' });
    });
  });

  describe('plain text', () => {
    it('takes the first line as the title and the rest as the text', () => {
      const alert = normaliseGenericRequest({
        contentType: 'text/plain',
        body: '\nDisk full on db-1\r\nOnly 2% left on /var.\nGrowing 1 GB/h.\n',
      });

      expect(alert.content).toMatchObject({
        title: 'Disk full on db-1',
        text: 'Only 2% left on /var.\nGrowing 1 GB/h.',
      });
      expect(alert.fingerprint).toBe(derivedFingerprint('generic', 'Disk full on db-1'));
    });

    it('takes severity, key and source from the query string', () => {
      const alert = normaliseGenericRequest({
        contentType: 'text/plain',
        body: Buffer.from('Disk full on db-1'),
        query: { severity: 'critical', key: 'disk-db-1', source: 'cron' },
      });

      expect(alert).toMatchObject({
        fingerprint: 'disk-db-1',
        content: { title: 'Disk full on db-1', severity: 'critical', source: 'cron' },
      });
    });

    it('reads JSON sent as text/plain as JSON', () => {
      const alert = normaliseGenericRequest({ contentType: 'text/plain', body: '{"title":"From a shell script"}' });

      expect(alert.content.title).toBe('From a shell script');
    });

    it('cuts a very long first line to the longest title', () => {
      const alert = normaliseGenericRequest({ contentType: 'text/plain', body: 'x'.repeat(2_000) });

      expect(alert.content.title).toHaveLength(500);
    });
  });

  describe('query parameters (GET)', () => {
    it('reads a generic alert from the query string', () => {
      const alert = normaliseGenericRequest({ query: { title: 'Backup failed', severity: 'error', db: 'orders' } });

      expect(alert.content).toMatchObject({ title: 'Backup failed', severity: 'error' });
      expect(alert.content.fields).toEqual([{ label: 'db', value: 'orders' }]);
    });

    it('refuses a request that carries nothing', () => {
      expect(() => normaliseGenericRequest({})).toThrow(InvalidAlertError);
    });
  });

  describe('Uptime Robot', () => {
    const down = () => loadFixture<Record<string, string>>('uptimerobot/monitor-down-query.json');
    const up = () => loadFixture<Record<string, string>>('uptimerobot/monitor-up-query.json');

    it('fires when a monitor goes down', () => {
      const alert = normaliseGenericRequest({ query: down() });

      expect(alert).toMatchObject({
        status: 'firing',
        fingerprint: 'uptimerobot-793482113',
        content: {
          title: 'Shop is down',
          text: 'Connection Timeout',
          severity: 'error',
          source: 'uptimerobot',
          link: 'https://shop.example.com/health',
        },
      });
    });

    it('resolves the same alert when the monitor is up again, saying for how long it was down', () => {
      const alert = normaliseGenericRequest({ query: up() });

      expect(alert).toMatchObject({ status: 'resolved', fingerprint: 'uptimerobot-793482113' });
      expect(alert.content.fields).toContainEqual({ label: 'Down for', value: '12m 34s' });
    });

    it('reads the same variables posted as JSON or form fields', () => {
      const fromJson = normaliseGenericRequest({ contentType: 'application/json', body: down() });
      const fromForm = normaliseGenericRequest({
        contentType: 'application/x-www-form-urlencoded',
        body: new URLSearchParams(down()).toString(),
      });

      expect(fromJson).toEqual(normaliseGenericRequest({ query: down() }));
      expect(fromForm).toEqual(normaliseGenericRequest({ query: down() }));
    });

    it('takes a severity added to the webhook URL', () => {
      expect(normaliseGenericRequest({ query: { ...down(), severity: 'critical' } }).content.severity).toBe('critical');
    });

    it('keeps a certificate expiry notice apart from the monitor’s outage', () => {
      const notice = { ...down(), alertType: '3', alertTypeFriendlyName: 'SSL Expiry', sslExpiryDaysLeft: '7' };

      const alert = normaliseGenericRequest({ query: notice });

      expect(alert).toMatchObject({
        status: 'firing',
        fingerprint: 'uptimerobot-793482113-3',
        content: { title: 'Shop: SSL Expiry', severity: 'warning' },
      });
    });
  });

  describe('New Relic', () => {
    it('opens an alert for an activated issue, with its priority and a link to it', () => {
      const alert = normaliseGenericRequest({
        contentType: 'application/json',
        body: loadFixture('newrelic/issue-activated.json'),
      });

      expect(alert).toMatchObject({
        status: 'firing',
        fingerprint: 'newrelic-4b9f6c2e-2c8a-4d7e-9c1b-7a3e5f0d8e21',
        content: {
          title: 'checkout-service: Error percentage > 5% for at least 5 minutes',
          severity: 'critical',
          source: 'newrelic',
          link: 'https://radar-api.service.newrelic.com/accounts/1234567/issues/4b9f6c2e-2c8a-4d7e-9c1b-7a3e5f0d8e21?notifier=WEBHOOK',
        },
      });
      expect(alert.content.fields).toContainEqual({ label: 'Policy', value: 'Checkout golden signals' });
    });

    it('resolves the same alert when the issue closes', () => {
      const closed = { ...loadFixture('newrelic/issue-activated.json'), state: 'CLOSED' };

      const alert = normaliseGenericRequest({ contentType: 'application/json', body: closed });

      expect(alert).toMatchObject({ status: 'resolved', fingerprint: 'newrelic-4b9f6c2e-2c8a-4d7e-9c1b-7a3e5f0d8e21' });
    });
  });
});
