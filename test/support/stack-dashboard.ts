/**
 * Reads a CloudWatch dashboard body into what its graphs reference: metrics (with the "." shorthand of the
 * dashboard body format expanded), math expressions and the SEARCH queries inside them.
 */

export interface DashboardMetric {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly id: string | undefined;
}

export interface DashboardExpression {
  readonly expression: string;
  readonly id: string | undefined;
}

export interface DashboardWidget {
  readonly title: string;
  readonly region: unknown;
  readonly metrics: readonly DashboardMetric[];
  readonly expressions: readonly DashboardExpression[];
}

export interface Search {
  readonly namespace: string;
  readonly dimensionNames: readonly string[];
  readonly metricName: string | undefined;
}

interface RawWidget {
  readonly type: string;
  readonly properties?: {
    readonly title?: string;
    readonly region?: unknown;
    readonly metrics?: unknown[][];
  };
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

export function readDashboard(body: string): DashboardWidget[] {
  const parsed = JSON.parse(body) as { widgets: RawWidget[] };
  return parsed.widgets
    .filter((widget) => widget.type === 'metric')
    .map((widget) => ({
      title: widget.properties?.title ?? '',
      region: widget.properties?.region,
      ...readRows(widget.properties?.metrics ?? []),
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
