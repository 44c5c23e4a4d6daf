import { createQueryService, type QueryHandler, type QueryServiceConfig } from '../api/service.js';
import type { StatsSource } from '../cms/stats-source.js';
import { type Env, loadTargets, optionalInt } from '../config.js';
import { createLogger, type Log } from '../log.js';
import { CMS_LIMITS } from '../model.js';
import { type CmsWiring, createCmsClientFromEnv } from './cms.js';

export type { QueryHandler } from '../api/service.js';

/**
 * Query settings, all optional:
 * - QUERY_MAX_SKILLS (default 1000, at most 5000): distinct skills one query may name;
 * - QUERY_CACHE_SECONDS (default 5, 0–300; 0 disables): how long an answer is reused by a warm container;
 * - QUERY_TIMEOUT_MS (default 20000): the most one query spends on CMS, further capped by Lambda's remaining
 *   time. API Gateway gives up after 30 s, so more than that only helps direct invocations.
 */
export function loadQueryConfig(env: Env): QueryServiceConfig {
  return {
    targets: loadTargets(env),
    maxSkills: optionalInt(env, 'QUERY_MAX_SKILLS', 1_000, 1, CMS_LIMITS.skillId.max),
    cacheTtlMs: optionalInt(env, 'QUERY_CACHE_SECONDS', 5, 0, 300) * 1_000,
    timeoutMs: optionalInt(env, 'QUERY_TIMEOUT_MS', 20_000, 100, 900_000),
  };
}

export interface QueryHandlerDeps extends CmsWiring {
  readonly log?: Log;
  /** Clock of the answer cache and of `fetchedAt`. */
  readonly now?: () => number;
  /** Replaces the CMS client built from the environment; then no CMS_* variable is read. */
  readonly cms?: StatsSource;
}

/** Configuration is validated and the CMS client built once per container (cold start), not per request. */
export function createQueryHandler(env: Env, deps: QueryHandlerDeps = {}): QueryHandler {
  const config = loadQueryConfig(env);
  const log = deps.log ?? createLogger(env);
  return createQueryService(config, {
    cms: deps.cms ?? createCmsClientFromEnv(env, deps, log),
    log,
    now: deps.now ?? Date.now,
  });
}
