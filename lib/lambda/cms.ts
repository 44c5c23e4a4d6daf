import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CmsClient } from '../cms/client.js';
import type { CredentialSource } from '../cms/credentials.js';
import { SecretsManagerCredentials } from '../cms/secrets.js';
import { loadCmsSettings, loadSecretSettings } from '../cms/settings.js';
import type { Env } from '../config/rules.js';
import type { Log } from '../log.js';

export interface CmsWiring {
  readonly secretsManager?: SecretsManagerClient;
  /** Local runs hand in their key pair directly; then CMS_SECRET_ID is not needed. */
  readonly credentials?: CredentialSource;
  /** The clock requests are signed and deadlines read with; default Date.now. */
  readonly now?: () => number;
}

/**
 * The CMS client every handler uses, built at cold start from the function's CMS settings (read here, after the
 * function's own configuration, so that problems are reported in that order), its key pair from Secrets Manager
 * unless one is handed in; `log` hears which signature layout CMS accepted.
 */
export function createCmsClient(env: Env, wiring: CmsWiring, log: Log): CmsClient {
  const settings = loadCmsSettings(env);
  let credentials = wiring.credentials;
  if (credentials === undefined) {
    const secret = loadSecretSettings(env);
    credentials = new SecretsManagerCredentials({
      client: wiring.secretsManager ?? new SecretsManagerClient({}),
      ...secret,
    });
  }
  return new CmsClient({ ...settings, credentials, log, now: wiring.now });
}
