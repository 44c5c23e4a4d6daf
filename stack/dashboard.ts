import type { CounterName, HealthMetricName, LiveQueueMetricName } from '../lib/model.js';
import { clockChanges } from '../lib/wallboard/time-zone.js';
import { type MonitoringSettings, type Vdn, WINDOW_SECONDS } from './settings.js';

const ROW_HEIGHT = 6;

/** A Fn::Sub placeholder: CloudFormation writes in the deployed value (region, function name, API id). */
export const placeholder = (name: string) => `\${${name}}`;
const REGION = placeholder('AWS::Region');
const COLLECTOR = placeholder('CollectorLambdaFunction');
const QUERY = placeholder('QueryLambdaFunction');
const HTTP_API = placeholder('HttpApi');

/** The placeholder of the wallboard function that serves a VDN: its tenant's (stack/tenants.ts). */
type WallboardOf = (vdn: Vdn) => string;

/** Rows of a wallboard widget: a table header, the VDN total, the health line and about 12 skills. */
const WALLBOARD_HEIGHT = 9;

const search = (
  namespace: string,
  dimensions: string,
  metricName: CounterName | HealthMetricName,
  stat: 'Minimum' | 'Maximum',
  period: number,
) => `SEARCH('{"${namespace}",${dimensions}} MetricName="${metricName}"', '${stat}', ${period})`;

const graph = (x: number, y: number, width: number, properties: Record<string, unknown>) => ({
  type: 'metric',
  x,
  y,
  width,
  height: ROW_HEIGHT,
  properties: { view: 'timeSeries', region: REGION, ...properties },
});

const DAY_SECONDS = 86_400;

/**
 * How long ahead the dashboard knows the zone's clock changes: any deployment in that time renews them (the
 * Lambda runtimes alone force one every two years or so).
 */
const CLOCK_CHANGE_YEARS = 10;

/** A day lasts up to 25 hours (a clock put back): the today tile reads this much, which always holds all of it. */
const TODAY_RANGE = '-PT26H';

type MetricOptions = Readonly<Record<string, unknown>>;

/** A graph line of one of the VDN's own roll-up metrics. */
const vdnMetric = (
  s: MonitoringSettings,
  { ccId, vdn }: Vdn,
  name: CounterName | LiveQueueMetricName,
  options: MetricOptions,
) => [s.namespace, name, 'CcId', String(ccId), 'Vdn', String(vdn), options];

/** Every VDN's tile has the same offset expression: found once per zone (a scan of ten years of its clock). */
const offsetExpressions = new Map<string, string>();

/**
 * The zone's UTC offset, in seconds, at the time `epoch` (a series of epoch seconds), as metric math: its offset
 * at `from` plus each later change switched on by a comparison, so daylight saving time is followed on every day
 * of the years the dashboard knows (CLOCK_CHANGE_YEARS).
 */
function offsetExpression(s: MonitoringSettings, epoch: string): string {
  const key = `${s.timeZone} ${s.clockChangesFrom} ${epoch}`;
  const known = offsetExpressions.get(key);
  if (known !== undefined) return known;
  const to = s.clockChangesFrom + CLOCK_CHANGE_YEARS * 366 * DAY_SECONDS * 1_000;
  const { offsetMs, changes } = clockChanges(s.timeZone, s.clockChangesFrom, to);
  let previous = offsetMs;
  let expression = String(offsetMs / 1_000);
  for (const change of changes) {
    const step = (change.offsetMs - previous) / 1_000;
    expression += `${step < 0 ? '-' : '+'}${Math.abs(step)}*(${epoch}>=${change.at / 1_000})`;
    previous = change.offsetMs;
  }
  offsetExpressions.set(key, expression);
  return expression;
}

/**
 * "Today so far" of a VDN: calls offered, answered and abandoned since local midnight in the contact centre's
 * time zone, with the day's abandonment rate and service level. Each 5-minute window counts once, with its final
 * value: the Maximum of a 300 s period is the window's last read however often it was read (runs, closing
 * reads, an overlapping or retried invocation), where a Sum would add every read up. RUNNING_SUM adds the
 * windows whose local day (the window start plus the zone's offset at that moment, in whole days) is the day of
 * the newest one; a window counts on the day it started. Metric math knows no time zones, so the offset is a
 * sum over the zone's clock changes, which makes a day 23 or 25 hours long where the clock changes.
 */
function todayWidget(item: Vdn, x: number, y: number, s: MonitoringSettings) {
  const { ccId, vdn } = item;
  const metric = (name: CounterName, id: string) => vdnMetric(s, item, name, { id, visible: false });
  const day = `FLOOR((epoch+${offsetExpression(s, 'epoch')})/${DAY_SECONDS})`;
  const today = (id: string) => `RUNNING_SUM(IF(day == MAX(day), ${id}, 0))`;
  return graph(x, y, 5, {
    title: `VDN ${vdn} (call center ${ccId}): today so far (since 00:00 ${s.timeZone})`,
    view: 'singleValue',
    // Its own time range, whatever the dashboard shows: enough to hold the whole of today.
    start: TODAY_RANGE,
    period: WINDOW_SECONDS,
    stat: 'Maximum',
    setPeriodToTimeRange: false,
    sparkline: true,
    metrics: [
      metric('CallsOffered', 'offered'),
      metric('CallsAnswered', 'answered'),
      metric('CallsAbandoned', 'abandoned'),
      metric('CallsAnsweredIn20s', 'answered20s'),
      [{ expression: 'EPOCH(offered)', id: 'epoch', visible: false }],
      [{ expression: day, id: 'day', visible: false }],
      [{ expression: today('offered'), label: 'Offered today', id: 'offeredToday' }],
      [{ expression: today('answered'), label: 'Answered today', id: 'answeredToday' }],
      [{ expression: today('abandoned'), label: 'Abandoned today', id: 'abandonedToday' }],
      [{ expression: today('answered20s'), id: 'answered20sToday', visible: false }],
      [
        {
          expression: 'IF(offeredToday > 0, 100 * abandonedToday / offeredToday)',
          label: 'Abandonment today %',
          id: 'abandonmentToday',
        },
      ],
      [
        {
          expression: 'IF(offeredToday > 0, 100 * answered20sToday / offeredToday)',
          label: 'Service level 20 s today %',
          id: 'serviceLevelToday',
        },
      ],
    ],
  });
}

/**
 * The live queue of a VDN, minute by minute: calls waiting and the longest wait (the Maximum of each minute, as
 * metrics.md says to graph them), with the longest-wait alarm's threshold. A quiet VDN publishes no live queue:
 * its gaps are an empty queue, drawn as 0 rather than as a line across the night.
 */
function liveQueueWidget(item: Vdn, x: number, y: number, s: MonitoringSettings) {
  const metric = (name: LiveQueueMetricName, id: string) => vdnMetric(s, item, name, { id, visible: false });
  return graph(x, y, 5, {
    title: `VDN ${item.vdn} (call center ${item.ccId}): calls waiting and longest wait (s), now`,
    period: 60,
    stat: 'Maximum',
    metrics: [
      metric('CallsWaiting', 'waiting'),
      metric('LongestWaitTime', 'longestWait'),
      [{ expression: 'FILL(waiting, 0)', label: 'Calls waiting', id: 'waitingShown' }],
      [
        {
          expression: 'FILL(longestWait, 0)',
          label: 'Longest wait (s)',
          id: 'longestWaitShown',
          yAxis: 'right',
        },
      ],
    ],
    annotations: {
      horizontal: [{ label: 'Longest-wait alarm', value: s.longestWaitThresholdSeconds, yAxis: 'right' }],
    },
  });
}

/** The rates' four counters of a VDN, hidden, by the ids the graphs' expressions use. */
const rateCounters = (s: MonitoringSettings, item: Vdn) =>
  (
    [
      ['CallsOffered', 'offered'],
      ['CallsAnswered', 'answered'],
      ['CallsAbandoned', 'abandoned'],
      ['CallsAnsweredIn20s', 'answered20s'],
    ] as const
  ).map(([name, id]) => vdnMetric(s, item, name, { id, visible: false }));

/**
 * A VDN's calls, KPIs, wrap-up time, live queue and day so far, side by side on one row. Exact rates need each
 * VDN's own counters paired in one expression, which a SEARCH across VDNs cannot do; the fleet-wide SEARCH graphs
 * below still show every VDN, watched or not.
 */
function vdnRow(item: Vdn, y: number, s: MonitoringSettings) {
  const { ccId, vdn } = item;
  const title = `VDN ${vdn} (call center ${ccId})`;
  const metric = (name: CounterName, options: MetricOptions) => vdnMetric(s, item, name, options);
  const window = { period: WINDOW_SECONDS, stat: 'Maximum' };
  return [
    graph(0, y, 5, {
      title: `${title}: calls per 5-minute window`,
      ...window,
      // A quiet VDN publishes no roll-up: its gaps are windows without calls, drawn as 0.
      metrics: [
        ...rateCounters(s, item),
        [{ expression: 'FILL(offered, 0)', label: 'Offered', id: 'offeredShown' }],
        [{ expression: 'FILL(answered, 0)', label: 'Answered', id: 'answeredShown' }],
        [{ expression: 'FILL(abandoned, 0)', label: 'Abandoned', id: 'abandonedShown' }],
        [{ expression: 'FILL(answered20s, 0)', label: 'Answered in 20 s', id: 'answered20sShown' }],
      ],
    }),
    graph(5, y, 5, {
      title: `${title}: KPIs of each window, from its counters`,
      ...window,
      yAxis: { left: { min: 0, max: 100, label: '%', showUnits: false } },
      metrics: [
        ...rateCounters(s, item),
        [
          {
            expression: 'IF(offered > 0, 100 * abandoned / offered)',
            label: 'Abandonment rate %',
            id: 'abandonment',
          },
        ],
        [{ expression: 'IF(offered > 0, 100 * answered / offered)', label: 'Answer rate %', id: 'answer' }],
        [
          {
            expression: 'IF(offered > 0, 100 * answered20s / offered)',
            label: 'Service level 20 s %',
            id: 'serviceLevel',
          },
        ],
      ],
      annotations: {
        horizontal: [
          { label: 'Abandonment alarm', value: s.abandonmentRateThreshold },
          { label: 'Service level alarm', value: s.serviceLevelThreshold },
        ],
      },
    }),
    graph(10, y, 4, {
      title: `${title}: average wrap-up time (s)`,
      ...window,
      metrics: [
        metric('WrapUps', { id: 'wrapUps', visible: false }),
        metric('WrapUpTime', { id: 'wrapUpTime', visible: false }),
        [
          {
            expression: 'IF(wrapUps > 0, wrapUpTime / wrapUps)',
            label: 'Average wrap-up time',
            id: 'averageWrapUp',
          },
        ],
      ],
    }),
    liveQueueWidget(item, 14, y, s),
    todayWidget(item, 19, y, s),
  ];
}

/**
 * The live per-skill wallboard of a VDN: a custom widget, which the dashboard fills by invoking its tenant's
 * wallboard function with the widget's params on every refresh (never for a zoom or a resize: it shows "now").
 */
function wallboardWidget({ ccId, vdn }: Vdn, y: number, endpoint: string) {
  return {
    type: 'custom',
    x: 0,
    y,
    width: 24,
    height: WALLBOARD_HEIGHT,
    properties: {
      endpoint,
      params: { ccId, vdn },
      updateOn: { refresh: true, resize: false, timeRange: false },
      title: `VDN ${vdn} (call center ${ccId}): every skill now, worst first`,
    },
  };
}

/** Graphs of the whole fleet and of the stack itself from row `y` down; SEARCH finds VDNs added later too. */
function fleetRows(y: number, s: MonitoringSettings) {
  const ns = s.namespace;
  const vdns = 'CcId,Vdn';
  const skillSearch = search(ns, 'CcId,Vdn,SkillId', 'CallsAbandoned', 'Maximum', WINDOW_SECONDS);
  return [
    graph(0, y, 12, {
      title: 'Top 10 skills by abandoned calls (per 5-minute window)',
      period: WINDOW_SECONDS,
      stat: 'Maximum',
      metrics: [
        [
          {
            // Idle skills publish nothing: their gaps are zero calls, not missing data.
            expression: `SORT(FILL(${skillSearch}, 0), MAX, DESC, 10)`,
            id: 'topAbandoned',
          },
        ],
      ],
    }),
    graph(12, y, 12, {
      title: 'All VDNs: calls offered and abandoned per 5-minute window',
      period: WINDOW_SECONDS,
      stat: 'Maximum',
      metrics: [
        // A quiet VDN publishes no roll-up: its gaps are windows without calls.
        [
          {
            expression: `FILL(${search(ns, vdns, 'CallsOffered', 'Maximum', WINDOW_SECONDS)}, 0)`,
            label: 'Offered',
            id: 'allOffered',
          },
        ],
        [
          {
            expression: `FILL(${search(ns, vdns, 'CallsAbandoned', 'Maximum', WINDOW_SECONDS)}, 0)`,
            label: 'Abandoned',
            id: 'allAbandoned',
          },
        ],
      ],
    }),
    graph(0, y + ROW_HEIGHT, 6, {
      title: 'Collector health: collection success (1 = every batch read)',
      period: 60,
      stat: 'Minimum',
      yAxis: { left: { min: 0, max: 1 } },
      metrics: [[{ expression: search(ns, vdns, 'CollectionSuccess', 'Minimum', 60), id: 'success' }]],
    }),
    graph(6, y + ROW_HEIGHT, 6, {
      title: 'Collector health: CMS latency, slowest batch (ms)',
      period: 60,
      stat: 'Maximum',
      metrics: [[{ expression: search(ns, vdns, 'CmsLatency', 'Maximum', 60), id: 'latency' }]],
    }),
    graph(12, y + ROW_HEIGHT, 6, {
      title: 'Collector health: data age (s)',
      period: 60,
      stat: 'Maximum',
      metrics: [[{ expression: search(ns, vdns, 'DataAge', 'Maximum', 60), id: 'age' }]],
      annotations: { horizontal: [{ label: 'Stale', value: s.dataAgeThresholdSeconds }] },
    }),
    graph(18, y + ROW_HEIGHT, 6, {
      title: 'Collector health: configured skills CMS did not return',
      period: 60,
      stat: 'Maximum',
      metrics: [[{ expression: search(ns, vdns, 'SkillsMissing', 'Maximum', 60), id: 'missing' }]],
    }),
    graph(0, y + 2 * ROW_HEIGHT, 8, {
      title: 'Functions: errors and duration',
      period: WINDOW_SECONDS,
      metrics: [
        ['AWS/Lambda', 'Errors', 'FunctionName', COLLECTOR, { stat: 'Sum', label: 'Collector errors' }],
        ['AWS/Lambda', 'Errors', 'FunctionName', QUERY, { stat: 'Sum', label: 'Query errors' }],
        [
          'AWS/Lambda',
          'Duration',
          'FunctionName',
          COLLECTOR,
          { stat: 'Maximum', label: 'Collector duration (max, ms)', yAxis: 'right' },
        ],
      ],
    }),
    graph(8, y + 2 * ROW_HEIGHT, 8, {
      title: 'Query API: requests and errors',
      period: WINDOW_SECONDS,
      stat: 'Sum',
      metrics: [
        ['AWS/ApiGateway', 'Count', 'ApiId', HTTP_API, { label: 'Requests' }],
        ['AWS/ApiGateway', '4xx', 'ApiId', HTTP_API, { label: '4xx' }],
        ['AWS/ApiGateway', '5xx', 'ApiId', HTTP_API, { label: '5xx' }],
      ],
    }),
    graph(16, y + 2 * ROW_HEIGHT, 8, {
      title: 'Collector health: window coverage of the last read (%)',
      period: WINDOW_SECONDS,
      stat: 'Maximum',
      yAxis: { left: { min: 0, max: 100 } },
      metrics: [
        [
          {
            expression: search(ns, vdns, 'WindowCoverage', 'Maximum', WINDOW_SECONDS),
            id: 'coverage',
          },
        ],
      ],
      annotations: { horizontal: [{ label: 'Closing reads missing', value: s.windowCoverageThreshold }] },
    }),
  ];
}

/** A row of graphs per VDN, then each VDN's live wallboard; `end` is the row below them. */
function vdnSections(vdns: readonly Vdn[], settings: MonitoringSettings, wallboardOf: WallboardOf) {
  const graphsEnd = vdns.length * ROW_HEIGHT;
  const widgets = [
    ...vdns.flatMap((item, index) => vdnRow(item, index * ROW_HEIGHT, settings)),
    ...vdns.map((item, index) =>
      wallboardWidget(item, graphsEnd + index * WALLBOARD_HEIGHT, wallboardOf(item)),
    ),
  ];
  return { widgets, end: graphsEnd + vdns.length * WALLBOARD_HEIGHT };
}

/**
 * A Fn::Sub, so that the region, function names and ARNs and the API id of the deployed stack fill the `${…}`
 * placeholders; nothing else in the body can hold `${` (the namespace is checked above).
 */
const dashboard = (widgets: readonly unknown[]) => ({
  'Fn::Sub': JSON.stringify({ start: '-PT6H', periodOverride: 'inherit', widgets }),
});

/**
 * The stack's dashboard: a row per watched VDN on top (where an operator looks first), then each watched VDN's
 * live wallboard, the fleet-wide graphs below.
 */
export function buildDashboardBody(
  vdns: readonly Vdn[],
  settings: MonitoringSettings,
  wallboardOf: WallboardOf,
): { readonly 'Fn::Sub': string } {
  const { widgets, end } = vdnSections(vdns, settings, wallboardOf);
  return dashboard([...widgets, ...fleetRows(end, settings)]);
}

/**
 * A tenant's dashboard: its VDNs' rows and wallboards and nothing else, since the fleet-wide graphs show every
 * tenant's VDNs.
 */
export function buildTenantDashboardBody(
  vdns: readonly Vdn[],
  settings: MonitoringSettings,
  wallboardOf: WallboardOf,
): { readonly 'Fn::Sub': string } {
  return dashboard(vdnSections(vdns, settings, wallboardOf).widgets);
}
