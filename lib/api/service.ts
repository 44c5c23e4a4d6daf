import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { type CmsError, CmsTimeoutError } from '../errors.js';
import { describeError, type Log } from '../log.js';
import type { SkillStats, Target } from '../model.js';
import { buildReport } from '../report.js';
import { formatSkillList } from '../skills.js';
import { clip } from '../text.js';
import { type CacheSource, CoalescingCache } from './cache.js';
import { errorAnswer, MAX_MESSAGE_LENGTH } from './errors.js';
import { parseStatsQuery, type QueryLimits } from './request.js';
import { jsonResponse } from './respond.js';
import { type ApiRequest, matchRoute, requestOfEvent } from './route.js';
import { resolveTarget } from './target.js';

/** What the API needs of the CMS client (lib/cms/client.ts): one VDN's statistics, failures reported, not thrown. */
export interface StatsSource {
  currentCallStats(query: Target, options: { deadline: number }): Promise<StatsResult>;
}

export interface StatsResult {
  readonly ccId: number;
  readonly vdn: number;
  readonly skills: readonly SkillStats[];
  readonly missingSkillIds: readonly number[];
  readonly failures: readonly { readonly skillIds: readonly number[]; readonly error: CmsError }[];
}

export interface QueryServiceConfig extends QueryLimits {
  readonly targets: readonly Target[];
  /** QUERY_CACHE_SECONDS in ms; 0 disables the cache (concurrent identical queries still share a CMS call). */
  readonly cacheTtlMs: number;
  /** QUERY_TIMEOUT_MS: the most one query may spend on CMS, across batches and retries. */
  readonly timeoutMs: number;
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

/** Time kept back from Lambda's remaining time, so a timed-out query still answers 504 (and logs) itself. */
export const LAMBDA_SAFETY_MS = 1_000;

/** Messages of caller errors may echo what the caller sent: a log line stays bounded whatever that was. */
function logged(error: unknown): ReturnType<typeof describeError> {
  const described = describeError(error);
  return { ...described, message: clip(described.message, MAX_MESSAGE_LENGTH) };
}

// The answers are ASCII JSON, so their length in characters is their size in bytes.
const CACHE_LIMITS = { maxEntries: 64, maxChars: 8 * 1024 * 1024 };

/**
 * The whole on-demand API as one function of an API Gateway event. Every outcome, including a bug, becomes a
 * JSON answer: the handler never throws, so API Gateway never substitutes its own opaque 500.
 */
export function createQueryService(config: QueryServiceConfig, deps: QueryServiceDeps): QueryHandler {
  // Answers are kept serialized: bounding their length bounds the memory the cache can take.
  const cache = new CoalescingCache<string>({
    ttlMs: config.cacheTtlMs,
    maxEntries: CACHE_LIMITS.maxEntries,
    maxWeight: CACHE_LIMITS.maxChars,
    weigh: (body) => body.length,
    now: deps.now,
  });

  async function fetchAnswer(target: Target, deadline: number): Promise<string> {
    if (deadline <= Date.now()) {
      throw new CmsTimeoutError('no time was left to ask CMS before the request deadline');
    }
    const result = await deps.cms.currentCallStats(target, { deadline });
    // All or nothing: a report with some batches missing would look like a quiet queue, not a failure.
    const failure = result.failures[0];
    if (failure) throw failure.error;
    const report = buildReport(result);
    return JSON.stringify({
      ccId: report.ccId,
      vdn: report.vdn,
      fetchedAt: new Date(deps.now()).toISOString(),
      skills: report.skills,
      missingSkillIds: report.missingSkillIds,
      rollup: report.rollup,
    });
  }

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
    const lambdaBudget = remainingMs() - LAMBDA_SAFETY_MS;
    // A direct invocation with a makeshift context may report no usable remaining time: the setting then rules.
    const budget = Number.isFinite(lambdaBudget)
      ? Math.min(lambdaBudget, config.timeoutMs)
      : config.timeoutMs;
    const deadline = Date.now() + budget;
    const { value, source } = await cache.get(`${target.ccId}/${target.vdn}/${skills}`, () =>
      fetchAnswer(target, deadline),
    );
    note({ cache: source satisfies CacheSource });
    return jsonResponse(200, value);
  }

  return async (event, context) => {
    const started = performance.now();
    const fields: Record<string, unknown> = {};
    const note = (more: Record<string, unknown>) => Object.assign(fields, more);
    let response: APIGatewayProxyStructuredResultV2;
    let failure: { error: unknown; level: 'info' | 'error' } | undefined;
    const requestId = event?.requestContext?.requestId;
    try {
      const request = requestOfEvent(event);
      note({ method: clip(request.method, 20), path: clip(request.path, 200) });
      response = await answer(request, () => context.getRemainingTimeInMillis(), note);
    } catch (error) {
      const mapped = errorAnswer(error, requestId);
      response = jsonResponse(mapped.status, JSON.stringify(mapped.body), mapped.headers);
      failure = { error, level: mapped.blame === 'caller' ? 'info' : 'error' };
    }
    const line = {
      requestId,
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
