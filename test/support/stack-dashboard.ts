/**
 * Reads a CloudWatch dashboard body into what its graphs reference: metrics (with the "." shorthand of the
 * dashboard body format expanded), math expressions and the SEARCH queries inside them.
 */

interface DashboardMetric {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly id: string | undefined;
}

interface DashboardExpression {
  readonly expression: string;
  readonly id: string | undefined;
}

/** Where a widget sits on the dashboard's 24-column grid. */
interface WidgetPosition {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface DashboardWidget {
  readonly title: string;
  /** Undefined when the widget leaves its place to CloudWatch ("the next available position"). */
  readonly position: WidgetPosition | undefined;
  readonly region: unknown;
  readonly metrics: readonly DashboardMetric[];
  readonly expressions: readonly DashboardExpression[];
}

export interface Search {
  readonly namespace: string;
  readonly dimensionNames: readonly string[];
  readonly metricName: string | undefined;
}

interface RawWidget extends Partial<WidgetPosition> {
  readonly type: string;
  readonly properties?: {
    readonly title?: string;
    readonly region?: unknown;
    readonly metrics?: unknown[][];
    readonly endpoint?: unknown;
    readonly params?: unknown;
    readonly updateOn?: unknown;
  };
}

/** A custom widget: a Lambda function the dashboard invokes with `params`. */
export interface CustomWidget {
  readonly title: string;
  readonly position: WidgetPosition | undefined;
  readonly endpoint: unknown;
  readonly params: unknown;
  readonly updateOn: unknown;
}

function optionsOf(row: readonly unknown[]): Record<string, unknown> {
  const last = row.at(-1);
  return typeof last === 'object' && last !== null ? (last as Record<string, unknown>) : {};
}

function readRows(rows: readonly unknown[][]): Pick<DashboardWidget, 'metrics' | 'expressions'> {
  const metrics: DashboardMetric[] = [];
  const expressions: DashboardExpression[] = [];
  let previous: readonly string[] = [];
  for (const row of rows) {
    const options = optionsOf(row);
    const id = typeof options.id === 'string' ? options.id : undefined;
    if (typeof options.expression === 'string') {
      expressions.push({ expression: options.expression, id });
      continue;
    }
    const names = row
      .filter((item): item is string => typeof item === 'string')
      .map((item, index) => (item === '.' ? (previous[index] ?? '.') : item));
    previous = names;
    const [namespace = '', metricName = '', ...pairs] = names;
    const dimensions: Record<string, string> = {};
    for (let index = 0; index + 1 < pairs.length; index += 2) {
      dimensions[pairs[index] ?? ''] = pairs[index + 1] ?? '';
    }
    metrics.push({ namespace, metricName, dimensions, id });
  }
  return { metrics, expressions };
}

function positionOf({ x, y, width = 6, height = 6 }: RawWidget): WidgetPosition | undefined {
  // 6 × 6 is the dashboard body format's size of a widget that gives none.
  return x === undefined || y === undefined ? undefined : { x, y, width, height };
}

export function readDashboard(body: string): DashboardWidget[] {
  const parsed = JSON.parse(body) as { widgets: RawWidget[] };
  return parsed.widgets
    .filter((widget) => widget.type === 'metric')
    .map((widget) => ({
      title: widget.properties?.title ?? '',
      position: positionOf(widget),
      region: widget.properties?.region,
      ...readRows(widget.properties?.metrics ?? []),
    }));
}

export function readCustomWidgets(body: string): CustomWidget[] {
  const parsed = JSON.parse(body) as { widgets: RawWidget[] };
  return parsed.widgets
    .filter((widget) => widget.type === 'custom')
    .map((widget) => ({
      title: widget.properties?.title ?? '',
      position: positionOf(widget),
      endpoint: widget.properties?.endpoint,
      params: widget.properties?.params,
      updateOn: widget.properties?.updateOn,
    }));
}

/** The SEARCH queries of an expression: `SEARCH('{"Ns",DimA,DimB} MetricName="Name"', ...)`. */
export function searchesIn(expression: string): Search[] {
  return [...expression.matchAll(/SEARCH\('\s*\{([^}]*)\}([^']*)'/g)].map((match) => {
    const [namespace = '', ...dimensionNames] = (match[1] ?? '')
      .split(',')
      .map((part) => part.trim().replace(/^"|"$/g, ''));
    const metricName = /MetricName="([^"]+)"/.exec(match[2] ?? '')?.[1];
    return { namespace, dimensionNames, metricName };
  });
}

/** Ids an expression refers to: lower-case-initial names outside quoted text (functions are upper case). */
export function identifiersIn(expression: string): string[] {
  const unquoted = expression.replace(/'[^']*'/g, '').replace(/"[^"]*"/g, '');
  return [...unquoted.matchAll(/\b[a-z][A-Za-z0-9_]*\b/g)].map((match) => match[0]);
}

const overlap = (a: WidgetPosition, b: WidgetPosition): boolean =>
  a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

/** What is wrong with a dashboard's layout: widgets without a place, off the 24-column grid, or overlapping. */
export function layoutProblems(widgets: readonly Pick<DashboardWidget, 'title' | 'position'>[]): string[] {
  const problems: string[] = [];
  widgets.forEach(({ title, position }, index) => {
    if (!position) problems.push(`"${title}" has no position`);
    else if (position.x < 0 || position.x + position.width > 24) problems.push(`"${title}" is off the grid`);
    for (const other of widgets.slice(index + 1)) {
      if (position && other.position && overlap(position, other.position)) {
        problems.push(`"${title}" overlaps "${other.title}"`);
      }
    }
  });
  return problems;
}
