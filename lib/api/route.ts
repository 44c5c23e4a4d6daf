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

export const STATS_PATH = '/skills/current-stats';
export const STATS_METHODS = ['GET', 'POST'] as const;
export type StatsMethod = (typeof STATS_METHODS)[number];

/**
 * A named stage (`/prod/skills/...`) prefixes rawPath while the `$default` stage does not; matching on the path
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

/** The method of the one route, or the error that answers 404 or 405. */
export function matchRoute(request: Pick<ApiRequest, 'method' | 'path'>): StatsMethod {
  if (request.path !== STATS_PATH) {
    throw new RouteNotFoundError(`no route ${clip(request.path, 100)} (the API serves ${STATS_PATH})`);
  }
  const method = STATS_METHODS.find((allowed) => allowed === request.method);
  if (!method) throw new MethodNotAllowedError(request.method, STATS_METHODS);
  return method;
}
