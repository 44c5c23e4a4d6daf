import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { variable } from '../config/rules.js';
import { quoted } from '../text.js';
import { CloudWatchSink } from './cloudwatch.js';
import { EmfSink } from './emf.js';
import type { MetricSink } from './metric-sink.js';

/** Where the collector's datums go: CloudWatch (PutMetricData) or EMF log lines. */
const SINK_KINDS = ['cloudwatch', 'emf'] as const;
export type SinkKind = (typeof SINK_KINDS)[number];

/** The terminal table's names: local runs hand their table in, so a deployment naming it is told so. */
const LOCAL_ONLY_KINDS = ['table', 'stdout'];

/** METRICS_SINK, which the stack checks its `metricsSink` parameter with too. */
export const SINK_RULE = variable((text): SinkKind => {
  if (LOCAL_ONLY_KINDS.includes(text)) {
    throw new Error(
      `${quoted(text)} prints a terminal table, which only local runs (npm start) have; use cloudwatch or emf`,
    );
  }
  const kind = SINK_KINDS.find((candidate) => candidate === text);
  if (kind === undefined) throw new Error(`must be one of ${SINK_KINDS.join(', ')}, got ${quoted(text)}`);
  return kind;
}, 'cloudwatch');

export interface SinkOptions {
  readonly namespace: string;
  /** Only for `cloudwatch`; created from the environment (region, AWS_ENDPOINT_URL) when absent. */
  readonly cloudWatch?: CloudWatchClient;
}

export function createSink(kind: SinkKind, options: SinkOptions): MetricSink {
  switch (kind) {
    case 'cloudwatch':
      return new CloudWatchSink({
        client: options.cloudWatch ?? new CloudWatchClient({}),
        namespace: options.namespace,
      });
    case 'emf':
      return new EmfSink({ namespace: options.namespace });
  }
}
