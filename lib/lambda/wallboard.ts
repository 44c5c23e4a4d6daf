import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { Context } from 'aws-lambda';
import { createStatsLookup } from '../api/stats.js';
import type { StatsSource } from '../cms/stats-source.js';
import { type Env, optionalInt } from '../config.js';
import { createLogger, type Log } from '../log.js';
import { CloudWatchHealth } from '../wallboard/health.js';
import { createWallboard, type HealthSource, type WallboardConfig } from '../wallboard/service.js';
import { parseThresholds } from '../wallboard/thresholds.js';
import { MAX_ROWS_LIMIT } from '../wallboard/widget.js';
import { type CmsWiring, createCmsClientFromEnv } from './cms.js';
import { loadNamespace } from './collector.js';
import { loadQueryConfig } from './query.js';

export interface WallboardSettings extends WallboardConfig {
  readonly cacheTtlMs: number;
  readonly namespace: string;
}

/**
 * The query API's own settings (targets, QUERY_CACHE_SECONDS, QUERY_TIMEOUT_MS), so the wallboard reads CMS
 * under the same limits; plus WALLBOARD_THRESHOLDS, WALLBOARD_MAX_ROWS (default 50) and METRIC_NAMESPACE, where
 * the collector's health metrics are read.
 */
export function loadWallboardSettings(env: Env): WallboardSettings {
  const query = loadQueryConfig(env);
  return {
    targets: query.targets,
    cacheTtlMs: query.cacheTtlMs,
    timeoutMs: query.timeoutMs,
    thresholds: parseThresholds(env.WALLBOARD_THRESHOLDS),
    maxRows: optionalInt(env, 'WALLBOARD_MAX_ROWS', 50, 1, MAX_ROWS_LIMIT),
    namespace: loadNamespace(env),
  };
}

export interface WallboardHandlerDeps extends CmsWiring {
  readonly log?: Log;
  readonly now?: () => number;
  /** Replaces the CMS client built from the environment; then no CMS_* variable is read. */
  readonly cms?: StatsSource;
  /** Replaces the CloudWatch health reader (local runs record the collector's datums instead). */
  readonly health?: HealthSource;
  readonly cloudWatch?: CloudWatchClient;
}

export type WallboardHandler = (
  event: unknown,
  context: Pick<Context, 'getRemainingTimeInMillis'> & Partial<Pick<Context, 'awsRequestId'>>,
) => Promise<string>;

/** Configuration is validated and the clients built once per container (cold start), not per refresh. */
export function createWallboardHandler(env: Env, deps: WallboardHandlerDeps = {}): WallboardHandler {
  const settings = loadWallboardSettings(env);
  const log = deps.log ?? createLogger(env);
  const now = deps.now ?? Date.now;
  const stats = createStatsLookup(settings, { cms: deps.cms ?? createCmsClientFromEnv(env, deps, log), now });
  const health =
    deps.health ??
    new CloudWatchHealth({
      client: deps.cloudWatch ?? new CloudWatchClient({}),
      namespace: settings.namespace,
      log,
      now,
    });
  const wallboard = createWallboard(settings, { stats, health, log, now });
  return (event, context) =>
    wallboard(event, { remainingMs: context.getRemainingTimeInMillis(), requestId: context.awsRequestId });
}
