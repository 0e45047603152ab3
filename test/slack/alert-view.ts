/** Builds an `AlertView` for rendering and activity tests; each call gets fresh random ids. */
import { randomUUID } from 'node:crypto';
import type { AlertView } from '../../src/domain/alert';

/** An open alert assigned to (and calling) U0FIRST, with overrides applied on top. */
export function buildAlertView(overrides: Partial<AlertView> = {}): AlertView {
  const alertId = randomUUID();
  return {
    alertId,
    workflowId: `alert-test-${alertId.slice(0, 8)}`,
    team: { name: 'platform', slackChannelId: `C${randomUUID().replace(/-/g, '').slice(0, 10).toUpperCase()}` },
    content: {
      title: 'Disk almost full on db-1',
      text: 'Free space below 5% on /var/lib/postgresql',
      severity: 'critical',
      source: 'cloudwatch',
      link: 'https://console.aws.amazon.com/cloudwatch/home?region=eu-west-1#alarmsV2:alarm/disk',
      fields: [
        { label: 'Region', value: 'eu-west-1' },
        { label: 'Account', value: '123456789012' },
      ],
    },
    state: 'open',
    holder: { kind: 'engineer', userId: 'U0FIRST' },
    occurrences: 1,
    firstSeenAt: '2026-11-29T10:00:00.000Z',
    lastSeenAt: '2026-11-29T10:00:00.000Z',
    calling: { kind: 'engineer', userId: 'U0FIRST' },
    ...overrides,
  };
}
