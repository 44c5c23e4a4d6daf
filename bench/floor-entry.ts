import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/**
 * The least a handler of this product must load: the two AWS SDK clients it talks to, constructed. Built with
 * the handlers' esbuild options, it is the yardstick their bundle size and import time are compared with.
 */
export const clients = {
  cloudWatch: new CloudWatchClient({}),
  secretsManager: new SecretsManagerClient({}),
};
