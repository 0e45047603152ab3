/**
 * Slack text that is safe to send: escaping of text that is not ours, and truncation to Slack's
 * limits. Alert titles, texts and fields come from whoever can reach a webhook, so none of them
 * may ever ping anyone or turn into a link.
 *
 * Slack parses only `&`, `<` and `>` as control characters (`<!channel>`, `<@U…>`,
 * `<!subteam^…>`, `<url|label>`); escaped as entities they show as literal text. A plain
 * `@channel` typed into text sent through the API pings nobody unless the message asks for it
 * (`link_names`, `parse: full`), which Escalator never does, and our mrkdwn text objects are sent
 * with `verbatim: true` so that Slack does not auto-parse anything in them either.
 */

/** Slack's limits on the parts of a message that Escalator fills (Block Kit reference). */
export const SLACK_LIMITS = {
  /** Header block text (plain_text). */
  header: 150,
  /** Section block text. */
  sectionText: 3_000,
  /** Each of a section's fields. */
  fieldText: 2_000,
  /** Fields in one section block. */
  fieldsPerSection: 10,
  /** Elements of a context block. */
  contextElements: 10,
  /** A button's label. */
  buttonText: 75,
  /** A button's value. */
  buttonValue: 2_000,
  /** Blocks in one message. */
  blocksPerMessage: 50,
  /** Top-level `text` of chat.postMessage / chat.update; Slack truncates beyond it. */
  messageText: 40_000,
} as const;

const ELLIPSIS = '…';

/**
 * Escapes text that is not ours for any Slack text field (mrkdwn or plain_text): `&`, `<`, `>`
 * become entities, so that `<!channel>` in an alert title stays literal text and pings nobody.
 */
export function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Cuts already-escaped (or our own) Slack text to at most `max` characters, ending with `…` when
 * it was cut. Never splits an entity (`&amp;` half-cut would show as `&am`) or a surrogate pair.
 */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, Math.max(0, max - ELLIPSIS.length));
  cut = cut.replace(/&[a-z]{0,3}$/, '');
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return cut + ELLIPSIS;
}

/** Escapes text that is not ours and cuts it to `max` characters: the usual way alert text enters a message. */
export function escapeAndTruncate(text: string, max: number): string {
  return truncate(escapeText(text), max);
}

/**
 * A link to a URL that is not ours, as mrkdwn: `<url|label>` for http(s) URLs, with the
 * characters that would end the link syntax (`|`, `>`) percent-encoded; any other scheme
 * (`javascript:`, `slack://`, garbage) is shown as escaped text and never linked.
 */
export function safeLink(url: string, label: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return escapeText(url);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return escapeText(url);
  const href = parsed.href.replace(/\|/g, '%7C').replace(/</g, '%3C').replace(/>/g, '%3E').replace(/&/g, '&amp;');
  return `<${href}|${escapeText(label)}>`;
}

/**
 * A Slack user mention that pings: `<@U…>`. Only for the engineer being called at this step;
 * everyone else is named with `userName`. Ids that are not Slack ids are shown escaped instead.
 */
export function mentionUser(userId: string): string {
  return isSlackId(userId) ? `<@${userId}>` : escapeText(userId);
}

/** Names a Slack user without pinging them: their id as inline code (no `<@…>`). */
export function userName(userId: string): string {
  return `\`${escapeText(userId.replace(/`/g, "'"))}\``;
}

/** A display name is shown at most this long; Slack's own limit on one is 80 characters. */
export const DISPLAY_NAME_LIMIT = 80;

/**
 * Names a person without pinging them: their display name from Slack when it is known (user text:
 * escaped, kept on one line), else their id as `userName` shows it. Never a mention.
 */
export function personName(userId: string, displayName?: string): string {
  const shown = displayName?.replace(/\s+/g, ' ').trim();
  return shown ? escapeAndTruncate(shown, DISPLAY_NAME_LIMIT) : userName(userId);
}

/** A link to a channel (`<#C…>`), which pings nobody; a value that is not a Slack id is shown escaped. */
export function channelLink(channelId: string): string {
  return isSlackId(channelId) ? `<#${channelId}>` : escapeText(channelId);
}

/**
 * A date that every reader sees in their own time zone, with the ISO time as fallback for
 * clients that cannot format it.
 */
export function slackDate(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return escapeText(iso);
  const seconds = Math.floor(ms / 1000);
  const fallback = new Date(ms).toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
  return `<!date^${seconds}^{date_short_pretty} {time}|${fallback}>`;
}

/** Whether a value looks like a Slack id (users, channels, DMs): upper-case letters and digits. */
export function isSlackId(id: string): boolean {
  return /^[A-Z0-9]{2,}$/.test(id);
}
