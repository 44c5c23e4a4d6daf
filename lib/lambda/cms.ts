import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CmsClient } from '../cms/client.js';
import type { CredentialSource } from '../cms/credentials.js';
import { type Env, loadCmsSettings, loadSecretSettings } from '../config.js';
import type { Log } from '../log.js';
import { SecretsManagerCredentials } from '../secrets.js';

export interface CmsWiring {
  readonly secretsManager?: SecretsManagerClient;
  /** Local runs hand in their key pair directly; then CMS_SECRET_ID is not needed. */
  readonly credentials?: CredentialSource;
  /** The clock requests are signed and deadlines read with; default Date.now. */
  readonly now?: () => number;
}

/**
 * The CMS client every handler uses: settings from the environment, key pair from Secrets Manager; `log` hears
 * which signature layout CMS accepted.
 */
export function createCmsClientFromEnv(env: Env, wiring: CmsWiring, log: Log): CmsClient {
  const settings = loadCmsSettings(env);
  const credentials =
    wiring.credentials ??
    new SecretsManagerCredentials({
      client: wiring.secretsManager ?? new SecretsManagerClient({}),
      ...loadSecretSettings(env),
    });
  return new CmsClient({ ...settings, credentials, log, now: wiring.now });
}
