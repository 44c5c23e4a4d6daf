import { ValidationError } from '../errors.js';
import { CMS_LIMITS } from '../model.js';
import { normalizeSkillIds, parseSkillList } from '../skills.js';
import { clip } from '../text.js';
import { checkIntegerIn, checkSkillIdArray, readJsonObject, wholeNumberOf } from '../validation.js';
import { BadEventError, MethodNotAllowedError, RouteNotFoundError } from './errors.js';
import type { QueryLimits, StatsQuery } from './stats.js';

// The query API's one route and everything a caller sends to it: an API Gateway event becomes an ApiRequest, is
// matched to the route (a RouteNotFoundError or MethodNotAllowedError otherwise) and is validated into a
// StatsQuery, every refusal naming its field. Which VDNs the deployment serves is checked later, in stats.ts.

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
const STATS_ROUTE = '/call-centers/{ccId}/vdns/{vdn}/skills/current-stats';
const STATS_METHODS = ['GET', 'POST'] as const;
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

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Headers or query parameters: absent is none, otherwise an object of strings (names lower-cased for headers,
 * which API Gateway already does and direct invocations may not).
 */
function stringsOf(value: unknown, field: string, lowerCase: boolean): Record<string, string | undefined> {
  if (value === undefined || value === null) return {};
  if (!isRecord(value)) throw new BadEventError(field, 'must be an object of strings');
  const strings: Record<string, string | undefined> = {};
  for (const [rawName, item] of Object.entries(value)) {
    const name = lowerCase ? rawName.toLowerCase() : rawName;
    if (item !== undefined && item !== null && typeof item !== 'string') {
      throw new BadEventError(`${field}.${clip(name, 60)}`, 'must be a string');
    }
    strings[name] = item ?? undefined;
  }
  return strings;
}

/**
 * The request an event carries. API Gateway always sends a well-formed event; a direct invocation (the console,
 * the CLI, a test) may send anything: a missing field is taken as API Gateway would leave it, a field of the
 * wrong type is a BadEventError naming it.
 */
export function requestOfEvent(event: unknown): ApiRequest {
  if (!isRecord(event)) {
    throw new BadEventError('event', 'must be an API Gateway HTTP API event (payload format 2.0), an object');
  }
  const context = event.requestContext ?? {};
  if (!isRecord(context)) throw new BadEventError('requestContext', 'must be an object');
  const http = isRecord(context.http) ? context.http : {};
  const rawPath = event.rawPath ?? undefined;
  if (rawPath !== undefined && typeof rawPath !== 'string')
    throw new BadEventError('rawPath', 'must be a string');
  const method = http.method ?? 'GET';
  if (typeof method !== 'string') throw new BadEventError('requestContext.http.method', 'must be a string');
  return {
    method: method.toUpperCase(),
    path: pathOf(rawPath, typeof context.stage === 'string' ? context.stage : undefined),
    query: stringsOf(event.queryStringParameters, 'queryStringParameters', false),
    headers: stringsOf(event.headers, 'headers', true),
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

// --- what the caller sent, validated --------------------------------------------------------------------------

const BODY_FIELDS = ['ccId', 'vdn', 'skillIds'] as const;
type BodyField = (typeof BODY_FIELDS)[number];
type PathField = Exclude<BodyField, 'skillIds'>;

function isBodyField(name: string): name is BodyField {
  return (BODY_FIELDS as readonly string[]).includes(name);
}

function tooManySkills(count: number, limits: QueryLimits): ValidationError {
  return new ValidationError(
    'skillIds',
    `names ${count} skills; a query may name at most ${limits.maxSkills}`,
  );
}

function checkSkillCount(skillIds: readonly number[], limits: QueryLimits): readonly number[] {
  if (skillIds.length > limits.maxSkills) throw tooManySkills(skillIds.length, limits);
  return skillIds;
}

// --- the path: which VDN ----------------------------------------------------------------------------------------

/**
 * A path segment as a call center or VDN id. Only the canonical decimal form is accepted: IAM matches the
 * invoke ARN as text, so `0170` answered as VDN 170 would be a second name for a tenant that a policy denying
 * `…/vdns/170/…` does not cover.
 */
function parsePathId(field: PathField, raw: string): number {
  const { min, max } = CMS_LIMITS[field];
  const value = wholeNumberOf(raw);
  // The whole number as it prints is the canonical spelling: no zeros or blanks around it.
  if (value === undefined || String(value) !== raw) {
    throw new ValidationError(
      field,
      `must be a whole number without leading zeros in the path, got "${clip(raw, 20)}"`,
    );
  }
  if (value < min || value > max)
    throw new ValidationError(field, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

// --- GET: query-string parameters -----------------------------------------------------------------------------

/**
 * API Gateway joins repeated parameters with commas, so `skillIds=1&skillIds=5-7` arrives as `1,5-7` and reads
 * as one skill list. The VDN is in the path and nowhere else.
 */
function parseQueryString(query: ApiRequest['query'], limits: QueryLimits): readonly number[] | undefined {
  let skillIds: readonly number[] | undefined;
  for (const [name, raw] of Object.entries(query)) {
    if (name !== 'skillIds') {
      const where = isBodyField(name) ? 'a query parameter: the path names the VDN' : 'a known parameter';
      throw new ValidationError(clip(name, 60), `is not ${where} (expected skillIds)`);
    }
    try {
      skillIds = checkSkillCount(parseSkillList(raw ?? ''), limits);
    } catch (error) {
      if (error instanceof ValidationError) throw error;
      throw new ValidationError('skillIds', `${(error as Error).message} (expected a list like 1-20,35)`);
    }
  }
  return skillIds;
}

// --- POST: the CMS request body -------------------------------------------------------------------------------

/** application/json, with or without a UTF-8 charset; a missing Content-Type is taken to be JSON. */
function checkContentType(contentType: string | undefined): void {
  if (contentType === undefined || contentType.trim() === '') return;
  const [mediaType = '', ...parameters] = contentType.split(';').map((part) => part.trim().toLowerCase());
  const charsets = parameters
    .filter((parameter) => parameter.startsWith('charset='))
    .map((parameter) => parameter.slice('charset='.length).replace(/^"|"$/g, ''));
  if (
    mediaType === 'application/json' &&
    charsets.every((charset) => charset === 'utf-8' || charset === 'utf8')
  ) {
    return;
  }
  throw new ValidationError(
    'content-type',
    `must be application/json (optionally with charset=utf-8), got "${clip(contentType, 60)}"`,
  );
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function bodyText(request: Pick<ApiRequest, 'body' | 'isBase64Encoded'>): string {
  const body = request.body ?? '';
  if (!request.isBase64Encoded) return body;
  try {
    return utf8.decode(Buffer.from(body, 'base64'));
  } catch {
    throw new ValidationError('body', 'is not valid UTF-8');
  }
}

function parseBody(request: ApiRequest, limits: QueryLimits): Partial<StatsQuery> {
  checkContentType(request.headers['content-type']);
  const text = bodyText(request);
  if (text.trim() === '') {
    throw new ValidationError(
      'body',
      'is required: a JSON object such as {"ccId":1,"vdn":170,"skillIds":[1,2]}',
    );
  }
  const reading = readJsonObject(text);
  if (reading.problem !== undefined) {
    throw new ValidationError(
      'body',
      reading.problem === 'not JSON'
        ? 'is not valid JSON'
        : 'must be a JSON object such as {"ccId":1,"vdn":170,"skillIds":[1,2]}',
    );
  }
  const record = reading.object;
  for (const name of Object.keys(record)) {
    if (!isBodyField(name)) {
      throw new ValidationError(clip(name, 60), `is not a known field (expected ${BODY_FIELDS.join(', ')})`);
    }
  }
  // Refused before validating each entry, so an oversized array costs no more than its length check.
  const rawSkills = record.skillIds;
  if (Array.isArray(rawSkills) && rawSkills.length > limits.maxSkills)
    throw tooManySkills(rawSkills.length, limits);

  // Every field is optional: the path names the VDN and the configuration the skills.
  const { ccId, vdn, skillIds } = record;
  return {
    ...(ccId === undefined ? {} : { ccId: checkIntegerIn(ccId, 'ccId', CMS_LIMITS.ccId) }),
    ...(vdn === undefined ? {} : { vdn: checkIntegerIn(vdn, 'vdn', CMS_LIMITS.vdn) }),
    ...(skillIds === undefined
      ? {}
      : {
          skillIds: normalizeSkillIds(
            checkSkillIdArray(
              skillIds,
              'skillIds',
              CMS_LIMITS.skillId,
              'must be an array of skill ids like [1,2]',
            ),
          ),
        }),
  };
}

/** Validates everything the caller sent for the stats route; throws ValidationError naming the field. */
export function parseStatsQuery(request: ApiRequest, route: StatsRoute, limits: QueryLimits): StatsQuery {
  const ccId = parsePathId('ccId', route.ccId);
  const vdn = parsePathId('vdn', route.vdn);
  if (route.method === 'GET') {
    const skillIds = parseQueryString(request.query, limits);
    return { ccId, vdn, ...(skillIds === undefined ? {} : { skillIds }) };
  }
  const [parameter] = Object.keys(request.query);
  if (parameter !== undefined) {
    throw new ValidationError(
      clip(parameter, 60),
      'query parameters are not accepted with POST; send the fields in the JSON body',
    );
  }
  const body = parseBody(request, limits);
  // A body may repeat the path's VDN (it is the CMS request body), but never name another.
  for (const [field, value] of [
    ['ccId', ccId],
    ['vdn', vdn],
  ] as const) {
    if (body[field] !== undefined && body[field] !== value) {
      throw new ValidationError(
        field,
        `is ${body[field]} in the body but ${value} in the path; they must agree`,
      );
    }
  }
  return { ccId, vdn, ...(body.skillIds === undefined ? {} : { skillIds: body.skillIds }) };
}
