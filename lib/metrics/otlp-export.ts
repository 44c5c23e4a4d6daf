import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { OtlpSettings } from './otlp-config.js';
import { sigV4Signer } from './otlp-sigv4.js';
import { OtlpExporter } from './otlp-sink.js';

// The OTLP exporter a configuration asks for. The collector imports this module only when OTLP_ENDPOINT is set,
// and its bundle keeps it in a file of its own (otlp.mjs beside index.mjs, scripts/bundle-options.mjs).

/** What SigV4 signs with: the CloudWatch client's credentials (the SDK's provider chain) and Region. */
export type AwsIdentity = Pick<CloudWatchClient['config'], 'credentials' | 'region'>;

export function createOtlpExport(
  settings: OtlpSettings,
  aws: AwsIdentity | undefined,
  now: () => number,
): OtlpExporter {
  const endpoint = new URL(settings.endpoint);
  const { datapoints } = settings;
  if (settings.auth === 'none' || aws === undefined) return new OtlpExporter({ endpoint, now, datapoints });
  const { region } = settings;
  return new OtlpExporter({
    endpoint,
    now,
    datapoints,
    signer: sigV4Signer({ credentials: aws.credentials, region: region ?? aws.region, now }),
  });
}
