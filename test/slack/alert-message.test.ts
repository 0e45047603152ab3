/**
 * What people see in Slack: the alert message, the call in its thread and the direct message.
 * Alert text can never ping or link; only the one being called is mentioned; buttons come and go
 * with the state; nothing exceeds Slack's limits.
 */
import type { ActionsBlock, Button, KnownBlock } from '@slack/web-api';
import {
  renderAlertMessage,
  renderDirectMessage,
  renderThreadEnding,
  renderThreadNotification,
  type RenderedMessage,
} from '../../src/slack/alert-message';
import { buildAlertView } from './alert-view';

const HOSTILE = '<!channel> <@U1> <!subteam^S123|oncall> <https://evil.example|click> & <#C999>';

/** Every string that Slack renders: the fallback text and each text object in the blocks. */
function renderedTexts(message: RenderedMessage): string[] {
  const texts = [message.text];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (typeof node !== 'object' || node === null) return;
    for (const [key, value] of Object.entries(node)) {
      if (key === 'text' && typeof value === 'string') texts.push(value);
      else walk(value);
    }
  };
  walk(message.blocks);
  return texts;
}

/** Slack's live control sequences (`<…>`): mentions, links, dates, channel links. */
function liveSequences(message: RenderedMessage): string[] {
  return renderedTexts(message).flatMap((text) => text.match(/<[^<>]*>/g) ?? []);
}

/** Each distinct mention that pings (the fallback text and the blocks usually repeat it). */
function mentions(message: RenderedMessage): string[] {
  const pinging = liveSequences(message).filter((sequence) => /^<(@|!channel|!here|!everyone|!subteam)/.test(sequence));
  return [...new Set(pinging)];
}

function actionsBlock(message: RenderedMessage): ActionsBlock | undefined {
  return message.blocks.find((block): block is ActionsBlock => block.type === 'actions');
}

describe('alert text from a source', () => {
  it('never pings anyone nor becomes a link, wherever it appears in the alert message', () => {
    const view = buildAlertView({
      content: {
        title: HOSTILE,
        text: HOSTILE,
        severity: 'critical',
        source: HOSTILE,
        fields: [{ label: HOSTILE, value: HOSTILE }],
      },
      team: { name: HOSTILE, slackChannelId: 'C0TEAM' },
      calling: undefined,
    });

    const message = renderAlertMessage(view);

    expect(mentions(message)).toEqual([]);
    expect(liveSequences(message).filter((s) => s.includes('evil') || s.includes('C999'))).toEqual([]);
    expect(message.blocks[0]).toMatchObject({
      type: 'header',
      text: {
        text: '&lt;!channel&gt; &lt;@U1&gt; &lt;!subteam^S123|oncall&gt; &lt;https://evil.example|click&gt; &amp; &lt;#C999&gt;',
      },
    });
    expect(renderedTexts(message).join('\n')).toContain('&lt;!channel&gt;');
  });

  it('stays literal in the thread call and the direct message too', () => {
    const view = buildAlertView({ content: { title: HOSTILE, text: HOSTILE, severity: 'error', source: 'curl' } });

    const thread = renderThreadNotification(view, { kind: 'engineer', userId: 'U0SECOND' });
    const direct = renderDirectMessage(view);

    expect(mentions(thread)).toEqual(['<@U0SECOND>']);
    expect(mentions(direct)).toEqual([]);
    expect(thread.text).toContain('&lt;!channel&gt;');
    expect(direct.text).toContain('&lt;@U1&gt;');
  });

  it('links only http(s) URLs, and a crafted URL cannot break out of its link', () => {
    const crafted = renderAlertMessage(
      buildAlertView({ content: { ...buildAlertView().content, link: 'https://x.example/a|b><!channel>' } })
    );
    const script = renderAlertMessage(
      buildAlertView({ content: { ...buildAlertView().content, link: 'javascript:alert(1)' } })
    );

    expect(mentions(crafted)).toEqual(['<@U0FIRST>']);
    expect(liveSequences(crafted)).toContain('<https://x.example/a%7Cb%3E%3C!channel%3E|Open in source>');
    expect(liveSequences(script).some((s) => s.includes('javascript'))).toBe(false);
    expect(renderedTexts(script).join('\n')).toContain('javascript:alert(1)');
  });
});

describe('who is mentioned', () => {
  it('mentions the assignee in the first post, because they are the one being called', () => {
    const message = renderAlertMessage(buildAlertView());

    expect(mentions(message)).toEqual(['<@U0FIRST>']);
    expect(message.text).toContain('<@U0FIRST>');
  });

  it('names the acknowledger without a mention when nobody is being called', () => {
    const message = renderAlertMessage(
      buildAlertView({
        state: 'acknowledged',
        holder: { kind: 'engineer', userId: 'U0SECOND' },
        acknowledgedBy: 'U0SECOND',
        calling: undefined,
      })
    );

    expect(mentions(message)).toEqual([]);
    expect(renderedTexts(message).join('\n')).toContain('`U0SECOND`');
    expect(message.text).toContain('acknowledged');
  });

  it('names people by the display name Slack gave, escaped as user text, and still never mentions them', () => {
    const message = renderAlertMessage(
      buildAlertView({
        state: 'acknowledged',
        holder: { kind: 'engineer', userId: 'U0SECOND' },
        acknowledgedBy: 'U0SECOND',
        calling: undefined,
        names: { U0SECOND: '<!here> Grace\n& *Co*' },
      })
    );

    expect(message.text).toContain('*acknowledged* by &lt;!here&gt; Grace &amp; *Co*');
    expect(mentions(message)).toEqual([]);
    expect(renderedTexts(message).join('\n')).not.toContain('U0SECOND`');
  });

  it('mentions the one being called even when their name is known, and names the others', () => {
    const message = renderAlertMessage(
      buildAlertView({
        holder: { kind: 'engineer', userId: 'U0FIRST' },
        names: { U0FIRST: 'Ada' },
      })
    );

    expect(mentions(message)).toEqual(['<@U0FIRST>']);
    expect(message.text).toContain('assigned to <@U0FIRST>');
  });

  it('falls back to the handle a press gave, then to the id, when Slack gave no name', () => {
    const acknowledged = buildAlertView({
      state: 'acknowledged',
      holder: { kind: 'engineer', userId: 'U0SECOND' },
      acknowledgedBy: 'U0SECOND',
      calling: undefined,
    });

    expect(renderAlertMessage({ ...acknowledged, acknowledgedByName: 'grace' }).text).toContain(
      '*acknowledged* by grace'
    );
    expect(renderAlertMessage(acknowledged).text).toContain('*acknowledged* by `U0SECOND`');
  });

  it('mentions only the engineer called after an escalation, not the one before', () => {
    const view = buildAlertView({
      holder: { kind: 'engineer', userId: 'U0SECOND' },
      calling: { kind: 'engineer', userId: 'U0SECOND' },
    });

    const message = renderAlertMessage(view);
    const thread = renderThreadNotification(view, { kind: 'engineer', userId: 'U0SECOND' });

    expect(mentions(message)).toEqual(['<@U0SECOND>']);
    expect(renderedTexts(message).join('\n')).not.toContain('U0FIRST');
    expect(mentions(thread)).toEqual(['<@U0SECOND>']);
  });

  it('calls the whole team with <!channel> in the thread, and mentions no engineer', () => {
    const view = buildAlertView({ holder: { kind: 'team' }, calling: { kind: 'team' } });

    const thread = renderThreadNotification(view, { kind: 'team' });
    const message = renderAlertMessage(view);

    expect(mentions(thread)).toEqual(['<!channel>']);
    expect(thread.text.startsWith('<!channel>')).toBe(true);
    expect(mentions(message)).toEqual([]);
    expect(renderedTexts(message).join('\n')).toContain('the whole team (platform)');
  });
});

describe('the alert message', () => {
  it('shows title, text, severity, source, link, fields, state and holder', () => {
    const all = renderedTexts(renderAlertMessage(buildAlertView())).join('\n');

    for (const expected of [
      'Disk almost full on db-1',
      'Free space below 5% on /var/lib/postgresql',
      'critical',
      'cloudwatch',
      '|Open in source>',
      '*Region*\neu-west-1',
      '*Account*\n123456789012',
      '*open*',
      'assigned to <@U0FIRST>',
    ]) {
      expect(all).toContain(expected);
    }
  });

  it('counts repeats (×3) and shows when the alert was last seen', () => {
    const all = renderedTexts(
      renderAlertMessage(buildAlertView({ occurrences: 3, lastSeenAt: '2026-11-29T10:12:00.000Z' }))
    ).join('\n');

    expect(all).toContain('×3');
    expect(all).toContain(`<!date^${Date.parse('2026-11-29T10:12:00.000Z') / 1000}^`);
    expect(all).toContain('2026-11-29 10:12 UTC');
  });

  it.each(['open', 'acknowledged'] as const)('offers Acknowledge, Close and Pass while %s', (state) => {
    const view = buildAlertView({ state, acknowledgedBy: state === 'acknowledged' ? 'U0FIRST' : undefined });

    const actions = actionsBlock(renderAlertMessage(view));

    const buttons = (actions?.elements ?? []) as Button[];
    expect(buttons.map((button) => button.action_id)).toEqual(['ack', 'close', 'pass']);
    expect(buttons.map((button) => button.text.text)).toEqual(['Acknowledge', 'Close', 'Pass']);
    expect(buttons.every((button) => button.value === view.workflowId)).toBe(true);
  });

  it.each(['closed', 'resolved'] as const)('has no buttons once %s', (state) => {
    const message = renderAlertMessage(buildAlertView({ state, endedBy: 'U0FIRST', calling: undefined }));

    expect(actionsBlock(message)).toBeUndefined();
    expect(JSON.stringify(message.blocks)).not.toContain('action_id');
    expect(message.text).toContain(state);
  });

  it('says who closed it, without a mention', () => {
    const message = renderAlertMessage(buildAlertView({ state: 'closed', endedBy: 'U0SECOND', calling: undefined }));

    expect(renderedTexts(message).join('\n')).toContain('*closed* by `U0SECOND`');
    expect(mentions(message)).toEqual([]);
  });
});

describe("Slack's limits", () => {
  it('cuts a huge alert down to what Slack accepts', () => {
    const view = buildAlertView({
      content: {
        title: 'T'.repeat(10_000),
        text: 'x'.repeat(50_000),
        severity: 'warning',
        source: 's'.repeat(5_000),
        fields: Array.from({ length: 200 }, (_, i) => ({ label: `label ${i}`, value: 'v'.repeat(5_000) })),
      },
    });

    const message = renderAlertMessage(view);

    expect(message.blocks.length).toBeLessThanOrEqual(50);
    const header = message.blocks[0] as Extract<KnownBlock, { type: 'header' }>;
    expect(header.text.text.length).toBeLessThanOrEqual(150);
    expect(header.text.text.endsWith('…')).toBe(true);
    for (const block of message.blocks) {
      if (block.type === 'section' && block.text) expect(block.text.text.length).toBeLessThanOrEqual(3_000);
      if (block.type === 'section' && block.fields) {
        expect(block.fields.length).toBeLessThanOrEqual(10);
        for (const field of block.fields) expect(field.text.length).toBeLessThanOrEqual(2_000);
      }
    }
    expect(renderedTexts(message).join('\n')).toContain('more fields not shown');
    expect(message.text.length).toBeLessThan(2_000);
  });

  it('never cuts an escaped character in half', () => {
    const message = renderAlertMessage(
      buildAlertView({ content: { ...buildAlertView().content, title: '&'.repeat(400) } })
    );

    const header = (message.blocks[0] as Extract<KnownBlock, { type: 'header' }>).text.text;
    expect(header).toMatch(/^(&amp;)+…$/);
  });
});

describe('the direct message', () => {
  it('points at the team channel and carries no buttons', () => {
    const view = buildAlertView({ team: { name: 'platform', slackChannelId: 'C0TEAM' } });

    const direct = renderDirectMessage(view);

    expect(direct.text).toContain('<#C0TEAM>');
    expect(direct.text).toContain('Disk almost full on db-1');
    expect(actionsBlock(direct)).toBeUndefined();
  });

  it.each([
    ['critical', 'a critical alert'],
    ['error', 'an error alert'],
    ['warning', 'a warning alert'],
    ['info', 'an info alert'],
  ] as const)('says "%s" with the right article', (severity, phrase) => {
    const view = buildAlertView();
    const direct = renderDirectMessage({ ...view, content: { ...view.content, severity } });

    expect(direct.text).toContain(`You are on call for ${phrase} in`);
  });
});

describe('the direct message, once the alert moved on', () => {
  const called = buildAlertView({
    team: { name: 'platform', slackChannelId: 'C0TEAM' },
    holder: { kind: 'engineer', userId: 'U0READER' },
    calling: undefined,
    names: { U0ADA: 'Ada', U0GRACE: 'Grace' },
  });

  it('still asks its reader while they hold the open alert', () => {
    expect(renderDirectMessage(called, 'U0READER').text).toContain('You are on call');
  });

  it.each([
    [
      'acknowledged by someone else',
      { state: 'acknowledged', holder: { kind: 'engineer', userId: 'U0ADA' }, acknowledgedBy: 'U0ADA' },
      'acknowledged by Ada, nothing more is needed from you',
    ],
    ['acknowledged by its reader', { state: 'acknowledged', acknowledgedBy: 'U0READER' }, 'you acknowledged it'],
    [
      'passed on by its reader',
      { holder: { kind: 'engineer', userId: 'U0GRACE' }, passedBy: 'U0READER' },
      'passed on by you to Grace, it is not yours any more',
    ],
    [
      'passed on to the whole team',
      { holder: { kind: 'team' }, passedBy: 'U0ADA' },
      'passed on by Ada to the whole team (platform), it is not yours any more',
    ],
    [
      'closed',
      { state: 'closed', endedBy: 'ada', endedByUserId: 'U0ADA' },
      'closed by Ada, nothing more is needed from anyone',
    ],
    [
      'resolved by its source',
      { state: 'resolved', endedBy: 'prometheus' },
      'resolved by its source (prometheus), nothing more is needed from anyone',
    ],
  ] as const)('says so when %s, asks nothing and mentions nobody', (_, change, news) => {
    const direct = renderDirectMessage({ ...called, ...change }, 'U0READER');

    expect(direct.text).toContain(news);
    expect(direct.text).toContain('Disk almost full on db-1');
    expect(direct.text).not.toContain('You are on call');
    expect(mentions(direct)).toEqual([]);
    expect(actionsBlock(direct)).toBeUndefined();
  });
});

describe('the line in the thread when the alert ends', () => {
  it('says who closed it, by name, without a mention', () => {
    const line = renderThreadEnding(
      buildAlertView({ state: 'closed', endedBy: 'ada', endedByUserId: 'U0ADA', names: { U0ADA: 'Ada' } })
    );

    expect(line.text).toBe(':white_check_mark: closed by Ada.');
    expect(mentions(line)).toEqual([]);
  });

  it('says that the source resolved it', () => {
    const line = renderThreadEnding(buildAlertView({ state: 'resolved', endedBy: 'source' }));

    expect(line.text).toBe(':white_check_mark: resolved by its source.');
  });
});
