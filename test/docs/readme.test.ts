/**
 * The front door stays true: the README is short and narrow, its route table is what the gateway
 * serves, the performance tables are what bench/report.ts renders from bench/results/latest.json,
 * and docs/configuration.md names every variable the code and .env.example know.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import express from 'express';
import { createApp } from '../../src/api/app';
import { loadConfig } from '../../src/config';
import type { Database } from '../../src/db/client';
import { createLogger } from '../../src/logger';
import { createMetrics } from '../../src/observability/metrics';
import { SEVERITY_ALIASES } from '../../src/sources/severity';
import { welcomeBanner } from '../../src/main';
import { betweenMarkers, readLatestResults, renderFullTable, renderReadmeTable, REPO_ROOT } from '../../bench/report';

const README_MAX_LINES = 300;
const MAX_LINE_WIDTH = 120;

function read(file: string): string {
  return readFileSync(path.join(REPO_ROOT, file), 'utf8');
}

/** Lines outside fenced code blocks (a fence may be indented, inside a list item), with their numbers. */
function proseLines(markdown: string): Array<{ number: number; line: string }> {
  const lines: Array<{ number: number; line: string }> = [];
  let inCode = false;
  markdown.split('\n').forEach((line, i) => {
    if (/^\s*(```|~~~)/.test(line)) {
      inCode = !inCode;
      return;
    }
    if (!inCode) lines.push({ number: i + 1, line });
  });
  return lines;
}

/** The `METHOD /path` pairs in the first column of the README's table under `## HTTP API`. */
function readmeRoutes(readme: string): string[] {
  const section = /^## HTTP API\n([\s\S]*?)(?=^## )/m.exec(readme)?.[1];
  if (!section) throw new Error('README.md has no "## HTTP API" section');
  const routes: string[] = [];
  for (const row of section.split('\n').filter((line) => line.startsWith('| `'))) {
    const firstCell = row.split('|')[1] ?? '';
    for (const match of firstCell.matchAll(/`(GET|POST|PUT|PATCH|DELETE|HEAD) (\/[^`]*)`/g)) {
      routes.push(`${match[1]} ${match[2]}`);
    }
  }
  return routes;
}

interface RouterLike {
  stack: Array<{ route?: { path: unknown; methods: Record<string, boolean> }; handle: unknown }>;
}

function isRouter(handle: unknown): handle is RouterLike {
  return typeof handle === 'function' && Array.isArray((handle as Partial<RouterLike>).stack);
}

/**
 * Every `METHOD /path` the gateway serves with every optional part on (OAuth install, /metrics
 * behind a token). Express keeps a route's path but not a mount's, so the mounts are recorded as
 * the app is built.
 */
function servedRoutes(): string[] {
  const routerPrototype = (express.Router as unknown as { prototype: { use: (...args: unknown[]) => unknown } })
    .prototype;
  const originalUse = routerPrototype.use;
  const mountedAt = new Map<unknown, string>();
  routerPrototype.use = function use(this: unknown, ...args: unknown[]) {
    if (typeof args[0] === 'string') for (const handler of args.slice(1).flat()) mountedAt.set(handler, args[0]);
    return originalUse.apply(this, args);
  };
  let app: ReturnType<typeof createApp>;
  try {
    app = createApp({
      config: loadConfig({
        ADMIN_TOKEN: 'admin',
        METRICS_TOKEN: 'metrics',
        SLACK_SIGNING_SECRET: 'secret',
        SLACK_CLIENT_ID: 'client',
        SLACK_CLIENT_SECRET: 'client-secret',
        SLACK_STATE_SECRET: 'state-secret',
        ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
      }),
      // Built, never called: createApp has no side effects until a request comes.
      db: {} as Database,
      temporal: {} as Client,
      log: createLogger({ level: 'error' }),
      metrics: createMetrics(),
    });
  } finally {
    routerPrototype.use = originalUse;
  }
  const routes: string[] = [];
  const walk = (router: RouterLike, prefix: string) => {
    for (const layer of router.stack) {
      if (layer.route && typeof layer.route.path === 'string') {
        const full = `${prefix}${layer.route.path}`.replace(/(.)\/$/, '$1');
        for (const method of Object.keys(layer.route.methods)) routes.push(`${method.toUpperCase()} ${full}`);
      } else if (isRouter(layer.handle)) {
        walk(layer.handle, `${prefix}${mountedAt.get(layer.handle) ?? ''}`.replace(/\/$/, ''));
      }
    }
  };
  walk((app as unknown as { router: RouterLike }).router, '');
  return routes;
}

/** The preview page's own requests (its script, styles, polling and presses): part of `GET /preview`. */
const PREVIEW_INTERNALS = /^(GET|POST) \/preview\/.+/;

describe('README.md', () => {
  const readme = read('README.md');

  it(`is at most ${README_MAX_LINES} lines`, () => {
    expect(readme.trimEnd().split('\n').length).toBeLessThanOrEqual(README_MAX_LINES);
  });

  it(`has no line wider than ${MAX_LINE_WIDTH} characters outside code blocks`, () => {
    const wide = proseLines(readme).filter(({ line }) => [...line].length > MAX_LINE_WIDTH);
    expect(wide.map(({ number, line }) => `${number}: ${line}`)).toEqual([]);
  });

  it('lists in its HTTP API table exactly the routes the gateway serves', () => {
    const served = servedRoutes().filter((route) => !PREVIEW_INTERNALS.test(route));
    expect([...new Set(readmeRoutes(readme))].sort()).toEqual([...new Set(served)].sort());
  });

  it('describes the banner `npm start` prints: its admin API curls and the escalation timeout', () => {
    const banner = welcomeBanner({
      config: loadConfig({ ADMIN_TOKEN: 'admin', ESCALATION_TIMEOUT: '5m' }),
      gatewayUrl: 'http://0.0.0.0:3000',
      webUiUrl: 'http://localhost:8233',
      demo: 'http://localhost:3000/webhooks/token',
      adminTokenFile: '.data/admin-token',
      temporalCli: { path: '.tools/temporal', address: '127.0.0.1:7233' },
    });
    const lines = banner.split('\n');
    const adminApi = lines.findIndex((line) => line.startsWith('The admin API'));
    const end = lines.findIndex((line, i) => i > adminApi && line.trim() === '');
    const adminCurls = lines.slice(adminApi + 1, end).filter((line) => line.trim().startsWith('curl '));
    const counts = ['one', 'two', 'three', 'four'];
    const claimed = /prints the escalation timeout and what to paste next:[\s\S]*?(\w+) admin API\s+curls/.exec(
      readme.replace(/\n/g, ' ')
    );

    expect(claimed?.[1]).toBe(counts[adminCurls.length - 1]);
    expect(banner).toMatch(/Escalation: +5m without an Acknowledge/);
  });

  it('links only to files that exist', () => {
    const links = [...readme.matchAll(/\]\(((?!https?:|#)[^)#\s]+)/g)].map((match) => match[1] as string);
    expect(links.filter((link) => !existsSync(path.join(REPO_ROOT, link)))).toEqual([]);
  });

  it('maps every file of docs/', () => {
    const docs = readdirSync(path.join(REPO_ROOT, 'docs')).filter((file) => file.endsWith('.md'));
    expect(docs.filter((file) => !readme.includes(`(docs/${file})`))).toEqual([]);
  });
});

describe('the performance tables', () => {
  const results = readLatestResults();

  it("README.md's is what `npm run bench:report` renders from bench/results/latest.json", () => {
    expect(betweenMarkers(read('README.md'))).toBe(renderReadmeTable(results));
  });

  it("docs/performance.md's is what `npm run bench:report` renders from bench/results/latest.json", () => {
    expect(betweenMarkers(read('docs/performance.md'))).toBe(renderFullTable(results));
  });
});

describe('docs/configuration.md', () => {
  const configuration = read('docs/configuration.md');

  it('names every variable of the configuration schema in src/config.ts', () => {
    const schema = /const envSchema = z\.object\(\{([\s\S]*?)\n\}\);/.exec(read('src/config.ts'))?.[1];
    const variables = [...(schema ?? '').matchAll(/^ {2}([A-Z][A-Z0-9_]+):/gm)].map((match) => match[1] as string);
    expect(variables.length).toBeGreaterThan(10);
    expect(variables.filter((variable) => !configuration.includes(`\`${variable}\``))).toEqual([]);
  });

  it('names every variable of .env.example', () => {
    const variables = [...read('.env.example').matchAll(/^# ?([A-Z][A-Z0-9_]+)=/gm)].map((match) => match[1] as string);
    expect(variables.length).toBeGreaterThan(10);
    expect(variables.filter((variable) => !configuration.includes(`\`${variable}\``))).toEqual([]);
  });
});

describe('docs/sources.md', () => {
  it('lists the severity aliases the generic webhook maps, as src/sources/severity.ts maps them', () => {
    const section = /^### Severity\n([\s\S]*?)(?=^#|(?![\s\S]))/m.exec(read('docs/sources.md'))?.[1] ?? '';
    const documented: Record<string, string> = {};
    for (const row of section.split('\n').filter((line) => /^\| `/.test(line))) {
      const [severity, aliases] = row.split('|').slice(1, 3);
      for (const alias of aliases?.matchAll(/`([^`]+)`/g) ?? []) {
        documented[alias[1] as string] = /`([^`]+)`/.exec(severity ?? '')?.[1] ?? '';
      }
    }
    const mapped = Object.fromEntries(Object.entries(SEVERITY_ALIASES).filter(([alias, to]) => alias !== to));
    expect(documented).toEqual(mapped);
  });
});
