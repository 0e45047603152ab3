/**
 * The preview's conversations rendered from the dry run's outbox, as Slack would show them:
 * channels by name wherever they are linked, and who may press in each conversation.
 */
import { renderPreview, type PreviewTeam } from '../../src/preview/conversations';
import { DEMO_PEOPLE } from '../../src/slack/demo-people';
import type { OutboxMessage } from '../../src/slack/dry-run-outbox';

const teams: PreviewTeam[] = [{ name: 'demo', slackChannelId: 'C0DEMO', engineers: ['U0DEMO1', 'U0DEMO2'] }];

function message(channel: string, text: string, ts: string): OutboxMessage {
  return { channel, ts, text, edits: 0, postedAt: Date.parse('2026-12-08T10:00:00Z') };
}

describe('the preview', () => {
  it('names a channel linked in a direct message as the sidebar does (#demo, not #C0DEMO)', () => {
    const view = renderPreview(
      teams,
      [message('U0DEMO2', ':red_circle: You are on call for a critical alert in <#C0DEMO>: *Disk full*.', '1.000001')],
      'U0DEMO2'
    );

    expect(view.mainHtml).toContain('<span class="channel">#demo</span>');
    expect(view.mainHtml).not.toContain('#C0DEMO');
  });

  it('shows people the dry run can name by name, in the messages, the sidebar and whom to press as', () => {
    const view = renderPreview(
      teams,
      [
        message('C0DEMO', 'assigned to <@U0DEMO1>', '1.000001'),
        message('U0DEMO2', 'You are on call in <#C0DEMO>', '1.000002'),
      ],
      'C0DEMO',
      DEMO_PEOPLE
    );

    expect(view.mainHtml).toContain('<span class="mention">@Ada (demo)</span>');
    expect(view.sidebarHtml).toContain('>@Grace (demo)</a>');
    expect(view.mainHtml).not.toContain('U0DEMO1');
  });

  it('shows a channel no team has by its id, as Slack shows a channel it cannot name', () => {
    const view = renderPreview(teams, [message('U0DEMO1', 'see <#C0ELSEWHERE>', '1.000001')], 'U0DEMO1');

    expect(view.mainHtml).toContain('#C0ELSEWHERE');
  });

  it('offers everyone as the presser in a direct message, its reader first, so that a choice made elsewhere holds', () => {
    const view = renderPreview(teams, [message('U0DEMO2', 'hello', '1.000001')], 'U0DEMO2');

    expect(view.current?.people).toEqual(['U0DEMO2', 'U0DEMO1']);
  });

  it('gives the page each conversation’s message count (threads not counted), to work out what is unread', () => {
    const view = renderPreview(
      teams,
      [
        message('C0DEMO', 'first', '1.000001'),
        { ...message('C0DEMO', 'a reply', '1.000002'), threadTs: '1.000001' },
        message('C0DEMO', 'second', '1.000003'),
      ],
      'C0DEMO'
    );

    expect(view.sidebarHtml).toContain('data-conversation="C0DEMO" data-messages="2"');
  });
});
