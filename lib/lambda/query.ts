import { createQueryService, type QueryHandler } from '../api/service.js';
import type { StatsSource } from '../cms/stats-source.js';
import { type Env, loadQueryConfig } from '../config.js';
import { createLogger, type Log } from '../log.js';
import { type CmsWiring, createCmsClient } from './cms.js';

export type { QueryHandler } from '../api/service.js';

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
    cms: deps.cms ?? createCmsClient(config, deps, log),
    log,
    now: deps.now ?? Date.now,
  });
}
