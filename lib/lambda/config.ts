import {
  deepFreeze,
  type Env,
  type Rules,
  read,
  readSetting,
  SHARED_RULES,
  type Values,
  wholeNumber,
} from '../config/rules.js';
import { loadTargets } from '../config/targets.js';
import type { LogLevel } from '../log.js';
import type { Target } from '../model.js';

// What every Lambda function's configuration holds, read once at cold start by the function's loader beside its
// factory; the CMS settings are read where the CMS client is built (cms.ts).

/** What every Lambda function's configuration holds besides its own settings. */
export interface FunctionConfig {
  readonly logLevel: LogLevel;
  readonly targets: readonly Target[];
}

/**
 * A Lambda function's configuration object, frozen: targets first, then LOG_LEVEL, then the function's own
 * `rules`, which is the order problems are reported in.
 */
export function loadFunctionConfig<R extends Rules, T>(
  env: Env,
  rules: R,
  build: (values: Values<R>) => T,
): FunctionConfig & T {
  const targets = loadTargets(env);
  const logLevel = readSetting(env, 'LOG_LEVEL', SHARED_RULES.LOG_LEVEL);
  return deepFreeze({ logLevel, targets, ...build(read(env, rules)) });
}

/** How long a warm container reuses an answer, and the most one request spends on CMS. */
export interface CmsReadLimits {
  readonly cacheTtlMs: number;
  readonly timeoutMs: number;
}

/**
 * The query API's CMS read limits, which the wallboard shares so that it reads CMS under the same ones:
 * - QUERY_CACHE_SECONDS (default 5, 0–300; 0 disables);
 * - QUERY_TIMEOUT_MS (default 20000), further capped by Lambda's remaining time. API Gateway gives up after 30 s,
 *   so more than that only helps direct invocations.
 */
export const CMS_READ_RULES = {
  QUERY_CACHE_SECONDS: wholeNumber(0, 300, 5),
  QUERY_TIMEOUT_MS: wholeNumber(100, 900_000, 20_000),
};

export function cmsReadLimits(values: Values<typeof CMS_READ_RULES>): CmsReadLimits {
  return { cacheTtlMs: values.QUERY_CACHE_SECONDS * 1_000, timeoutMs: values.QUERY_TIMEOUT_MS };
}
