import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { Context } from 'aws-lambda';
import { createStatsLookup } from '../api/stats.js';
import type { StatsSource } from '../cms/stats-source.js';
import {
  CMS_READ_VARIABLES,
  type CmsReadLimits,
  cmsReadLimits,
  type Env,
  type FunctionConfig,
  loadFunctionConfig,
  rulesOf,
  variable,
  wholeNumber,
} from '../config.js';
import { createLogger, type Log } from '../log.js';
import { CloudWatchHealth } from '../wallboard/health.js';
import { createWallboard, type HealthSource } from '../wallboard/service.js';
import { parseThresholds, type ThresholdBook } from '../wallboard/thresholds.js';
import { MAX_ROWS_LIMIT } from '../wallboard/widget.js';
import { type CmsWiring, createCmsClient } from './cms.js';

export interface WallboardConfig extends FunctionConfig, CmsReadLimits {
  readonly thresholds: ThresholdBook;
  /** WALLBOARD_MAX_ROWS (default 50): skills listed when the widget does not say. */
  readonly maxRows: number;
  /** METRIC_NAMESPACE, where the collector's health metrics are read. */
  readonly namespace: string;
}

/**
 * The query API's read limits and METRIC_NAMESPACE, plus the wallboard's own two variables, whose rules sit here
 * beside their grammar so that the other functions' bundles do not carry it.
 */
export function loadWallboardConfig(env: Env): WallboardConfig {
  const rules = {
    ...rulesOf(...CMS_READ_VARIABLES),
    WALLBOARD_THRESHOLDS: variable(parseThresholds, parseThresholds(undefined)),
    WALLBOARD_MAX_ROWS: wholeNumber(1, MAX_ROWS_LIMIT, 50),
    ...rulesOf('METRIC_NAMESPACE'),
  };
  return loadFunctionConfig(env, rules, (values) => ({
    ...cmsReadLimits(values),
    thresholds: values.WALLBOARD_THRESHOLDS,
    maxRows: values.WALLBOARD_MAX_ROWS,
    namespace: values.METRIC_NAMESPACE,
  }));
}

export interface WallboardHandlerDeps extends CmsWiring {
  readonly log?: Log;
  readonly now?: () => number;
  /** Replaces the CMS client built from the configuration; then no CMS_* variable is needed. */
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
  const config = loadWallboardConfig(env);
  const log = deps.log ?? createLogger(config.logLevel);
  const now = deps.now ?? Date.now;
  const stats = createStatsLookup(config, { cms: deps.cms ?? createCmsClient(config, deps, log), now });
  const health =
    deps.health ??
    new CloudWatchHealth({
      client: deps.cloudWatch ?? new CloudWatchClient({}),
      namespace: config.namespace,
      log,
      now,
    });
  const wallboard = createWallboard(config, { stats, health, log, now });
  return (event, context) =>
    wallboard(event, { remainingMs: context.getRemainingTimeInMillis(), requestId: context.awsRequestId });
}
