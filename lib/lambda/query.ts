import { createQueryService, type QueryHandler } from '../api/service.js';
import type { StatsSource } from '../cms/stats-source.js';
import { type Env, wholeNumber } from '../config/rules.js';
import { createLogger, type Log } from '../log.js';
import { CMS_LIMITS } from '../model.js';
import { type CmsWiring, createCmsClient } from './cms.js';
import {
  CMS_READ_RULES,
  type CmsReadLimits,
  cmsReadLimits,
  type FunctionConfig,
  loadFunctionConfig,
} from './config.js';

export type { QueryHandler } from '../api/service.js';

export interface QueryConfig extends FunctionConfig, CmsReadLimits {
  /** QUERY_MAX_SKILLS (default 1000, at most 5000): distinct skills one query may name. */
  readonly maxSkills: number;
}

export function loadQueryConfig(env: Env): QueryConfig {
  const rules = { ...CMS_READ_RULES, QUERY_MAX_SKILLS: wholeNumber(1, CMS_LIMITS.skillId.max, 1_000) };
  return loadFunctionConfig(env, rules, (values) => ({
    maxSkills: values.QUERY_MAX_SKILLS,
    ...cmsReadLimits(values),
  }));
}

export interface QueryHandlerDeps extends CmsWiring {
  readonly log?: Log;
  /** Clock of the answer cache and of `fetchedAt`. */
  readonly now?: () => number;
  /** Replaces the CMS client built from the configuration; then no CMS_* variable is needed. */
  readonly cms?: StatsSource;
}

/** Configuration is validated and the CMS client built once per container (cold start), not per request. */
export function createQueryHandler(env: Env, deps: QueryHandlerDeps = {}): QueryHandler {
  const config = loadQueryConfig(env);
  const log = deps.log ?? createLogger(config.logLevel);
  return createQueryService(config, {
    cms: deps.cms ?? createCmsClient(env, deps, log),
    log,
    now: deps.now ?? Date.now,
  });
}
