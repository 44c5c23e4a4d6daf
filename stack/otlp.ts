import { readSetting } from '../lib/config/rules.js';
import { OTLP_RULES, type OtlpSettings, otlpSettings } from '../lib/metrics/otlp-config.js';
import type { StageValues } from './settings.js';

// The permission the collector's OpenTelemetry export needs: only when otlpEndpoint is set and the export signs
// its requests with the function's role (SigV4, the default for CloudWatch's own endpoint). An endpoint without
// AWS authentication (a collector sidecar, another backend) needs nothing in IAM, and neither does OTLP off.

/** The stage parameters of the export, read with the collector's own rules for its OTLP_* variables. */
export const OTLP_PARAMETERS = {
  endpoint: 'otlpEndpoint',
  auth: 'otlpAuth',
  datapoints: 'otlpDatapoints',
} as const;

export function otlpStageSettings(values: StageValues): OtlpSettings | undefined {
  return otlpSettings(
    {
      endpoint: readSetting(values, OTLP_PARAMETERS.endpoint, OTLP_RULES.OTLP_ENDPOINT),
      auth: readSetting(values, OTLP_PARAMETERS.auth, OTLP_RULES.OTLP_AUTH),
      datapoints: readSetting(values, OTLP_PARAMETERS.datapoints, OTLP_RULES.OTLP_DATAPOINTS),
    },
    OTLP_PARAMETERS,
  );
}

/** `CollectorOtlpPolicy`, attached to the collector's role, when the export is signed; nothing otherwise. */
export function buildOtlpPolicy(settings: OtlpSettings | undefined): Record<string, unknown> {
  if (settings?.auth !== 'sigv4') return {};
  return {
    CollectorOtlpPolicy: {
      Type: 'AWS::IAM::Policy',
      Properties: {
        PolicyName: 'otlp-metrics',
        Roles: [{ Ref: 'CollectorRole' }],
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              // CloudWatch's OTLP metrics endpoint (https://monitoring.<region>.amazonaws.com/v1/metrics, SigV4
              // service `monitoring`) authorizes ingestion as cloudwatch:PutMetricData: the AWS managed policy
              // CloudWatchAPIKeyAccess, which the CloudWatch User Guide ("Setting up bearer token authentication
              // for Metrics") attaches for the same endpoint, grants exactly cloudwatch:PutMetricData (and
              // cloudwatch:CallWithBearerToken for API keys, which SigV4 does not need). PutMetricData has no
              // resource-level permissions, and OTLP datapoints carry no CloudWatch namespace, so the
              // cloudwatch:namespace condition of the classic statement cannot narrow this one.
              Effect: 'Allow',
              Action: 'cloudwatch:PutMetricData',
              Resource: '*',
            },
          ],
        },
      },
    },
  };
}
