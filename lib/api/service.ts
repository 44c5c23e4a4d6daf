import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { StatsSource } from '../cms/stats-source.js';
import { invocationDeadline } from '../deadline.js';
import { describeError, type Log } from '../log.js';
import type { Target } from '../model.js';
import { formatSkillList } from '../skills.js';
import { clip } from '../text.js';
import type { CacheSource } from './cache.js';
import { errorAnswer, MAX_MESSAGE_LENGTH } from './errors.js';
import { type ApiRequest, matchRoute, parseStatsQuery, requestOfEvent } from './route.js';
import { createStatsLookup, type QueryLimits, resolveTarget, type StatsLookupConfig } from './stats.js';

export interface QueryServiceConfig extends QueryLimits, StatsLookupConfig {
  readonly targets: readonly Target[];
}

export interface QueryServiceDeps {
  readonly cms: StatsSource;
  readonly log: Log;
  /** Clock of the cache and of `fetchedAt`. Deadlines handed to the CMS client are always wall-clock time. */
  readonly now: () => number;
}

export type QueryHandler = (
  event: APIGatewayProxyEventV2,
  context: Pick<Context, 'getRemainingTimeInMillis'>,
) => Promise<APIGatewayProxyStructuredResultV2>;

/**
 * Every answer is JSON and about live counters that change every poll: no client or proxy may store one, so a
 * stale wallboard can never be served from an intermediate cache.
 */
const COMMON_HEADERS = { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' } as const;

function jsonResponse(
  statusCode: number,
  body: string,
  headers: Readonly<Record<string, string>> = {},
): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { ...COMMON_HEADERS, ...headers }, body, isBase64Encoded: false };
}

/** Messages of caller errors may echo what the caller sent: a log line stays bounded whatever that was. */
function logged(error: unknown): ReturnType<typeof describeError> {
  const described = describeError(error);
  return { ...described, message: clip(described.message, MAX_MESSAGE_LENGTH) };
}

/**
 * The whole on-demand API as one function of an API Gateway event. Every outcome, including a bug, becomes a
 * JSON answer: the handler never throws, so API Gateway never substitutes its own opaque 500.
 */
export function createQueryService(config: QueryServiceConfig, deps: QueryServiceDeps): QueryHandler {
  const stats = createStatsLookup(config, deps);

  async function answer(
    request: ApiRequest,
    remainingMs: () => number,
    note: (fields: Record<string, unknown>) => void,
  ): Promise<APIGatewayProxyStructuredResultV2> {
    const route = matchRoute(request);
    const query = parseStatsQuery(request, route, config);
    const target = resolveTarget(query, config.targets, config);
    const skills = formatSkillList(target.skillIds);
    note({
      ccId: target.ccId,
      vdn: target.vdn,
      skills: clip(skills, 200),
      skillCount: target.skillIds.length,
    });
    const deadline = invocationDeadline(remainingMs(), Date.now(), config.timeoutMs);
    const { value, source } = await stats.get(target, deadline);
    note({ cache: source satisfies CacheSource, liveQueue: value.liveQueue });
    return jsonResponse(200, value.body);
  }

  return async (event, context) => {
    const started = performance.now();
    const fields: Record<string, unknown> = {};
    const note = (more: Record<string, unknown>) => Object.assign(fields, more);
    let response: APIGatewayProxyStructuredResultV2;
    let failure: { error: unknown; level: 'info' | 'error' } | undefined;
    // A direct invocation may send anything as the event: only a string is quoted back as the request id.
    const requestId = (event as { requestContext?: { requestId?: unknown } } | null)?.requestContext
      ?.requestId;
    const quotedId = typeof requestId === 'string' ? requestId : undefined;
    try {
      const request = requestOfEvent(event);
      note({ method: clip(request.method, 20), path: clip(request.path, 200) });
      response = await answer(request, () => context.getRemainingTimeInMillis(), note);
    } catch (error) {
      const mapped = errorAnswer(error, quotedId);
      response = jsonResponse(mapped.status, JSON.stringify(mapped.body), mapped.headers);
      failure = { error, level: mapped.blame === 'caller' ? 'info' : 'error' };
    }
    const line = {
      requestId: quotedId,
      ...fields,
      status: response.statusCode,
      durationMs: Math.round(performance.now() - started),
      ...(failure ? { error: logged(failure.error) } : {}),
    };
    if (failure?.level === 'error') deps.log.error('query request', line);
    else deps.log.info('query request', line);
    return response;
  };
}
