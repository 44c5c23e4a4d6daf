import { GetSecretValueCommand, type GetSecretValueCommandOutput } from '@aws-sdk/client-secrets-manager';
import type { CmsCredentials, CredentialSource } from './cms/credentials.js';
import { SecretError } from './errors.js';
import { describeError } from './log.js';
import { certificateBundleProblem } from './pem.js';
import { readJsonObject } from './validation.js';

// The CMS key pair lives in one Secrets Manager secret, JSON `{"accessKey","secretKey","caCertificate"?}`.
// Warm containers reuse it for `ttlMs`; a CMS 401 forces one fresh read, which is how a rotation is picked up
// between TTL expiries.

/** Parses the secret's JSON. Messages name the field only: the secret's content is never echoed. */
export function parseCmsSecret(secretString: string | undefined, secretId: string): CmsCredentials {
  if (secretString === undefined) {
    throw new SecretError(`secret ${secretId} has no SecretString (binary secrets are not supported)`);
  }
  const reading = readJsonObject(secretString);
  if (reading.problem !== undefined) {
    const what = reading.problem === 'not JSON' ? 'JSON' : 'a JSON object';
    throw new SecretError(
      `secret ${secretId} is not ${what} (expected {"accessKey","secretKey","caCertificate"?})`,
    );
  }
  const record = reading.object;
  const text = (field: string): string => {
    const value = record[field];
    if (typeof value !== 'string' || value.trim() === '') {
      throw new SecretError(`secret ${secretId}: field "${field}" is missing or not a non-empty string`);
    }
    return value;
  };
  const credentials = { accessKey: text('accessKey'), secretKey: text('secretKey') };
  if (record.caCertificate === undefined || record.caCertificate === null || record.caCertificate === '') {
    return credentials;
  }
  const caCertificate = text('caCertificate');
  const problem = certificateBundleProblem(caCertificate);
  if (problem !== undefined) throw new SecretError(`secret ${secretId}: field "caCertificate" ${problem}`);
  return { ...credentials, caCertificate };
}

/** The one method of SecretsManagerClient used here, so tests can stand in for the service. */
interface GetSecretValueClient {
  send(
    command: GetSecretValueCommand,
    options?: { abortSignal?: AbortSignal },
  ): Promise<Pick<GetSecretValueCommandOutput, 'SecretString'>>;
}

export interface SecretsManagerCredentialsOptions {
  readonly client: GetSecretValueClient;
  readonly secretId: string;
  readonly ttlMs: number;
  readonly now?: () => number;
}

/** One GetSecretValue call and the callers waiting for it. */
interface Flight {
  readonly promise: Promise<CmsCredentials>;
  readonly controller: AbortController;
  /** Callers still waiting with a deadline of their own. */
  waiters: number;
  /** A caller without a deadline waits too: the call is then never aborted. */
  unbounded: boolean;
}

export class SecretsManagerCredentials implements CredentialSource {
  private cached: { credentials: CmsCredentials; fetchedAt: number } | undefined;
  private inFlight: Flight | undefined;
  private readonly now: () => number;

  constructor(private readonly options: SecretsManagerCredentialsOptions) {
    this.now = options.now ?? Date.now;
  }

  current(signal?: AbortSignal): Promise<CmsCredentials> {
    const cached = this.cached;
    if (cached && this.now() - cached.fetchedAt < this.options.ttlMs)
      return Promise.resolve(cached.credentials);
    return this.refresh(signal);
  }

  /**
   * Concurrent callers (every target of a run, every batch hitting the same 401) share one GetSecretValue call.
   * Each waits no longer than its own deadline; the call itself is aborted once no caller is left waiting.
   */
  refresh(signal?: AbortSignal): Promise<CmsCredentials> {
    let flight = this.inFlight;
    if (flight === undefined) {
      const controller = new AbortController();
      const promise = this.fetch(controller.signal).finally(() => {
        if (this.inFlight === flight) this.inFlight = undefined;
      });
      flight = { promise, controller, waiters: 0, unbounded: false };
      this.inFlight = flight;
    }
    return this.wait(flight, signal);
  }

  private wait(flight: Flight, signal: AbortSignal | undefined): Promise<CmsCredentials> {
    if (signal === undefined) {
      flight.unbounded = true;
      return flight.promise;
    }
    flight.waiters += 1;
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        flight.waiters -= 1;
        if (flight.waiters === 0 && !flight.unbounded) flight.controller.abort();
        reject(this.givenUp());
      };
      if (signal.aborted) {
        onAbort();
        return;
      }
      signal.addEventListener('abort', onAbort, { once: true });
      flight.promise.then(
        (credentials) => {
          signal.removeEventListener('abort', onAbort);
          resolve(credentials);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
    });
  }

  private givenUp(cause?: unknown): SecretError {
    return new SecretError(
      `reading secret ${this.options.secretId} was given up at the caller's deadline`,
      cause === undefined ? undefined : { cause },
    );
  }

  private async fetch(signal: AbortSignal): Promise<CmsCredentials> {
    const { secretId } = this.options;
    let secretString: string | undefined;
    try {
      const output = await this.options.client.send(new GetSecretValueCommand({ SecretId: secretId }), {
        abortSignal: signal,
      });
      secretString = output.SecretString;
    } catch (error) {
      if (signal.aborted) throw this.givenUp(error);
      const { type } = describeError(error);
      throw new SecretError(`cannot read secret ${secretId} from Secrets Manager (${type})`, {
        cause: error,
      });
    }
    const credentials = parseCmsSecret(secretString, secretId);
    this.cached = { credentials, fetchedAt: this.now() };
    return credentials;
  }
}
