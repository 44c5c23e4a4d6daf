import type { ClientRequest, IncomingMessage } from 'node:http';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

// One OTLP/HTTP POST with a hard time limit and a capped answer. Plain http only ever reaches a loopback host
// (the configuration refuses anything else); TLS verification is Node's, never switched off. No error carries
// the request headers, so a signature cannot travel in a log line.

export interface OtlpPostRequest {
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

/** A request that got no HTTP answer: refused, reset, timed out or cancelled. */
export class OtlpRequestError extends Error {
  constructor(
    message: string,
    /** Worth another attempt within the deadline (a connection problem); a timeout is not retried. */
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'OtlpRequestError';
  }
}

/** An OTLP answer is a status and a small message; anything bigger is not read. */
const MAX_ANSWER_BYTES = 64 * 1024;

/** A POST function with keep-alive agents of its own, so that a warm container reuses its connection. */
export function createOtlpPost(maxSockets: number): OtlpPost {
  const agents = {
    http: new HttpAgent({ keepAlive: true, maxSockets }),
    https: new HttpsAgent({ keepAlive: true, maxSockets }),
  };
  return (post) => send(post, post.url.protocol === 'http:' ? agents.http : agents.https);
}

function send(post: OtlpPostRequest, agent: HttpAgent | HttpsAgent): Promise<OtlpAnswer> {
  return new Promise((resolve, reject) => {
    const where = `OTLP endpoint ${post.url.host}`;
    if (post.signal?.aborted) {
      reject(new OtlpRequestError(`${where}: the run's deadline passed before sending`, false));
      return;
    }
    let settled = false;
    let req: ClientRequest | undefined;
    const settle = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      post.signal?.removeEventListener('abort', onAbort);
      outcome();
    };
    const fail = (error: OtlpRequestError): void =>
      settle(() => {
        req?.destroy();
        reject(error);
      });
    const onAbort = (): void => fail(new OtlpRequestError(`${where}: cut off by the run's deadline`, false));
    const timer = setTimeout(
      () => fail(new OtlpRequestError(`${where} did not answer within ${post.timeoutMs} ms`, false)),
      post.timeoutMs,
    );
    post.signal?.addEventListener('abort', onAbort, { once: true });
    const onAnswer = (res: IncomingMessage): void => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        // The status is what matters; an oversized body is cut, not an error.
        if (size <= MAX_ANSWER_BYTES) chunks.push(chunk);
      });
      res.on('end', () =>
        settle(() =>
          resolve({
            status: res.statusCode ?? 0,
            retryAfter: headerText(res.headers['retry-after']),
            contentType: headerText(res.headers['content-type']),
            body: Buffer.concat(chunks),
          }),
        ),
      );
      res.on('error', (error) => fail(connectionFailure(where, error)));
      res.on('close', () => {
        if (!res.complete) fail(new OtlpRequestError(`${where} closed the connection mid-answer`, true));
      });
    };
    try {
      const options = { method: 'POST', headers: post.headers, agent };
      req =
        post.url.protocol === 'http:'
          ? httpRequest(post.url, options, onAnswer)
          : httpsRequest(post.url, options, onAnswer);
      req.on('error', (error) => fail(connectionFailure(where, error)));
      req.end(post.body);
    } catch (error) {
      // Node refuses a header it cannot send before any byte leaves; its message may quote the header.
      const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
      fail(new OtlpRequestError(`${where}: the request could not be sent [${code}]`, false));
    }
  });
}

const headerText = (value: string | string[] | undefined): string | undefined =>
  Array.isArray(value) ? value[0] : value;

function connectionFailure(where: string, error: Error): OtlpRequestError {
  const code = (error as NodeJS.ErrnoException).code;
  // A refused certificate is refused again on retry.
  const tls = code !== undefined && /CERT|SELF_SIGNED|ALTNAME|UNABLE_TO/.test(code);
  return new OtlpRequestError(
    `${where}: ${tls ? 'the TLS certificate was refused' : 'connection failed'}: ${error.message}${code ? ` [${code}]` : ''}`,
    !tls,
  );
}
