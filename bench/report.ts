/**
 * `npm run bench:report`: renders the performance table from bench/results/latest.json into
 * README.md and docs/performance.md, between `<!-- bench:table -->` and `<!-- /bench:table -->`, so
 * that no figure is typed by hand. `npm run bench` runs it after a full run; test/docs checks that
 * both files hold what it renders.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Figure } from './harness';

/** One figure as bench/run.ts writes it: the harness's Figure, with `mustHold` as `record` took it. */
export type BenchFigure = Figure & { mustHold?: boolean };

export interface BenchResults {
  date: string;
  commit: string;
  machine: string;
  kind: string;
  figures: BenchFigure[];
}

/**
 * Short labels for the figures the bench records, found by the start of their names (which carry
 * the run's scale, such as `1000 distinct alerts`, given in full under the table). `readme`: in the README's short table too.
 * A figure not listed here is shown under its own name in docs/performance.md.
 */
const LABELS: Array<{ match: RegExp; label: string; readme: boolean }> = [
  { match: /^new alerts, 16 concurrent senders/, label: 'new alerts, 16 senders at once', readme: true },
  { match: /^repeats of one alert/, label: 'repeats of one alert, 16 senders at once', readme: true },
  { match: /^\d+ distinct alerts open-loop/, label: "new alerts at an outage's pace: answer p99", readme: true },
  { match: /^signed button press/, label: 'button press during those: p99', readme: true },
  { match: /^open-loop alerts recorded/, label: 'those alerts in their workflows', readme: false },
  { match: /^one Alertmanager group/, label: 'one large Alertmanager group answered', readme: true },
  { match: /^CPU per alert lifecycle/, label: 'CPU per alert lifecycle (post, ack, close)', readme: true },
  { match: /^CPU for the open-loop alerts/, label: 'CPU per alert in the open loop and group', readme: false },
  { match: /^\/healthz p99 while/, label: '/healthz p99 while tokens are guessed', readme: true },
  { match: /^who is on call at an instant/, label: 'who is on call (3 layers, 100 overrides): p99', readme: true },
  { match: /^90 days of shifts/, label: '90 days of shifts: p99', readme: false },
  { match: /^handoff notice in Slack/, label: 'handoff notice after its time, worst', readme: true },
  { match: /^RSS of the gateway \+ worker/, label: 'memory of gateway + worker, alerts open', readme: true },
  { match: /^reference: raw workflow\.start/, label: 'reference: raw workflow starts', readme: false },
  { match: /^reference: bare PostgreSQL insert/, label: 'reference: bare PostgreSQL inserts', readme: false },
  { match: /^reference: bare engine lifecycle/, label: 'reference: engine alone, one lifecycle', readme: false },
];

export const TABLE_START = '<!-- bench:table -->';
export const TABLE_END = '<!-- /bench:table -->';

function labelOf(figure: BenchFigure): { label: string; readme: boolean } {
  const known = LABELS.find((entry) => entry.match.test(figure.name));
  return known ?? { label: figure.name, readme: false };
}

function measured(figure: BenchFigure): string {
  return figure.unit.startsWith('/') ? `${figure.value}${figure.unit}` : `${figure.value} ${figure.unit}`;
}

/** The target without its explanation in brackets, which docs/performance.md gives under the table. */
function shortTarget(target: string | undefined): string {
  return target === undefined ? '' : target.replace(/ \(.*\)$/, '');
}

function result(figure: BenchFigure): string {
  if (figure.ok === undefined) return '';
  return figure.ok ? 'met' : '**missed**';
}

/** A markdown table laid out as Prettier lays it out (cells padded to their column's width). */
function markdownTable(header: string[], rows: string[][]): string {
  const widths = header.map((cell, column) => Math.max(3, cell.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) => `| ${cells.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`;
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

/** Words that would turn a continuation line into a list, heading or quote (`202.`, `-`, `#`): never wrapped onto one. */
const STARTS_A_BLOCK = /^(\d+[.)]|[-+*]|#+|>.*|\|.*)$/;

/** Words of `text` in lines of at most `width` characters, the lines after the first indented by `indent`. */
function wrap(text: string, width: number, indent: string): string {
  const lines: string[] = [];
  let current = '';
  for (const word of text.split(/\s+/)) {
    const room = width - (lines.length === 0 ? 0 : indent.length);
    if (current && current.length + 1 + word.length > room && !STARTS_A_BLOCK.test(word)) {
      lines.push(current);
      current = word;
    } else {
      current = current ? `${current} ${word}` : word;
    }
  }
  if (current) lines.push(current);
  return lines.map((line, i) => (i === 0 ? line : `${indent}${line}`)).join('\n');
}

function runLine(results: BenchResults): string {
  return `Measured by \`npm run bench\` (${results.kind} run) at commit \`${results.commit}\` on ${results.machine}, ${results.date.slice(0, 10)}.`;
}

/** The README's table: the figures that have a target and a place in the README, then where the run was made. */
export function renderReadmeTable(results: BenchResults): string {
  const rows = results.figures
    .filter((figure) => labelOf(figure).readme)
    .map((figure) => [labelOf(figure).label, measured(figure), shortTarget(figure.target), result(figure)]);
  return [markdownTable(['figure', 'measured', 'target', ''], rows), '', wrap(runLine(results), 100, '')].join('\n');
}

/** docs/performance.md's table: every figure, then each one's target in full, reference and notes. */
export function renderFullTable(results: BenchResults): string {
  const rows = results.figures.map((figure) => [
    labelOf(figure).label,
    measured(figure),
    shortTarget(figure.target),
    result(figure),
  ]);
  const details = results.figures
    .map((figure) => {
      const parts = [
        figure.name,
        figure.target && figure.target !== shortTarget(figure.target) ? `target ${figure.target}` : undefined,
        figure.reference ? `reference ${figure.reference}` : undefined,
        figure.note,
      ].filter((part): part is string => part !== undefined);
      return `- ${wrap(`**${labelOf(figure).label}**: ${parts.join('; ')}.`, 100, '  ')}`;
    })
    .join('\n');
  return [
    markdownTable(['figure', 'measured', 'target', ''], rows),
    '',
    wrap(runLine(results), 100, ''),
    '',
    details,
  ].join('\n');
}

/** `text` with what stands between the markers replaced by `table`; throws when the markers are missing. */
export function replaceBetweenMarkers(text: string, table: string, file: string): string {
  const start = text.indexOf(TABLE_START);
  const end = text.indexOf(TABLE_END);
  if (start < 0 || end < start) throw new Error(`${file} lacks the markers ${TABLE_START} … ${TABLE_END}`);
  return `${text.slice(0, start + TABLE_START.length)}\n\n${table}\n\n${text.slice(end)}`;
}

/** What stands between the markers, as `replaceBetweenMarkers` writes it. */
export function betweenMarkers(text: string): string | undefined {
  const start = text.indexOf(TABLE_START);
  const end = text.indexOf(TABLE_END);
  if (start < 0 || end < start) return undefined;
  return text.slice(start + TABLE_START.length, end).trim();
}

export const REPO_ROOT = path.join(__dirname, '..');
export const LATEST_RESULTS = path.join(REPO_ROOT, 'bench', 'results', 'latest.json');

export function readLatestResults(file = LATEST_RESULTS): BenchResults {
  return JSON.parse(readFileSync(file, 'utf8')) as BenchResults;
}

/** The files the report writes into, each with the table it gets. */
export function reportTargets(results: BenchResults, root = REPO_ROOT): Array<{ file: string; table: string }> {
  return [
    { file: path.join(root, 'README.md'), table: renderReadmeTable(results) },
    { file: path.join(root, 'docs', 'performance.md'), table: renderFullTable(results) },
  ];
}

/** Writes the tables of `latest.json` into README.md and docs/performance.md; returns the files it changed. */
export function renderReport(root = REPO_ROOT): string[] {
  const changed: string[] = [];
  for (const { file, table } of reportTargets(
    readLatestResults(path.join(root, 'bench', 'results', 'latest.json')),
    root
  )) {
    const before = readFileSync(file, 'utf8');
    const after = replaceBetweenMarkers(before, table, path.relative(root, file));
    if (after !== before) {
      writeFileSync(file, after);
      changed.push(path.relative(root, file));
    }
  }
  return changed;
}

if (require.main === module) {
  const changed = renderReport();
  console.log(
    changed.length > 0 ? `rendered the bench table into ${changed.join(', ')}` : 'the bench tables are current'
  );
}
