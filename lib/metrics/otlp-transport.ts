// One OTLP/HTTP POST with a hard time limit and a capped answer, through Node's built-in fetch (keep-alive, so a
// warm container reuses its connection; nothing added to the bundle). Plain http only ever reaches a loopback
// host (the configuration refuses anything else); TLS verification is Node's, never switched off. No error
// carries the request headers, so a signature cannot travel in a log line.

interface OtlpPostRequest {
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

export interface OtlpAnswer {
  readonly status: number;
  /** `Retry-After` as sent (seconds or an HTTP date), for 429 and 503. */
  readonly retryAfter: string | undefined;
  readonly contentType: string | undefined;
  readonly body: Buffer;
}

/** How the exporter sends a request; the benchmark hands in one that meters instead. */
export type OtlpPost = (request: OtlpPostRequest) => Promise<OtlpAnswer>;

/** A request that got no HTTP answer: refused, reset, timed out or cut off by the deadline. */
export class OtlpRequestError extends Error {
  constructor(
    message: string,
    /** Worth another attempt within the deadline (a connection problem); a timeout is not retried. */
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

/** An OTLP answer is a status and a small message; anything bigger is not read. */
const MAX_ANSWER_BYTES = 64 * 1024;

export const postOtlp: OtlpPost = async ({ url, headers, body, timeoutMs, signal }) => {
  const where = `OTLP endpoint ${url.host}`;
  const timeout = AbortSignal.timeout(timeoutMs);
  const stop = signal ? AbortSignal.any([timeout, signal]) : timeout;
  try {
    // fetch sets Host and Content-Length itself, to the values signed.
    const { host: _host, 'content-length': _length, ...sent } = headers;
    const response = await fetch(url, { method: 'POST', headers: sent, body, signal: stop });
    const chunks: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of response.body ?? []) {
      size += chunk.length;
      // The status is what matters; an oversized body is cut, not an error.
      if (size > MAX_ANSWER_BYTES) break;
      chunks.push(chunk);
    }
    return {
      status: response.status,
      retryAfter: response.headers.get('retry-after') ?? undefined,
      contentType: response.headers.get('content-type') ?? undefined,
      body: Buffer.concat(chunks),
    };
  } catch (error) {
    if (timeout.aborted) throw new OtlpRequestError(`${where} did not answer within ${timeoutMs} ms`, false);
    if (stop.aborted) throw new OtlpRequestError(`${where}: cut off by the run's deadline`, false);
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const code = cause?.code ?? '';
    // A refused certificate is refused again on retry.
    const tls = /CERT|SELF_SIGNED|ALTNAME|UNABLE_TO/.test(code);
    throw new OtlpRequestError(
      `${where}: ${tls ? 'the TLS certificate was refused' : 'connection failed'}: ${cause?.message ?? String(error)}${code ? ` [${code}]` : ''}`,
      !tls,
    );
  }
};
