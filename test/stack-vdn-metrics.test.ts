import { beforeAll, describe, expect, it } from 'vitest';
import { STACK_VDN_METRICS } from '../lib/metrics/build-datums.js';
import { HEALTH_METRICS } from '../lib/model.js';
import { TODAY_COUNTERS } from '../lib/wallboard/today.js';
import { type Deployment, resourcesOfType } from './support/stack-cfn.js';
import { readDashboard, searchesIn } from './support/stack-dashboard.js';
import { generatedStack, stageParams } from './support/stack-generator.js';
import { STAGE_SETTINGS } from './support/stack-settings.js';

// The VDN roll-ups the collector publishes by default with OTLP on (STACK_VDN_METRICS) are those the shipped
// stack reads back: its alarms, its dashboards (the stack's and each tenant's) and the wallboard's day so far.
// Derived here from the generated stack, so that a graph or an alarm on another roll-up, or one dropped, fails.

const NAMESPACE = STAGE_SETTINGS.metricNamespace;
const HEALTH: ReadonlySet<string> = new Set(HEALTH_METRICS.map((metric) => metric.name));
/** A VDN roll-up: dimensions CcId and Vdn, no SkillId. */
const VDN_DIMENSIONS = ['CcId', 'Vdn'];

interface MetricStat {
  readonly Metric: {
    readonly Namespace: string;
    readonly MetricName: string;
    readonly Dimensions?: readonly { readonly Name: string }[];
  };
}

/** The roll-ups an alarm reads: its single metric, or the MetricStats of its metric math. */
function alarmReads(properties: Readonly<Record<string, unknown>>): string[] {
  const stats: MetricStat['Metric'][] =
    properties.MetricName === undefined
      ? ((properties.Metrics ?? []) as { MetricStat?: MetricStat }[]).flatMap((query) =>
          query.MetricStat ? [query.MetricStat.Metric] : [],
        )
      : [properties as unknown as MetricStat['Metric']];
  return stats
    .filter((metric) => metric.Namespace === NAMESPACE)
    .filter((metric) => (metric.Dimensions ?? []).map((d) => d.Name).join() === VDN_DIMENSIONS.join())
    .map((metric) => metric.MetricName);
}

/** The roll-ups a dashboard graphs: its metrics without SkillId, and what its SEARCH expressions find per VDN. */
function dashboardReads(body: string): string[] {
  return readDashboard(body).flatMap((widget) => [
    ...widget.metrics
      .filter((metric) => metric.namespace === NAMESPACE)
      .filter((metric) => Object.keys(metric.dimensions).join() === VDN_DIMENSIONS.join())
      .map((metric) => metric.metricName),
    ...widget.expressions
      .flatMap((expression) => searchesIn(expression.expression))
      .filter((search) => search.namespace === NAMESPACE)
      .filter((search) => search.dimensionNames.join() === VDN_DIMENSIONS.join())
      .flatMap((search) => (search.metricName === undefined ? [] : [search.metricName])),
  ]);
}

let stack: Deployment;

beforeAll(async () => {
  // Two tenants' worth of VDNs, so that a tenant's own dashboard is read too.
  const cmsTargets = JSON.stringify([
    { ccId: 1, vdn: 170, skillIds: '1-20' },
    { ccId: 1, vdn: 171, skillIds: '1-5', tenant: 'acme' },
  ]);
  stack = await generatedStack(stageParams({ cmsTargets }));
});

describe('the VDN roll-ups the stack reads back', () => {
  it('are read from a stack with VDN alarms, its dashboard and a tenant’s', () => {
    const alarms = resourcesOfType(stack, 'AWS::CloudWatch::Alarm');
    const dashboards = resourcesOfType(stack, 'AWS::CloudWatch::Dashboard');
    expect(alarms.length).toBeGreaterThan(0);
    expect(dashboards.length).toBeGreaterThan(1);
  });

  it('are exactly the VDN metrics published by default with OTLP on', () => {
    const read = new Set([
      ...resourcesOfType(stack, 'AWS::CloudWatch::Alarm').flatMap(([, alarm]) =>
        alarmReads(alarm.Properties),
      ),
      ...resourcesOfType(stack, 'AWS::CloudWatch::Dashboard').flatMap(([, dashboard]) =>
        dashboardReads(String(dashboard.Properties.DashboardBody)),
      ),
      ...TODAY_COUNTERS,
    ]);
    const rollUps = [...read].filter((name) => !HEALTH.has(name));
    expect(rollUps.sort()).toEqual([...STACK_VDN_METRICS].sort());
  });
});
