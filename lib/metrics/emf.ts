import {
  type Datum,
  failureText,
  type MetricSink,
  type PublishFailure,
  type PublishReport,
  partitionPublishable,
} from './metric-sink.js';

/** Limits of the CloudWatch Embedded Metric Format specification. */
const EMF_LIMITS = {
  metricsPerDocument: 100,
  dimensionsPerSet: 30,
} as const;

interface EmfMetricDirective {
  readonly Namespace: string;
  readonly Dimensions: readonly (readonly string[])[];
  readonly Metrics: readonly { readonly Name: string; readonly Unit: string }[];
}

/** One EMF log event: the `_aws` metadata plus dimension values and metric values as top-level members. */
interface EmfDocument {
  readonly _aws: { readonly Timestamp: number; readonly CloudWatchMetrics: readonly EmfMetricDirective[] };
  readonly [member: string]: unknown;
}

export interface EmfSinkOptions {
  readonly namespace: string;
  /** Receives one JSON document per call, without a newline; default: stdout, one line each. */
  readonly write?: (line: string) => void;
}

/**
 * Publishes datums as Embedded Metric Format log lines: CloudWatch Logs extracts the metrics, so a Lambda
 * needs no PutMetricData call and no cloudwatch:PutMetricData permission.
 */
export class EmfSink implements MetricSink {
  readonly #namespace: string;
  readonly #write: (line: string) => void;

  constructor(options: EmfSinkOptions) {
    this.#namespace = options.namespace;
    // Written straight to stdout: Lambda's console.log prefixes each line, which would break the JSON.
    this.#write = options.write ?? ((line) => process.stdout.write(`${line}\n`));
  }

  async publish(datums: readonly Datum[]): Promise<PublishReport> {
    const { documents, rejected } = buildEmfDocuments(this.#namespace, datums);
    const failures: PublishFailure[] = [...rejected];
    let published = 0;
    let calls = 0;
    for (const { document, datums: count } of documents) {
      try {
        this.#write(JSON.stringify(document));
        calls += 1;
        published += count;
      } catch (error) {
        failures.push({ datums: count, error: failureText(error) });
      }
    }
    return { published, calls, failures };
  }
}

/**
 * Groups datums into EMF documents: one per (dimension set, timestamp), holding all of that group's metrics,
 * split when a group exceeds 100 metrics or names one metric twice (a document holds one value per name).
 * Datums that EMF cannot carry — non-finite values, more than 30 dimensions — are returned as `rejected`.
 */
function buildEmfDocuments(
  namespace: string,
  datums: readonly Datum[],
): { documents: { document: EmfDocument; datums: number }[]; rejected: PublishFailure[] } {
  const groups = new Map<string, { dimensions: [string, string][]; timestamp: number; datums: Datum[] }>();
  const { valid, rejected } = partitionPublishable(datums, EMF_LIMITS.dimensionsPerSet);
  for (const datum of valid) {
    const dimensions = dimensionEntries(datum);
    const key = JSON.stringify([datum.timestamp, dimensions]);
    let group = groups.get(key);
    if (group === undefined) {
      group = { dimensions, timestamp: datum.timestamp, datums: [] };
      groups.set(key, group);
    }
    group.datums.push(datum);
  }

  const documents: { document: EmfDocument; datums: number }[] = [];
  for (const group of groups.values()) {
    for (const chunk of splitIntoDocuments(group.datums)) {
      documents.push({
        document: toDocument(namespace, group.dimensions, group.timestamp, chunk),
        datums: chunk.length,
      });
    }
  }
  return { documents, rejected };
}

function splitIntoDocuments(datums: readonly Datum[]): Datum[][] {
  const chunks: { names: Set<string>; datums: Datum[] }[] = [];
  for (const datum of datums) {
    let chunk = chunks.find(
      (candidate) =>
        candidate.datums.length < EMF_LIMITS.metricsPerDocument && !candidate.names.has(datum.name),
    );
    if (chunk === undefined) {
      chunk = { names: new Set(), datums: [] };
      chunks.push(chunk);
    }
    chunk.names.add(datum.name);
    chunk.datums.push(datum);
  }
  return chunks.map((chunk) => chunk.datums);
}

function toDocument(
  namespace: string,
  dimensions: readonly [string, string][],
  timestamp: number,
  datums: readonly Datum[],
): EmfDocument {
  const members: Record<string, unknown> = Object.fromEntries(dimensions);
  for (const datum of datums) members[datum.name] = datum.value;
  return {
    _aws: {
      // EMF wants whole epoch milliseconds.
      Timestamp: Math.round(timestamp),
      CloudWatchMetrics: [
        {
          Namespace: namespace,
          Dimensions: [dimensions.map(([name]) => name)],
          Metrics: datums.map((datum) => ({ Name: datum.name, Unit: datum.unit })),
        },
      ],
    },
    ...members,
  };
}

function dimensionEntries(datum: Datum): [string, string][] {
  const entries: [string, string][] = [];
  for (const [name, value] of Object.entries(datum.dimensions)) {
    if (value !== undefined) entries.push([name, value]);
  }
  return entries;
}
