/** The C2 key pair, and optionally a CA bundle that the credentials secret carries for a private CC-CMS. */
export interface CmsCredentials {
  readonly accessKey: string;
  readonly secretKey: string;
  /** PEM; trusted in addition to Node's roots and the client's configured bundle. */
  readonly caCertificate?: string;
}

/**
 * Where the key pair comes from. refresh() is called once after a 401 (the secret may have been rotated). The
 * signal is the caller's deadline: a source that has to wait on something aborts that wait with it.
 */
export interface CredentialSource {
  current(signal?: AbortSignal): Promise<CmsCredentials>;
  refresh(signal?: AbortSignal): Promise<CmsCredentials>;
}

/** A key pair that never changes: a 401 cannot be cured by refreshing it, so refresh gives the same pair. */
export function staticCredentials(credentials: CmsCredentials): CredentialSource {
  const fixed: CmsCredentials = Object.freeze({ ...credentials });
  return {
    current: () => Promise.resolve(fixed),
    refresh: () => Promise.resolve(fixed),
  };
}

/** Whether two credentials would sign identically (the CA bundle plays no part in a 401). */
export function sameKeyPair(a: CmsCredentials, b: CmsCredentials): boolean {
  return a.accessKey === b.accessKey && a.secretKey === b.secretKey;
}
