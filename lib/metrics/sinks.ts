import { CloudWatchClient, type CloudWatchClientConfig } from '@aws-sdk/client-cloudwatch';
import { AwsJson1_0Protocol } from '@aws-sdk/core/protocols';
import type { Log } from '../log.js';
import { CloudWatchSink } from './cloudwatch.js';
import { EmfSink } from './emf.js';
import type { MetricSink } from './metric-sink.js';
import { PutMetricDataFastProtocol } from './put-metric-data-protocol.js';
import { TableSink } from './table.js';

/** `stdout`, the table's earlier name, is still accepted so that existing deployments keep their setting. */
export const SINK_KINDS = ['cloudwatch', 'emf', 'table', 'stdout'] as const;
export type SinkKind = (typeof SINK_KINDS)[number];

export interface SinkOptions {
  readonly namespace: string;
  /** Only for `cloudwatch`; created from the environment (region, AWS_ENDPOINT_URL) when absent. */
  readonly cloudWatch?: CloudWatchClient;
  /** Hears, at cold start, that the SDK's protocol changed and the direct writer stands aside. */
  readonly log?: Pick<Log, 'warn'>;
}

/**
 * The CloudWatch client the collector publishes with. Region, credentials and endpoint come from the
 * environment unless given. PutMetricData bodies are written by the direct writer, which specialises the SDK's
 * JSON protocol: should an SDK release speak another protocol to CloudWatch, the writer would produce bodies the
 * service no longer reads, so then the SDK's own protocol is kept and a WARN line says so.
 */
export function createCloudWatchClient(
  config: CloudWatchClientConfig = {},
  log?: Pick<Log, 'warn'>,
): CloudWatchClient {
  const plain = new CloudWatchClient(config);
  const sdkProtocol = plain.config.protocol;
  if (sdkProtocol?.constructor === AwsJson1_0Protocol) {
    plain.destroy();
    return new CloudWatchClient({ ...config, protocol: PutMetricDataFastProtocol });
  }
  log?.warn(
    "the AWS SDK speaks another protocol to CloudWatch than the direct PutMetricData writer replaces: publishing with the SDK's own",
    {
      sdkProtocol: sdkProtocol?.constructor?.name ?? String(sdkProtocol),
    },
  );
  return plain;
}

export function createSink(kind: SinkKind, options: SinkOptions): MetricSink {
  switch (kind) {
    case 'cloudwatch':
      return new CloudWatchSink({
        client: options.cloudWatch ?? createCloudWatchClient({}, options.log),
        namespace: options.namespace,
      });
    case 'emf':
      return new EmfSink({ namespace: options.namespace });
    case 'table':
    case 'stdout':
      return new TableSink();
  }
}
