/**
 * A local stand-in for API Gateway (HTTP API, payload format 2.0) in front of a Lambda handler, on 127.0.0.1:
 * each HTTP request becomes the event API Gateway would send, and the handler's result becomes the response.
 * It is what `npm start` serves the query API with and what the API's contract tests talk to over real HTTP.
 *
 * Mirrored from API Gateway: header names lower-cased and repeats joined with commas, the Cookie header moved
 * to `cookies`, repeated query parameters comma-joined in `queryStringParameters`, non-text bodies base64
 * encoded, a 6 MB request limit (Lambda's), the integration time limit (503), and `{"message":...}` answers when
 * the handler throws or returns something unusable. Response cookies are not supported (the API sets none).
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';

export type HttpApiHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyResultV2<unknown>>;

export interface ApiServerOptions {
  readonly handler: HttpApiHandler;
  /** 0 (default) picks an ephemeral port; the server always binds 127.0.0.1. */
  readonly port?: number;
  /** When the request is given up with 503; default 29 s. */
  readonly timeoutMs?: number;
  /**
   * The function's timeout, what getRemainingTimeInMillis counts down from; default timeoutMs. A deployment keeps
   * it below API Gateway's, so that a function stopping at its own deadline still answers.
   */
  readonly lambdaTimeoutMs?: number;
  /** Called with whatever the handler threw (API Gateway would answer 500 and log nothing more). */
  readonly onError?: (error: unknown) => void;
  /**
   * The API's route keys, e.g. `GET /call-centers/{ccId}/vdns/{vdn}/skills/current-stats`. A request matching
   * one reaches the handler with that routeKey and its pathParameters; one matching none is answered 404
   * without invoking it, as API Gateway does for an API without a `$default` route. Without routes, every
   * request reaches the handler as the `$default` route.
   */
  readonly routes?: readonly string[];
}

export interface ApiServer {
  /** e.g. http://127.0.0.1:40123 (no trailing slash). */
  readonly url: string;
  close(): Promise<void>;
}

/** Lambda's limit on a synchronous invocation's payload. */
const MAX_REQUEST_BYTES = 6 * 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 29_000;

const TEXT_TYPES = /^(text\/|application\/(json|javascript|xml)\b|application\/[\w.+-]+\+(json|xml)\b)/i;

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

function gatewayAnswer(status: number, message: string): Answer {
  return {
    status,
    headers: { 'content-type': 'application/json' },
    body: Buffer.from(JSON.stringify({ message })),
  };
}

/**
 * The body, or undefined when it exceeds the limit. An oversized body is still read to its end (and dropped),
 * so the client finishes sending and reliably receives the 413 instead of a reset connection.
 */
function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_REQUEST_BYTES) chunks.push(chunk);
    });
    request.on('end', () => resolve(size <= MAX_REQUEST_BYTES ? Buffer.concat(chunks) : undefined));
    request.on('error', reject);
  });
}

/** Repeated query parameters arrive comma-joined, as API Gateway passes them. */
function queryParameters(rawQueryString: string): Record<string, string> | undefined {
  const parameters = new Map<string, string>();
  for (const [name, value] of new URLSearchParams(rawQueryString)) {
    const previous = parameters.get(name);
    parameters.set(name, previous === undefined ? value : `${previous},${value}`);
  }
  // fromEntries defines own properties, so even a parameter named __proto__ reaches the handler.
  return parameters.size > 0 ? Object.fromEntries(parameters) : undefined;
}

function headersOf(rawHeaders: readonly (readonly [string, string])[]): {
  headers: Record<string, string>;
  cookies: string[];
} {
  const headers = new Map<string, string>();
  const cookies: string[] = [];
  for (const [rawName, value] of rawHeaders) {
    const name = rawName.toLowerCase();
    if (name === 'cookie') {
      cookies.push(
        ...value
          .split(';')
          .map((cookie) => cookie.trim())
          .filter(Boolean),
      );
      continue;
    }
    const previous = headers.get(name);
    headers.set(name, previous === undefined ? value : `${previous},${value}`);
  }
  return { headers: Object.fromEntries(headers), cookies };
}

/** `12/Mar/2020:19:03:58 +0000`, the format of requestContext.time. */
function gatewayTime(epochMs: number): string {
  const [, day, month, year, time] =
    /^\w+, (\d\d) (\w+) (\d+) ([\d:]+) GMT$/.exec(new Date(epochMs).toUTCString()) ?? [];
  return `${day}/${month}/${year}:${time} +0000`;
}

/** An HTTP request as it came over the wire. */
export interface HttpRequestLike {
  readonly method: string;
  /** The request-target: path and query string, as on the request line. */
  readonly target: string;
  /** Name/value pairs in arrival order, names in any case. */
  readonly headers?: readonly (readonly [string, string])[];
  readonly body?: Buffer | string;
  readonly sourceIp?: string;
  /** e.g. HTTP/1.1 */
  readonly protocol?: string;
}

/** The route a request matched: its key and the values of the path's `{parameters}`. */
export interface MatchedRoute {
  readonly routeKey: string;
  readonly pathParameters: Readonly<Record<string, string>>;
}

/** The first of `routes` (route keys) that `method` and `path` match, as API Gateway would pick it. */
function matchRouteKey(routes: readonly string[], method: string, path: string): MatchedRoute | undefined {
  for (const routeKey of routes) {
    const [routeMethod = '', template = ''] = routeKey.split(' ');
    if (routeMethod !== 'ANY' && routeMethod !== method.toUpperCase()) continue;
    const names: string[] = [];
    const pattern = template
      .split('/')
      .map((part) => {
        const parameter = /^\{(\w+)\}$/.exec(part);
        if (!parameter) return part.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
        names.push(parameter[1] ?? '');
        return '([^/]+)';
      })
      .join('/');
    const match = new RegExp(`^${pattern}$`).exec(path);
    if (match) {
      return {
        routeKey,
        pathParameters: Object.fromEntries(names.map((name, index) => [name, match[index + 1] ?? ''])),
      };
    }
  }
  return undefined;
}

/** The event API Gateway (HTTP API, payload 2.0, `$default` stage) sends for this request. */
export function httpApiEvent(
  request: HttpRequestLike,
  meta: { readonly requestId?: string; readonly now?: number; readonly route?: MatchedRoute } = {},
): APIGatewayProxyEventV2 {
  const now = meta.now ?? Date.now();
  const queryAt = request.target.indexOf('?');
  const rawPath = queryAt < 0 ? request.target : request.target.slice(0, queryAt);
  const rawQueryString = queryAt < 0 ? '' : request.target.slice(queryAt + 1);
  const { headers, cookies } = headersOf(request.headers ?? []);
  const host = headers.host ?? '127.0.0.1';
  const body =
    typeof request.body === 'string' ? Buffer.from(request.body) : (request.body ?? Buffer.alloc(0));
  const isText = TEXT_TYPES.test(headers['content-type'] ?? '');
  const queryStringParameters = queryParameters(rawQueryString);
  const routeKey = meta.route?.routeKey ?? '$default';
  return {
    version: '2.0',
    routeKey,
    rawPath,
    rawQueryString,
    ...(cookies.length > 0 ? { cookies } : {}),
    headers,
    ...(queryStringParameters ? { queryStringParameters } : {}),
    ...(meta.route ? { pathParameters: { ...meta.route.pathParameters } } : {}),
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: host,
      domainPrefix: host.split('.')[0] ?? host,
      http: {
        method: request.method,
        path: rawPath,
        protocol: request.protocol ?? 'HTTP/1.1',
        sourceIp: request.sourceIp ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: meta.requestId ?? randomUUID(),
      routeKey,
      stage: '$default',
      time: gatewayTime(now),
      timeEpoch: now,
    },
    ...(body.length > 0 ? { body: body.toString(isText ? 'utf8' : 'base64') } : {}),
    isBase64Encoded: body.length > 0 && !isText,
  };
}

function eventOf(
  request: IncomingMessage,
  body: Buffer,
  meta: { readonly requestId: string; readonly now: number; readonly route?: MatchedRoute },
): APIGatewayProxyEventV2 {
  const pairs: [string, string][] = [];
  for (let index = 0; index + 1 < request.rawHeaders.length; index += 2) {
    pairs.push([request.rawHeaders[index] ?? '', request.rawHeaders[index + 1] ?? '']);
  }
  return httpApiEvent(
    {
      method: request.method ?? 'GET',
      target: request.url ?? '/',
      headers: pairs,
      body,
      sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
      protocol: `HTTP/${request.httpVersion}`,
    },
    meta,
  );
}

/** What Lambda hands the handler besides the event; the remaining time counts down to `deadline`. */
export function lambdaContext(requestId: string, deadline: number): Context {
  const ignored = (): void => {};
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'cms-skill-metrics-query-local',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:local:000000000000:function:cms-skill-metrics-query-local',
    memoryLimitInMB: '256',
    awsRequestId: requestId,
    logGroupName: '/aws/lambda/cms-skill-metrics-query-local',
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: ignored,
    fail: ignored,
    succeed: ignored,
  };
}

/**
 * A result may be a structured response, or anything else, which API Gateway answers as a 200 JSON body
 * (a string as is, other values serialized).
 */
function answerOf(result: APIGatewayProxyResultV2<unknown>): Answer {
  if (typeof result === 'object' && result !== null && 'statusCode' in result) {
    const structured = result as {
      statusCode?: unknown;
      headers?: unknown;
      body?: unknown;
      isBase64Encoded?: unknown;
    };
    const status = structured.statusCode;
    if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 599) {
      return gatewayAnswer(500, 'Internal Server Error');
    }
    const headers: Record<string, string> = {};
    if (typeof structured.headers === 'object' && structured.headers !== null) {
      for (const [name, value] of Object.entries(structured.headers)) {
        headers[name.toLowerCase()] = String(value);
      }
    }
    const text = typeof structured.body === 'string' ? structured.body : '';
    const body = Buffer.from(text, structured.isBase64Encoded === true ? 'base64' : 'utf8');
    return { status, headers, body };
  }
  const body = typeof result === 'string' ? result : (JSON.stringify(result) ?? '');
  return { status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(body) };
}

function write(response: ServerResponse, answer: Answer): void {
  response.writeHead(answer.status, { ...answer.headers, 'content-length': String(answer.body.length) });
  response.end(answer.body);
}

export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const lambdaTimeoutMs = options.lambdaTimeoutMs ?? timeoutMs;

  async function invoke(request: IncomingMessage): Promise<Answer> {
    const body = await readBody(request);
    if (body === undefined) return gatewayAnswer(413, 'Request Entity Too Large');
    const now = Date.now();
    const requestId = randomUUID();
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    const route = options.routes ? matchRouteKey(options.routes, request.method ?? 'GET', path) : undefined;
    if (options.routes && !route) return gatewayAnswer(404, 'Not Found');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<Answer>((resolve) => {
      timer = setTimeout(() => resolve(gatewayAnswer(503, 'Service Unavailable')), timeoutMs);
    });
    try {
      const invocation = (async () =>
        answerOf(
          await options.handler(
            eventOf(request, body, { requestId, now, ...(route ? { route } : {}) }),
            lambdaContext(requestId, now + lambdaTimeoutMs),
          ),
        ))();
      return await Promise.race([invocation, timedOut]);
    } catch (error) {
      options.onError?.(error);
      return gatewayAnswer(500, 'Internal Server Error');
    } finally {
      clearTimeout(timer);
    }
  }

  const server = createServer((request, response) => {
    invoke(request)
      .then((answer) => write(response, answer))
      .catch((error: unknown) => {
        // Only writing can fail here (an invalid header from the handler, say); the handler's own errors are 500s.
        options.onError?.(error);
        if (!response.headersSent) write(response, gatewayAnswer(500, 'Internal Server Error'));
        else response.destroy();
      });
  });
  server.listen(options.port ?? 0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      const closed = once(server, 'close');
      server.close();
      server.closeAllConnections();
      await closed;
    },
  };
}
