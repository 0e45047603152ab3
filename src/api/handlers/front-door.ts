/**
 * `GET /`: what a person who opens the gateway's address in a browser is looking for: what is
 * running, and where to go from here. Static: nothing about teams or alerts, which the address
 * may be public for (Slack and SNS post to it).
 */
import type { RequestHandler } from 'express';
import type { Config } from '../../config';
import { formatDuration } from '../../domain/duration';

export interface FrontDoorOptions {
  config: Pick<Config, 'escalationTimeoutMs' | 'slack'>;
  /** The Temporal Web UI, when `npm start` runs it (it answers on this machine only). */
  webUiUrl?: string;
}

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char] as string
  );
}

/** The page, rendered once: what it shows changes only with the configuration. */
export function frontDoorPage({ config, webUiUrl }: FrontDoorOptions): string {
  const link = (href: string, text: string) => `<a href="${escapeHtml(href)}">${escapeHtml(text)}</a>`;
  const items = [
    config.slack.dryRun
      ? `${link('/preview', 'The Slack preview')}: dry run, nothing is sent to Slack; the team channels as Slack would show them (from this machine only)`
      : undefined,
    webUiUrl ? `${link(webUiUrl, 'The Temporal Web UI')}: every alert's workflow, its state and history` : undefined,
    `${link('/healthz', '/healthz')} (the process runs) and ${link('/readyz', '/readyz')} (Temporal and PostgreSQL answer)`,
    'The admin API under <code>/api</code>, with <code>Authorization: Bearer $ADMIN_TOKEN</code>: ' +
      '<code>GET /api/teams</code>, <code>GET /api/alerts</code>',
    'Alerts arrive at each team&#39;s <code>/webhooks/&lt;token&gt;</code> and <code>/sns/&lt;token&gt;</code>',
    'How to use it: <code>README.md</code> and <code>docs/</code> in the repository (every route in ' +
      '<code>docs/http-api.md</code>, every sender in <code>docs/sources.md</code>)',
  ].filter((item): item is string => item !== undefined);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Escalator</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:44rem;margin:3rem auto;padding:0 1rem;color:#1d1c1d}code{background:#f4f4f4;padding:0 .2em}</style>
</head>
<body>
<h1>Escalator is running</h1>
<p>This is Escalator's gateway: it takes infrastructure alerts, posts them to the team's Slack channel,
and escalates each one (${escapeHtml(formatDuration(config.escalationTimeoutMs))} without an Acknowledge calls the next person)
until a human owns it.${config.slack.dryRun ? ' <strong>Dry run</strong>: no Slack token is set, so nothing is sent to Slack.' : ''}</p>
<ul>
${items.map((item) => `<li>${item}</li>`).join('\n')}
</ul>
</body>
</html>
`;
}

/** `GET /`: the page above, as HTML. */
export function frontDoorHandler(options: FrontDoorOptions): RequestHandler {
  const page = frontDoorPage(options);
  return (_req, res) => {
    res.set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'");
    res.type('html').send(page);
  };
}
