/**
 * The local Slack preview's view of the dry run: team channels and direct messages as Slack would
 * show them, rendered to HTML from what the dry run would have sent. Pure: the caller brings the
 * outbox's messages and the teams.
 */
import { escapeHtml, messageToHtml, type SlackNames } from '../slack/block-kit-html';
import type { OutboxMessage } from '../slack/dry-run-outbox';

export interface PreviewTeam {
  name: string;
  slackChannelId: string;
  /** Slack user ids in escalation order. */
  engineers: string[];
}

export interface Conversation {
  id: string;
  /** `#demo`, or `@U0DEMO1` for a direct message. */
  label: string;
  kind: 'channel' | 'dm';
  /**
   * Who the preview offers to press buttons as, first the likeliest: everyone in the teams, so
   * that the person chosen stays chosen from one conversation to the next.
   */
  people: string[];
}

export interface PreviewView {
  conversations: Conversation[];
  /** The conversation shown: the one asked for when it exists, else the first. */
  current?: Conversation;
  sidebarHtml: string;
  mainHtml: string;
}

/** A user id as a channel: the bot's direct messages with that user. */
function isDirectMessage(channel: string): boolean {
  return /^[UW][A-Z0-9]+$/.test(channel);
}

/** Every conversation worth showing: the teams' channels (even before any alert), then the DMs. */
export function listConversations(
  teams: PreviewTeam[],
  messages: OutboxMessage[],
  userNames: Readonly<Record<string, string>> = {}
): Conversation[] {
  const everyone = [...new Set(teams.flatMap((t) => t.engineers))];
  const channels = new Map<string, Conversation>();
  for (const team of [...teams].sort((a, b) => a.name.localeCompare(b.name))) {
    const known = channels.get(team.slackChannelId);
    if (known) {
      known.label += `, ${team.name}`;
      continue;
    }
    channels.set(team.slackChannelId, {
      id: team.slackChannelId,
      label: `#${team.name}`,
      kind: 'channel',
      people: [...new Set([...team.engineers, ...everyone])],
    });
  }
  const dms = new Map<string, Conversation>();
  for (const { channel } of messages) {
    if (isDirectMessage(channel)) {
      if (!dms.has(channel)) {
        const people = [channel, ...everyone.filter((person) => person !== channel)];
        dms.set(channel, { id: channel, label: `@${userNames[channel] ?? channel}`, kind: 'dm', people });
      }
    } else if (!channels.has(channel)) {
      channels.set(channel, { id: channel, label: `#${channel}`, kind: 'channel', people: everyone });
    }
  }
  return [...channels.values(), ...[...dms.values()].sort((a, b) => a.id.localeCompare(b.id))];
}

/**
 * Names as Slack shows them in any conversation: `<#C0DEMO>` reads `#demo` (the first team's name),
 * `<@U0DEMO1>` the person's name where the dry run knows one.
 */
function slackNames(conversations: Conversation[], users: Readonly<Record<string, string>>): SlackNames {
  const channels: Record<string, string> = {};
  for (const c of conversations) if (c.kind === 'channel') channels[c.id] = c.label.slice(1).split(', ')[0] ?? c.id;
  return { channels, users: { ...users } };
}

function messageHtml(message: OutboxMessage, replies: OutboxMessage[], names: SlackNames): string {
  const time = new Date(message.postedAt).toISOString().slice(11, 19);
  const edited = message.edits > 0 ? ' <span class="edited">(edited)</span>' : '';
  const ephemeral = message.onlyVisibleTo
    ? `<div class="ephemeral-note">Only visible to @${escapeHtml(names.users?.[message.onlyVisibleTo] ?? message.onlyVisibleTo)}</div>`
    : '';
  const thread =
    replies.length > 0
      ? `<div class="thread"><div class="thread-count">${replies.length} ${replies.length === 1 ? 'reply' : 'replies'}</div>` +
        replies.map((reply) => messageHtml(reply, [], names)).join('') +
        '</div>'
      : '';
  return (
    `<div class="message${message.onlyVisibleTo ? ' ephemeral' : ''}" data-channel="${escapeHtml(message.channel)}"` +
    ` data-ts="${escapeHtml(message.ts)}">` +
    `<div class="avatar">E</div><div class="body">` +
    `<div class="meta"><span class="author">Escalator</span> <span class="app">APP</span>` +
    ` <span class="time" title="ts ${escapeHtml(message.ts)}">${time} UTC</span>${edited}</div>` +
    `${ephemeral}<div class="blocks">${messageToHtml(message, names)}</div>${thread}</div></div>`
  );
}

/**
 * Renders the sidebar and the conversation `wanted` (or the first one); people with a name in
 * `userNames` are shown by it, as Slack shows workspace members.
 */
export function renderPreview(
  teams: PreviewTeam[],
  messages: OutboxMessage[],
  wanted?: string,
  userNames: Readonly<Record<string, string>> = {}
): PreviewView {
  const conversations = listConversations(teams, messages, userNames);
  const current = conversations.find((c) => c.id === wanted) ?? conversations[0];
  const names = slackNames(conversations, userNames);
  // The badge counts what the browser has not read yet: the page knows what it showed (page.ts),
  // so the sidebar carries each conversation's message count and the page works out the rest.
  const link = (c: Conversation) => {
    const count = messages.filter((m) => m.channel === c.id && !m.threadTs).length;
    return (
      `<a href="#${escapeHtml(c.id)}" class="conversation${c.id === current?.id ? ' current' : ''}"` +
      ` data-conversation="${escapeHtml(c.id)}" data-messages="${count}">${escapeHtml(c.label)}</a>`
    );
  };
  const sidebarHtml =
    `<div class="sidebar-title">Channels</div>${conversations
      .filter((c) => c.kind === 'channel')
      .map(link)
      .join('')}` +
    `<div class="sidebar-title">Direct messages</div>${conversations
      .filter((c) => c.kind === 'dm')
      .map(link)
      .join('')}`;

  if (!current) {
    return {
      conversations,
      sidebarHtml,
      mainHtml: '<div class="empty">No team yet: create one with POST /api/teams, then send it an alert.</div>',
    };
  }
  const inConversation = messages.filter((m) => m.channel === current.id);
  const topLevel = inConversation.filter((m) => !m.threadTs || m.threadTs === m.ts);
  const body =
    topLevel.length > 0
      ? topLevel
          .map((m) =>
            messageHtml(
              m,
              inConversation.filter((r) => r.threadTs === m.ts && r !== m),
              names
            )
          )
          .join('')
      : `<div class="empty">Nothing posted in ${escapeHtml(current.label)} yet. Send this team an alert.</div>`;
  const title =
    current.kind === 'dm'
      ? `Direct messages from Escalator to ${escapeHtml(current.label)}`
      : `${escapeHtml(current.label)} <span class="channel-id">${escapeHtml(current.id)}</span>`;
  return {
    conversations,
    current,
    sidebarHtml,
    mainHtml: `<div class="conversation-title">${title}</div><div class="messages">${body}</div>`,
  };
}
