/**
 * Slack's message formats read back for people: Block Kit and mrkdwn rendered to HTML (the local
 * Slack preview) and to one plain line (the dry-run log). Pure functions.
 *
 * Everything shown comes through `escapeHtml` once: alert text that Slack would show literally
 * (`&lt;!channel&gt;`, `<script>`) shows literally here too and never runs as markup.
 */

/** The emoji Escalator's messages use, as Slack shows them; any other `:name:` stays as typed. */
const EMOJI: Record<string, string> = {
  red_circle: '🔴',
  large_orange_circle: '🟠',
  large_yellow_circle: '🟡',
  large_blue_circle: '🔵',
  eyes: '👀',
  white_check_mark: '✅',
  rotating_light: '🚨',
  warning: '⚠️',
};

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Slack text carries `&`, `<`, `>` as entities; these are the characters a reader sees. */
function decodeSlackEntities(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

function emojify(text: string): string {
  return text.replace(/:([a-z0-9_+-]+):/g, (whole, name: string) => EMOJI[name] ?? whole);
}

/** A Slack control sequence (`<@U1>`, `<!channel>`, `<#C1>`, `<url|label>`, `<!date^…|fallback>`). */
type Control = { kind: 'mention' | 'channel' | 'text'; text: string } | { kind: 'link'; href: string; text: string };

/**
 * What Slack knows and shows in place of ids: `<#C0DEMO>` reads `#demo` in every conversation,
 * `<@U1>` reads `@` and the person's name. Unknown ids show as the id.
 */
export interface SlackNames {
  /** Channel names without `#`, by channel id. */
  channels?: Record<string, string>;
  /** Display names, by user id. */
  users?: Record<string, string>;
}

function parseControl(inner: string, names: SlackNames): Control {
  const [target = '', label] = splitOnce(inner, '|');
  if (target.startsWith('@')) {
    return { kind: 'mention', text: `@${label ?? names.users?.[target.slice(1)] ?? target.slice(1)}` };
  }
  if (target.startsWith('#')) {
    return { kind: 'channel', text: `#${label ?? names.channels?.[target.slice(1)] ?? target.slice(1)}` };
  }
  if (target.startsWith('!subteam^')) return { kind: 'mention', text: `@${label ?? target.slice(9)}` };
  if (target === '!channel' || target === '!here' || target === '!everyone') {
    return { kind: 'mention', text: `@${target.slice(1)}` };
  }
  if (target.startsWith('!date^')) return { kind: 'text', text: decodeSlackEntities(label ?? target) };
  if (/^https?:\/\//i.test(target)) return { kind: 'link', href: decodeSlackEntities(target), text: label ?? target };
  return { kind: 'text', text: decodeSlackEntities(label ?? target) };
}

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}

/** `*bold*`, `_italic_`, `~strike~` and `` `code` `` over text that is already HTML-escaped. */
function formatInline(html: string): string {
  return html.replace(
    /`([^`\n]+)`|(?<![\p{L}\p{N}])([*_~])(?=\S)([^\n]*?\S)\2(?![\p{L}\p{N}])/gu,
    (_whole, code: string | undefined, marker: string | undefined, inner: string | undefined) => {
      if (code !== undefined) return `<code>${code}</code>`;
      const tag = marker === '*' ? 'b' : marker === '_' ? 'i' : 's';
      return `<${tag}>${formatInline(inner ?? '')}</${tag}>`;
    }
  );
}

/** Splits mrkdwn into plain stretches and control sequences. */
function segments(mrkdwn: string, names: SlackNames = {}): Array<string | Control> {
  const parts: Array<string | Control> = [];
  let last = 0;
  for (const match of mrkdwn.matchAll(/<([^<>\n]*)>/g)) {
    parts.push(mrkdwn.slice(last, match.index));
    parts.push(parseControl(match[1] ?? '', names));
    last = (match.index ?? 0) + match[0].length;
  }
  parts.push(mrkdwn.slice(last));
  return parts;
}

/** Marks where a control sequence goes back in: a private-use character, which Slack text never holds here. */
const PLACEHOLDER = '\uE000';
const PLACEHOLDERS = /\uE000(\d+)\uE000/g;

/** mrkdwn (a text object's `text`, or a message's `text`) as HTML. */
export function mrkdwnToHtml(mrkdwn: string, names: SlackNames = {}): string {
  // Controls are swapped for placeholders so that formatting never reaches into a link or mention.
  const controls: string[] = [];
  const text = segments(mrkdwn, names)
    .map((part) => {
      if (typeof part === 'string') return escapeHtml(emojify(decodeSlackEntities(part)));
      controls.push(controlToHtml(part));
      return `${PLACEHOLDER}${controls.length - 1}${PLACEHOLDER}`;
    })
    .join('');
  return formatInline(text)
    .replace(PLACEHOLDERS, (_whole, index: string) => controls[Number(index)] ?? '')
    .replace(/\n/g, '<br>');
}

function controlToHtml(control: Control): string {
  switch (control.kind) {
    case 'mention':
      return `<span class="mention">${escapeHtml(control.text)}</span>`;
    case 'channel':
      return `<span class="channel">${escapeHtml(control.text)}</span>`;
    case 'link':
      return `<a href="${escapeHtml(control.href)}" target="_blank" rel="noopener noreferrer">${escapeHtml(
        decodeSlackEntities(control.text)
      )}</a>`;
    case 'text':
      return escapeHtml(control.text);
  }
}

/** mrkdwn as one plain line, as a notification would read it: `@U1` for mentions, labels for links. */
export function mrkdwnToPlainText(mrkdwn: string): string {
  return segments(mrkdwn)
    .map((part) => (typeof part === 'string' ? emojify(decodeSlackEntities(part)) : part.text))
    .join('')
    .replace(/`([^`\n]+)`|(?<![\p{L}\p{N}])([*_~])(?=\S)([^\n]*?\S)\2(?![\p{L}\p{N}])/gu, (_w, code, _m, inner) =>
      String(code ?? inner)
    )
    .replace(/\s*\n\s*/g, ' ')
    .trim();
}

type TextObject = { type?: string; text?: string; emoji?: boolean };
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Block Kit JSON as posted: every block type has its own shape
type Block = Record<string, any>;

function textObjectToHtml(object: TextObject | undefined, names: SlackNames = {}): string {
  if (!object?.text) return '';
  return object.type === 'plain_text'
    ? escapeHtml(emojify(decodeSlackEntities(object.text)))
    : mrkdwnToHtml(object.text, names);
}

function buttonHtml(element: Block, blockId: string | undefined): string {
  const style = element.style === 'primary' || element.style === 'danger' ? ` ${element.style}` : '';
  return (
    `<button type="button" class="button${style}" data-action-id="${escapeHtml(String(element.action_id ?? ''))}"` +
    ` data-value="${escapeHtml(String(element.value ?? ''))}" data-block-id="${escapeHtml(String(blockId ?? ''))}">` +
    `${textObjectToHtml(element.text as TextObject)}</button>`
  );
}

function blockToHtml(block: Block, names: SlackNames): string {
  switch (block.type) {
    case 'header':
      return `<div class="block header">${textObjectToHtml(block.text as TextObject, names)}</div>`;
    case 'section': {
      const text = block.text
        ? `<div class="section-text">${textObjectToHtml(block.text as TextObject, names)}</div>`
        : '';
      const fields = Array.isArray(block.fields)
        ? `<div class="fields">${(block.fields as TextObject[])
            .map((f) => `<div class="field">${textObjectToHtml(f, names)}</div>`)
            .join('')}</div>`
        : '';
      return `<div class="block section">${text}${fields}</div>`;
    }
    case 'context':
      return `<div class="block context">${((block.elements ?? []) as TextObject[])
        .map((e) => `<span>${textObjectToHtml(e, names)}</span>`)
        .join(' ')}</div>`;
    case 'actions':
      return `<div class="block actions">${((block.elements ?? []) as Block[])
        .filter((e) => e.type === 'button')
        .map((e) => buttonHtml(e, block.block_id as string | undefined))
        .join('')}</div>`;
    case 'divider':
      return '<hr class="block divider">';
    default:
      return `<div class="block unknown">[${escapeHtml(String(block.type))} block]</div>`;
  }
}

/** A message's blocks as HTML, or its text when it has none (as Slack shows it, channels and people by name). */
export function messageToHtml(message: { text: string; blocks?: unknown[] }, names: SlackNames = {}): string {
  if (!Array.isArray(message.blocks) || message.blocks.length === 0) {
    return `<div class="block section"><div class="section-text">${mrkdwnToHtml(message.text, names)}</div></div>`;
  }
  return (message.blocks as Block[]).map((block) => blockToHtml(block, names)).join('');
}

/**
 * A message as one plain line, as the person would read it: for an alert message the title, its
 * state line (who holds it, who is called) and the repeat count; otherwise the text.
 */
export function messageToPlainText(message: { text: string; blocks?: unknown[] }): string {
  const blocks = (Array.isArray(message.blocks) ? message.blocks : []) as Block[];
  const header = blocks.find((b) => b.type === 'header');
  if (!header) return mrkdwnToPlainText(message.text);
  const title = decodeSlackEntities(String((header.text as TextObject | undefined)?.text ?? ''));
  const stateSection = blocks.find((b) => b.type === 'section' && b.text);
  const state = stateSection ? mrkdwnToPlainText(String((stateSection.text as TextObject).text)) : '';
  const fields = blocks.flatMap((b): TextObject[] =>
    b.type === 'section' && Array.isArray(b.fields) ? (b.fields as TextObject[]) : []
  );
  const repeats = fields.map((f) => mrkdwnToPlainText(String(f.text ?? ''))).find((f) => /^Occurrences ×\d+/.test(f));
  return [`"${title}"`, state, repeats?.replace(/^Occurrences /, '')].filter(Boolean).join(' · ');
}
