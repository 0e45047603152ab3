import type { SectionBlock } from '@slack/web-api';
import { DIGEST_LIMITS, renderChannelDigest, type ChannelDigestView } from '../../src/slack/digest-message';
import { SLACK_LIMITS } from '../../src/slack/mrkdwn';

function view(overrides: Partial<ChannelDigestView> = {}): ChannelDigestView {
  return {
    channelId: 'C0OPS',
    startedAt: '2026-12-01T22:00:00.000Z',
    counts: { critical: 2, error: 1, warning: 0, info: 5 },
    posted: 3,
    newest: [{ alertId: 'a8', title: 'Disk full on db-8', severity: 'info' }],
    waiting: [
      { alertId: 'a2', title: 'API down', severity: 'critical' },
      { alertId: 'a5', title: 'Disk full on db-5', severity: 'info' },
    ],
    withdrawn: [{ alertId: 'a3', title: 'CPU high on web-3', severity: 'error', state: 'resolved' }],
    ...overrides,
  };
}

function allText(message: ReturnType<typeof renderChannelDigest>): string {
  return [message.text, JSON.stringify(message.blocks)].join('\n');
}

function sections(message: ReturnType<typeof renderChannelDigest>): string[] {
  return message.blocks
    .filter((block): block is SectionBlock => block.type === 'section')
    .map((block) => block.text?.text ?? '');
}

describe('storm digest', () => {
  test('counts the storm by severity and says what is posted, waiting and ended', () => {
    const message = renderChannelDigest(view());
    const summary = sections(message)[0];
    expect(summary).toContain('*8 alerts*');
    expect(summary).toMatch(/2 critical.*1 error.*0 warning.*5 info/);
    expect(summary).toContain('3 posted · 2 waiting to be posted · 1 ended before their turn');
    expect(message.text).toBe('Alert storm: 8 alerts (2 critical, 1 error, 5 info), 2 waiting to be posted');
  });

  test('lists the newest titles, every waiting alert in posting order, and those that ended before their turn', () => {
    const texts = sections(renderChannelDigest(view()));
    expect(texts.find((t) => t.startsWith('*Newest*'))).toContain('Disk full on db-8');
    const waiting = texts.find((t) => t.startsWith('*Waiting to be posted*')) ?? '';
    expect(waiting.indexOf('API down')).toBeLessThan(waiting.indexOf('Disk full on db-5'));
    expect(texts.find((t) => t.startsWith('*Ended before their turn*'))).toContain('CPU high on web-3 · _resolved_');
  });

  test('alert titles cannot ping anyone or become links', () => {
    const hostile = '<!channel> <@U123> <https://evil.example|click> & more';
    const text = allText(
      renderChannelDigest(
        view({
          newest: [{ alertId: 'x', title: hostile, severity: 'critical' }],
          waiting: [{ alertId: 'x', title: hostile, severity: 'critical' }],
          withdrawn: [{ alertId: 'y', title: hostile, severity: 'info', state: 'closed' }],
        })
      )
    );
    expect(text).not.toContain('<!channel>');
    expect(text).not.toContain('<@U123>');
    expect(text).not.toContain('<https://evil');
    expect(text).toContain('&lt;!channel&gt;');
  });

  test('a storm of thousands stays within Slack’s block and section limits and counts what it leaves out', () => {
    const waiting = Array.from({ length: 5_000 }, (_, i) => ({
      alertId: `a${i}`,
      title: `Disk full on host-${i} ${'x'.repeat(80)}`,
      severity: 'warning' as const,
    }));
    const message = renderChannelDigest(view({ waiting, counts: { critical: 0, error: 0, warning: 5_000, info: 0 } }));
    expect(message.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocksPerMessage);
    for (const text of sections(message)) expect(text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
    const waitingText = sections(message)
      .filter((t) => t.includes('Disk full on host-'))
      .join('\n');
    const listed = (waitingText.match(/Disk full on host-/g) ?? []).length;
    expect(listed).toBeGreaterThan(500);
    expect(waitingText).toContain(`_…and ${5_000 - listed} more_`);
    expect(sections(message).filter((t) => t.includes('Disk full on host-')).length).toBeLessThanOrEqual(
      DIGEST_LIMITS.waitingSections
    );
  });

  test('500 waiting alerts are all listed by title', () => {
    const waiting = Array.from({ length: 500 }, (_, i) => ({
      alertId: `a${i}`,
      title: `Disk full on host-${i}`,
      severity: 'info' as const,
    }));
    const text = allText(renderChannelDigest(view({ waiting })));
    for (let i = 0; i < 500; i++) expect(text).toContain(`Disk full on host-${i} `.trimEnd());
    expect(text).not.toContain('more_');
  });

  test('once the storm is over it says so and that it will not change again', () => {
    const message = renderChannelDigest(view({ endedAt: '2026-12-01T22:05:00.000Z', waiting: [] }));
    expect(message.blocks[0]).toMatchObject({ type: 'header', text: { text: 'Alert storm over' } });
    expect(allText(message)).toContain('will not change again');
    expect(message.text).toBe('Alert storm over: 8 alerts, 3 posted, 1 ended before their turn');
  });
});
