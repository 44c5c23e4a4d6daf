import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { SinkKind } from '../config.js';
import { CloudWatchSink } from './cloudwatch.js';
import { EmfSink } from './emf.js';
import type { MetricSink } from './metric-sink.js';
import { TableSink } from './table.js';

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
    case 'table':
    case 'stdout':
      return new TableSink();
  }
}
