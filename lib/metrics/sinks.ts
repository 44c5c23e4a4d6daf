import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchSink } from './cloudwatch.js';
import type { MetricSink } from './datum.js';
import { EmfSink } from './emf.js';
import { StdoutSink } from './stdout.js';

export const SINK_KINDS = ['cloudwatch', 'emf', 'stdout'] as const;
export type SinkKind = (typeof SINK_KINDS)[number];

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
    case 'stdout':
      return new StdoutSink();
  }
}
