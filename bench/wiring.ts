import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { type CredentialSource, staticCredentials } from '../lib/cms/credentials.js';
import { createCloudWatchClient } from '../lib/metrics/sinks.js';
import type { BenchServers } from './servers-client.js';

/** How the in-process benchmarks reach the stand-in servers, the way `npm start` wires the real handlers. */

/** The simulator's key pair and private CA, handed in as the Secrets Manager secret would carry them. */
export function benchCredentials(servers: BenchServers): CredentialSource {
  return staticCredentials({
    accessKey: servers.accessKey,
    secretKey: servers.secretKey,
    caCertificate: servers.caCertificate,
  });
}

/** A real CloudWatch client, pointed at the fake endpoint with throw-away credentials. */
export function benchCloudWatch(servers: BenchServers): CloudWatchClient {
  return createCloudWatchClient({
    endpoint: servers.awsUrl,
    region: 'us-east-1',
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
}
