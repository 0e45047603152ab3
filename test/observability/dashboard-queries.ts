/** Reads the PromQL of dashboards/escalator.json, for the tests that check it against real metrics. */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface DashboardTarget {
  expr?: string;
  datasource?: { uid?: string };
}
export interface DashboardPanel {
  id: number;
  type: string;
  title: string;
  datasource?: { uid?: string };
  targets?: DashboardTarget[];
  panels?: DashboardPanel[];
}
export interface Dashboard {
  schemaVersion: number;
  uid: string;
  panels: DashboardPanel[];
  templating: { list: Array<{ name: string; type: string; query?: unknown; definition?: string }> };
}

export const DASHBOARD_PATH = path.resolve(__dirname, '../../dashboards/escalator.json');

/** Metric names in PromQL: ours, Node's default process metrics and the Temporal SDK's. */
const METRIC_NAME = /\b(?:escalator|nodejs|process|temporal)_[a-z0-9_]+/g;

export function loadDashboard(): Dashboard {
  return JSON.parse(readFileSync(DASHBOARD_PATH, 'utf8')) as Dashboard;
}

/** Every panel, including those inside collapsed rows. */
export function allPanels(panels: DashboardPanel[]): DashboardPanel[] {
  return panels.flatMap((panel) => [panel, ...allPanels(panel.panels ?? [])]);
}

/** The series names that panel queries and template variables read (`_bucket` and all). */
export function queriedSeries(dashboard: Dashboard = loadDashboard()): Set<string> {
  const exprs = allPanels(dashboard.panels).flatMap((panel) =>
    (panel.targets ?? []).map((target) => target.expr ?? '')
  );
  const variableQueries = dashboard.templating.list.map((variable) => variable.definition ?? '');
  return new Set([...exprs, ...variableQueries].flatMap((expr) => expr.match(METRIC_NAME) ?? []));
}
