import type { ClientRequest } from 'node:http';
import { Agent, request } from 'node:https';
import { createSecureContext, rootCertificates } from 'node:tls';
import { CmsError, CmsNetworkError, CmsProtocolError, CmsTimeoutError } from '../errors.js';

// One HTTPS POST with a hard time limit and a capped body. Every failure comes out as a CmsError; none of them
// carries the request headers, so the Authorization value cannot travel with an error.

export interface HttpsPost {
  readonly url: URL;
  /** Sent exactly as given: they are the headers the signature covers. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly agent: Agent;
  /** Limit for this attempt, from sending to the last byte of the response. */
  readonly timeoutMs: number;
  /** Aborts the attempt (caller's deadline or cancellation); its reason's message becomes the timeout's. */
  readonly signal: AbortSignal;
  readonly maxResponseBytes: number;
  /** Called once the request may reach the server: its TLS connection is established. */
  readonly onSent?: () => void;
  /** Called with the status as soon as the status line is in, before any of the body. */
  readonly onStatus?: (status: number) => void;
}

export interface HttpsAnswer {
  readonly status: number;
  /** Read for HTTP 200 only: any other status is known from the status line (an unread 401 counts all the same). */
  readonly body: string;
  /** The server's `Date` header, the only view of its clock. */
  readonly date: string | undefined;
}

export function httpsPost(post: HttpsPost): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    if (post.signal.aborted) {
      reject(abortError(post.signal));
      return;
    }
    let settled = false;
    let req: ClientRequest | undefined;
    const settle = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      post.signal.removeEventListener('abort', onAbort);
      outcome();
    };
    const fail = (error: CmsError): void =>
      settle(() => {
        // Destroying the request also destroys its socket, so a half-read response is never reused.
        req?.destroy();
        reject(error);
      });
    const onAbort = (): void => fail(abortError(post.signal));
    const timer = setTimeout(
      () => fail(new CmsTimeoutError(`CMS at ${post.url.host} did not answer within ${post.timeoutMs} ms`)),
      post.timeoutMs,
    );
    post.signal.addEventListener('abort', onAbort, { once: true });

    try {
      req = request(post.url, { method: 'POST', headers: post.headers, agent: post.agent }, (res) => {
        const status = res.statusCode ?? 0;
        post.onStatus?.(status);
        if (status !== 200) {
          settle(() => resolve({ status, body: '', date: res.headers.date }));
          // The unread body would be taken for the next answer: the connection goes.
          req?.destroy();
          return;
        }
        const tooLarge = (): CmsProtocolError =>
          new CmsProtocolError(`CMS answered more than ${post.maxResponseBytes} bytes`);
        if (Number(res.headers['content-length']) > post.maxResponseBytes) {
          fail(tooLarge());
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > post.maxResponseBytes) fail(tooLarge());
          else chunks.push(chunk);
        });
        res.on('end', () => {
          const body = decodeUtf8(Buffer.concat(chunks, size));
          if (body === undefined) fail(new CmsProtocolError('CMS answered a body that is not UTF-8'));
          else settle(() => resolve({ status, body, date: res.headers.date }));
        });
        res.on('error', (error) => fail(connectionError(post.url, error)));
        // 'close' before 'end' means the server went away in the middle of the body.
        res.on('close', () => {
          if (!res.complete) {
            fail(
              new CmsNetworkError(
                `CMS at ${post.url.host} closed the connection in the middle of the response`,
              ),
            );
          }
        });
      });
      req.on('error', (error) => fail(connectionError(post.url, error)));
      req.on('socket', (socket) => {
        if (req?.reusedSocket) post.onSent?.();
        else socket.once('secureConnect', () => post.onSent?.());
      });
      req.end(post.body);
    } catch (error) {
      // Node refuses a header it cannot send (e.g. a non-ASCII access key) before any byte leaves; its message
      // may quote the header, so only the error code is kept.
      const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
      fail(
        new CmsNetworkError(`CMS at ${post.url.host}: the request could not be sent [${code}]`, {
          retryable: false,
        }),
      );
    }
  });
}

/** A CmsError reason (the deadline, an IP lock found by another request) is the attempt's own error. */
function abortError(signal: AbortSignal): CmsError {
  const reason: unknown = signal.reason;
  if (reason instanceof CmsError) return reason;
  return new CmsTimeoutError(reason instanceof Error ? reason.message : 'the request was cancelled');
}

function decodeUtf8(bytes: Buffer): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/** Why a certificate was refused, by the OpenSSL/Node error code, for the ones an operator can fix. */
const CERTIFICATE_REFUSALS: Readonly<Record<string, string>> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'unknown certificate authority (add its CA to the configured CA bundle)',
  UNABLE_TO_GET_ISSUER_CERT: 'unknown certificate authority (add its CA to the configured CA bundle)',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'unknown certificate authority (add its CA to the configured CA bundle)',
  SELF_SIGNED_CERT_IN_CHAIN: 'unknown certificate authority (add its CA to the configured CA bundle)',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed certificate that is not in the configured CA bundle',
  CERT_UNTRUSTED: 'certificate not trusted',
  CERT_HAS_EXPIRED: 'certificate expired',
  CERT_NOT_YET_VALID: 'certificate not yet valid',
  CERT_REVOKED: 'certificate revoked',
  CERT_SIGNATURE_FAILURE: 'certificate signature invalid',
  CERT_REJECTED: 'certificate rejected',
  INVALID_CA: 'invalid CA certificate in the chain',
  INVALID_PURPOSE: 'certificate not meant for a TLS server',
  PATH_LENGTH_EXCEEDED: 'certificate chain too long',
  HOSTNAME_MISMATCH: 'host name mismatch',
  ERR_TLS_CERT_ALTNAME_INVALID: 'host name mismatch',
};

/**
 * A refused certificate will be refused again on retry, so it is final; anything else on the wire (refused,
 * reset, DNS, a stale keep-alive socket) may pass on the next attempt.
 */
/** What an operator can make of a certificate refusal with this error code; undefined for other errors. */
export function certificateRefusal(code: string | undefined): string | undefined {
  return code === undefined ? undefined : CERTIFICATE_REFUSALS[code];
}

export function connectionError(url: URL, error: Error): CmsNetworkError {
  const code = (error as NodeJS.ErrnoException).code;
  const refusal = certificateRefusal(code);
  if (refusal !== undefined) {
    return new CmsNetworkError(
      `CMS at ${url.host}: the TLS certificate was refused: ${refusal} [${code}] ${error.message}`,
      { cause: error, retryable: false },
    );
  }
  return new CmsNetworkError(
    `CMS at ${url.host}: connection failed: ${error.message}${code ? ` [${code}]` : ''}`,
    {
      cause: error,
    },
  );
}

/**
 * The certificates to trust: Node's roots plus the extra bundles. Node's `ca` option replaces its roots instead
 * of adding to them, hence the roots are listed explicitly; undefined when there is nothing to add, so that
 * Node's defaults apply untouched.
 */
export function trustedCertificates(extraBundles: readonly (string | undefined)[]): string[] | undefined {
  const extras = presentBundles(extraBundles);
  return extras.length === 0 ? undefined : [...rootCertificates, ...extras];
}

function presentBundles(bundles: readonly (string | undefined)[]): string[] {
  return bundles.filter((bundle): bundle is string => bundle !== undefined && bundle.trim() !== '');
}

/**
 * Keep-alive agents, one per distinct trust bundle: a warm Lambda container reuses its TLS connections from one
 * invocation to the next, and a secret carrying its own CA gets an agent of its own.
 */
/** Distinct CA bundles kept at once; more only happens when the secret's CA keeps changing. */
const MAX_AGENTS = 4;

export class AgentPool {
  readonly #agents = new Map<string, Agent>();

  constructor(private readonly maxSockets: number) {}

  agentFor(extraBundles: readonly (string | undefined)[]): Agent {
    const key = presentBundles(extraBundles).join('\n');
    let agent = this.#agents.get(key);
    if (agent === undefined) {
      const ca = trustedCertificates(extraBundles);
      agent = new Agent({
        keepAlive: true,
        maxSockets: this.maxSockets,
        maxFreeSockets: this.maxSockets,
        scheduling: 'lifo',
        // One parsed trust store per bundle: passing `ca` instead would parse every root certificate again for
        // each new connection (tens of ms of CPU apiece) and key the agent's socket pool by the whole bundle.
        ...(ca === undefined ? {} : { secureContext: createSecureContext({ ca }) }),
      });
      this.#agents.set(key, agent);
      this.#dropStale();
    }
    return agent;
  }

  /** A CA carried in a rotated secret replaces the old one: keep only the newest few agents. */
  #dropStale(): void {
    for (const [key, agent] of this.#agents) {
      if (this.#agents.size <= MAX_AGENTS) return;
      agent.destroy();
      this.#agents.delete(key);
    }
  }

  /** Agents made so far (one per distinct bundle). */
  get size(): number {
    return this.#agents.size;
  }

  close(): void {
    for (const agent of this.#agents.values()) agent.destroy();
    this.#agents.clear();
  }
}
