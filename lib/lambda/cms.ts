import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CmsClient } from '../cms/client.js';
import type { CredentialSource } from '../cms/credentials.js';
import { SecretsManagerCredentials } from '../cms/secrets.js';
import type { CmsAccess } from '../config.js';
import { ConfigError } from '../errors.js';
import type { Log } from '../log.js';

export interface CmsWiring {
  readonly secretsManager?: SecretsManagerClient;
  /** Local runs hand in their key pair directly; then CMS_SECRET_ID is not needed. */
  readonly credentials?: CredentialSource;
  /** The clock requests are signed and deadlines read with; default Date.now. */
  readonly now?: () => number;
}

/**
 * The CMS client every handler uses: the function's CMS settings, key pair from Secrets Manager; `log` hears
 * which signature layout CMS accepted. The settings are optional in the configuration (tests and local runs hand
 * in a client or a key pair), so their absence is reported here, when the client is built at cold start.
 */
export function createCmsClient(access: CmsAccess, wiring: CmsWiring, log: Log): CmsClient {
  if (access.cms === undefined) throw new ConfigError('CMS_BASE_URL', 'is required');
  const { secret } = access;
  let credentials = wiring.credentials;
  if (credentials === undefined) {
    if (secret === undefined) throw new ConfigError('CMS_SECRET_ID', 'is required');
    credentials = new SecretsManagerCredentials({
      client: wiring.secretsManager ?? new SecretsManagerClient({}),
      ...secret,
    });
  }
  return new CmsClient({ ...access.cms, credentials, log, now: wiring.now });
}
