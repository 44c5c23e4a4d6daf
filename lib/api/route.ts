import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { clip } from '../text.js';
import { MethodNotAllowedError, RouteNotFoundError } from './errors.js';

/** What the API needs of an API Gateway (payload 2.0) event, in a shape that is easy to build and test. */
export interface ApiRequest {
  /** Upper case. */
  readonly method: string;
  /** Without the stage prefix of a named stage, and without a trailing slash. */
  readonly path: string;
  readonly query: Readonly<Record<string, string | undefined>>;
  /** Names lower-cased (API Gateway already does; direct invocations may not). */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: string | undefined;
  readonly isBase64Encoded: boolean;
}

/**
 * The statistics of one VDN. The tenant is in the path, not in the query or body: IAM authorizes a caller on
 * the invoke ARN, which carries the path (`…/$default/GET/call-centers/1/vdns/170/skills/current-stats`) but
 * not the query string, so only this way can a policy grant one VDN and withhold the others.
 */
export const STATS_ROUTE = '/call-centers/{ccId}/vdns/{vdn}/skills/current-stats';
export const STATS_METHODS = ['GET', 'POST'] as const;
export type StatsMethod = (typeof STATS_METHODS)[number];

/** The API's route keys, as API Gateway names them (serverless.yml declares the same two). */
export const STATS_ROUTE_KEYS: readonly string[] = STATS_METHODS.map((method) => `${method} ${STATS_ROUTE}`);

/** The path of one VDN's statistics, e.g. `/call-centers/1/vdns/170/skills/current-stats`. */
export function statsPath(ccId: number, vdn: number): string {
  return STATS_ROUTE.replace('{ccId}', String(ccId)).replace('{vdn}', String(vdn));
}

/** STATS_ROUTE with a capture group per path parameter (the route holds no other regex characters). */
const STATS_PATH_PATTERN = new RegExp(`^${STATS_ROUTE.replace(/\{\w+\}/g, '([^/]+)')}$`);

/** A request matched to the stats route: its method and the path's segments, not yet validated. */
export interface StatsRoute {
  readonly method: StatsMethod;
  readonly ccId: string;
  readonly vdn: string;
}

/**
 * A named stage (`/prod/call-centers/...`) prefixes rawPath while the `$default` stage does not; matching on the path
 * without it keeps the routes the same whichever stage the API is deployed to.
 */
function pathOf(rawPath: string | undefined, stage: string | undefined): string {
  let path = rawPath || '/';
  if (stage && stage !== '$default' && path.startsWith(`/${stage}/`)) path = path.slice(stage.length + 1);
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

function lowerCaseKeys(
  record: Readonly<Record<string, string | undefined>>,
): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(record).map(([name, value]) => [name.toLowerCase(), value]));
}

export function requestOfEvent(event: APIGatewayProxyEventV2): ApiRequest {
  // Direct invocations (tests, the console) may send partial events: nothing here may assume a field exists.
  const context: Partial<APIGatewayProxyEventV2['requestContext']> = event.requestContext ?? {};
  return {
    method: String(context.http?.method ?? 'GET').toUpperCase(),
    path: pathOf(event.rawPath, context.stage),
    query: event.queryStringParameters ?? {},
    headers: lowerCaseKeys(event.headers ?? {}),
    body: typeof event.body === 'string' ? event.body : undefined,
    isBase64Encoded: event.isBase64Encoded === true,
  };
}

/** The route a request is for, or the error that answers 404 or 405. */
export function matchRoute(request: Pick<ApiRequest, 'method' | 'path'>): StatsRoute {
  const match = STATS_PATH_PATTERN.exec(request.path);
  if (!match) {
    throw new RouteNotFoundError(`no route ${clip(request.path, 100)} (the API serves ${STATS_ROUTE})`);
  }
  const method = STATS_METHODS.find((allowed) => allowed === request.method);
  if (!method) throw new MethodNotAllowedError(request.method, STATS_METHODS);
  return { method, ccId: match[1] ?? '', vdn: match[2] ?? '' };
}
