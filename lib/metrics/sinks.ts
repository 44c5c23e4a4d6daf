import { CloudWatchClient, type CloudWatchClientConfig } from '@aws-sdk/client-cloudwatch';
import { CloudWatchSink } from './cloudwatch.js';
import type { MetricSink } from './datum.js';
import { EmfSink } from './emf.js';
import { PutMetricDataFastProtocol } from './put-metric-data-protocol.js';
import { StdoutSink } from './stdout.js';

export const SINK_KINDS = ['cloudwatch', 'emf', 'stdout'] as const;
export type SinkKind = (typeof SINK_KINDS)[number];

export interface SinkOptions {
  readonly namespace: string;
  /** Only for `cloudwatch`; created from the environment (region, AWS_ENDPOINT_URL) when absent. */
  readonly cloudWatch?: CloudWatchClient;
}

/**
 * The CloudWatch client the collector publishes with. Region, credentials and endpoint come from the
 * environment unless given; PutMetricData bodies are written by the direct writer.
 */
export function createCloudWatchClient(config: CloudWatchClientConfig = {}): CloudWatchClient {
  return new CloudWatchClient({ ...config, protocol: PutMetricDataFastProtocol });
}

export function createSink(kind: SinkKind, options: SinkOptions): MetricSink {
  switch (kind) {
    case 'cloudwatch':
      return new CloudWatchSink({
        client: options.cloudWatch ?? createCloudWatchClient(),
        namespace: options.namespace,
      });
    case 'emf':
      return new EmfSink({ namespace: options.namespace });
    case 'stdout':
      return new StdoutSink();
  }
}
