import type { ActionsBlock, SectionBlock } from '@slack/web-api';
import {
  DIGEST_LIMITS,
  parseStormButtonValue,
  renderChannelDigest,
  stormButtonValue,
  type ChannelDigestView,
} from '../../src/slack/digest-message';
import { SLACK_LIMITS } from '../../src/slack/mrkdwn';

function view(overrides: Partial<ChannelDigestView> = {}): ChannelDigestView {
  return {
    channelId: 'C0OPS',
    startedAt: '2026-12-01T22:00:00.000Z',
    counts: { critical: 2, error: 1, warning: 0, info: 5 },
    states: { open: 5, acknowledged: 1, closed: 1, resolved: 1 },
    posted: 3,
    newest: [{ alertId: 'a8', title: 'Disk full on db-8', severity: 'info', state: 'open' }],
    critical: [{ alertId: 'a2', title: 'API down', severity: 'critical', state: 'open' }],
    waitingCount: 2,
    waiting: [
      { alertId: 'a2', title: 'API down', severity: 'critical' },
      { alertId: 'a5', title: 'Disk full on db-5', severity: 'info' },
    ],
    withdrawnCount: 1,
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

function buttons(message: ReturnType<typeof renderChannelDigest>) {
  return message.blocks
    .filter((block): block is ActionsBlock => block.type === 'actions')
    .flatMap((block) => block.elements as Array<{ action_id: string; value: string }>);
}

describe('storm digest', () => {
  test('counts the storm by severity and by state, and says what is posted, waiting and ended', () => {
    const message = renderChannelDigest(view());
    const summary = sections(message)[0];
    expect(summary).toContain('*8 alerts*');
    expect(summary).toMatch(/2 critical.*1 error.*0 warning.*5 info/);
    expect(summary).toContain('5 open · 1 acknowledged · 1 closed · 1 resolved');
    expect(summary).toContain('3 posted · 2 waiting to be posted · 1 ended before their turn');
    expect(message.text).toBe('Alert storm: 8 alerts (2 critical, 1 error, 5 info), 2 waiting to be posted');
  });

  test('names the critical alerts first, then the newest, the next to be posted and those that ended first', () => {
    const texts = sections(renderChannelDigest(view()));
    expect(texts[1]).toMatch(/^\*Critical, not closed\*\n.*API down · _open_/);
    expect(texts.find((t) => t.startsWith('*Newest*'))).toContain('Disk full on db-8');
    const waiting = texts.find((t) => t.startsWith('*Next to be posted*')) ?? '';
    expect(waiting.indexOf('API down')).toBeLessThan(waiting.indexOf('Disk full on db-5'));
    expect(texts.find((t) => t.startsWith('*Ended before their turn*'))).toContain('CPU high on web-3 · _resolved_');
  });

  test('carries buttons that act on the whole storm, naming it by channel and start', () => {
    const found = buttons(renderChannelDigest(view()));
    expect(found.map((button) => button.action_id)).toEqual(['storm_ack', 'storm_close']);
    for (const button of found) {
      expect(parseStormButtonValue(button.value)).toEqual({
        channelId: 'C0OPS',
        since: new Date('2026-12-01T22:00:00.000Z'),
      });
    }
    expect(stormButtonValue('C0OPS', '2026-12-01T22:00:00.000Z')).toBe(
      `storm/C0OPS/${Date.parse('2026-12-01T22:00:00.000Z')}`
    );
    expect(parseStormButtonValue('storm/C0OPS/abc')).toBeUndefined();
    expect(parseStormButtonValue('alert/x')).toBeUndefined();
  });

  test('no buttons once nothing is left open, nor once the storm is over', () => {
    expect(
      buttons(renderChannelDigest(view({ states: { open: 0, acknowledged: 0, closed: 4, resolved: 4 } })))
    ).toEqual([]);
    expect(buttons(renderChannelDigest(view({ endedAt: '2026-12-01T22:05:00.000Z' })))).toEqual([]);
  });

  test('alert titles cannot ping anyone or become links', () => {
    const hostile = '<!channel> <@U123> <https://evil.example|click> & more';
    const text = allText(
      renderChannelDigest(
        view({
          newest: [{ alertId: 'x', title: hostile, severity: 'critical', state: 'open' }],
          critical: [{ alertId: 'x', title: hostile, severity: 'critical', state: 'open' }],
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

  test('a storm of twenty thousand stays within Slack’s block and section limits and counts what it does not name', () => {
    const long = (i: number) => `Disk full on host-${i} ${'x'.repeat(400)}`;
    const named = Array.from({ length: DIGEST_LIMITS.named }, (_, i) => ({
      alertId: `a${i}`,
      title: long(i),
      severity: 'warning' as const,
      state: 'open' as const,
    }));
    const message = renderChannelDigest(
      view({
        counts: { critical: 10, error: 0, warning: 19_990, info: 0 },
        states: { open: 20_000, acknowledged: 0, closed: 0, resolved: 0 },
        newest: named,
        critical: named,
        waiting: named,
        waitingCount: 19_000,
        withdrawn: named.map((alert) => ({ ...alert, state: 'resolved' as const })),
        withdrawnCount: 500,
      })
    );
    expect(message.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocksPerMessage);
    for (const text of sections(message)) expect(text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
    expect(sections(message)[0]).toContain('*20000 alerts*');
    expect(allText(message)).toContain(`_…and ${19_000 - DIGEST_LIMITS.named} more_`);
    expect(allText(message)).toContain(`_…and ${500 - DIGEST_LIMITS.named} more_`);
  });

  test('once the storm is over it says so and that it will not change again', () => {
    const message = renderChannelDigest(view({ endedAt: '2026-12-01T22:05:00.000Z', waiting: [], waitingCount: 0 }));
    expect(message.blocks[0]).toMatchObject({ type: 'header', text: { text: 'Alert storm over' } });
    expect(allText(message)).toContain('will not change again');
    expect(message.text).toBe('Alert storm over: 8 alerts, 3 posted, 1 ended before their turn');
  });
});
