/**
 * The Grafana dashboard queries only metrics that exist: a renamed metric must fail here, not show
 * an empty panel to someone on call. Temporal SDK names are checked against a real worker in
 * temporal-telemetry.test.ts.
 */
import { createMetrics, type Inventory } from '../../src/observability/metrics';
import type { SlackAppInventory } from '../../src/observability/slack-app-metrics';
import { allPanels, loadDashboard, queriedSeries } from './dashboard-queries';

const HISTOGRAM_SERIES_SUFFIX = /_(bucket|sum|count)$/;
const noInventory: Inventory = {
  countTeams: () => Promise.resolve(0),
  countEndpoints: () => Promise.resolve(0),
  countLiveAlerts: () => Promise.resolve([]),
};
const noSlackApp: SlackAppInventory = {
  countInstallations: () => Promise.resolve({ active: 0, uninstalled: 0 }),
  countTeams: () => Promise.resolve([]),
  countAlerts: () => Promise.resolve([]),
  countEscalations: () => Promise.resolve([]),
};

/** The metric a series name belongs to: histograms expose `_bucket`, `_sum` and `_count` series. */
function metricOf(series: string, histograms: Set<string>): string {
  const base = series.replace(HISTOGRAM_SERIES_SUFFIX, '');
  return base !== series && histograms.has(base) ? base : series;
}

describe('Grafana dashboard', () => {
  it('queries only Escalator and Node.js metrics that the registry defines', () => {
    const { registry } = createMetrics(undefined, { inventory: noInventory, slackApp: noSlackApp });
    const defined = registry.getMetricsAsArray();
    const histograms = new Set(
      defined.filter((metric) => String(metric.type) === 'histogram').map((metric) => metric.name)
    );
    const names = new Set(defined.map((metric) => metric.name));

    const queried = [...queriedSeries()].filter((name) => !name.startsWith('temporal_'));
    const unknown = queried.filter((series) => !names.has(metricOf(series, histograms)));

    expect(queried.length).toBeGreaterThan(10);
    expect(unknown).toEqual([]);
  });

  it('shows every Escalator business metric somewhere', () => {
    const queried = queriedSeries();
    const { registry } = createMetrics(undefined, {
      inventory: noInventory,
      slackApp: noSlackApp,
      defaultMetrics: false,
    });
    const histograms = new Set(
      registry.getMetricsAsArray().flatMap((m) => (String(m.type) === 'histogram' ? [m.name] : []))
    );
    const shown = new Set([...queried].map((series) => metricOf(series, histograms)));

    const missing = registry
      .getMetricsAsArray()
      .map((metric) => metric.name)
      .filter((name) => name !== 'escalator_inventory_errors_total' && !shown.has(name));

    expect(missing).toEqual([]);
  });

  it('reads every query from the Prometheus data source the viewer picks', () => {
    const dashboard = loadDashboard();
    const datasourceVariable = dashboard.templating.list.find((variable) => variable.type === 'datasource');
    expect(datasourceVariable).toMatchObject({ name: 'datasource', query: 'prometheus' });

    const queryPanels = allPanels(dashboard.panels).filter((panel) => panel.type !== 'row');
    const datasourceUids = queryPanels.flatMap((panel) => [
      panel.datasource?.uid,
      ...(panel.targets ?? []).map((target) => target.datasource?.uid),
    ]);
    expect(new Set(datasourceUids)).toEqual(new Set(['${datasource}']));
    expect(queryPanels.every((panel) => (panel.targets ?? []).length > 0)).toBe(true);
  });

  it('is a Grafana 10/11 dashboard with a stable uid and unique panel ids', () => {
    const dashboard = loadDashboard();
    const ids = allPanels(dashboard.panels).map((panel) => panel.id);

    expect(dashboard.schemaVersion).toBe(39);
    expect(dashboard.uid).toBe('escalator');
    expect(new Set(ids).size).toBe(ids.length);
  });
});
