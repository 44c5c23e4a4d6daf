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
import { CloudWatchToday, type TodaySource } from '../wallboard/today.js';
import { MAX_ROWS_LIMIT } from '../wallboard/widget.js';
import { type CmsWiring, createCmsClient } from './cms.js';

export interface WallboardConfig extends FunctionConfig, CmsReadLimits {
  readonly thresholds: ThresholdBook;
  /** WALLBOARD_MAX_ROWS (default 50): skills listed when the widget does not say. */
  readonly maxRows: number;
  /** METRIC_NAMESPACE, where the collector's health metrics and the VDN's counters are read. */
  readonly namespace: string;
  /** TIME_ZONE (default UTC): the IANA zone whose midnight starts the day. */
  readonly timeZone: string;
}

/**
 * The query API's read limits, METRIC_NAMESPACE and TIME_ZONE, plus the wallboard's own two variables, whose rules sit here
 * beside their grammar so that the other functions' bundles do not carry it.
 */
export function loadWallboardConfig(env: Env): WallboardConfig {
  const rules = {
    ...rulesOf(...CMS_READ_VARIABLES),
    WALLBOARD_THRESHOLDS: variable(parseThresholds, parseThresholds(undefined)),
    WALLBOARD_MAX_ROWS: wholeNumber(1, MAX_ROWS_LIMIT, 50),
    ...rulesOf('METRIC_NAMESPACE', 'TIME_ZONE'),
  };
  return loadFunctionConfig(env, rules, (values) => ({
    ...cmsReadLimits(values),
    thresholds: values.WALLBOARD_THRESHOLDS,
    maxRows: values.WALLBOARD_MAX_ROWS,
    namespace: values.METRIC_NAMESPACE,
    timeZone: values.TIME_ZONE,
  }));
}

export interface WallboardHandlerDeps extends CmsWiring {
  readonly log?: Log;
  readonly now?: () => number;
  /** Replaces the CMS client built from the configuration; then no CMS_* variable is needed. */
  readonly cms?: StatsSource;
  /** Replaces the CloudWatch health reader (local runs record the collector's datums instead). */
  readonly health?: HealthSource;
  /** Replaces the CloudWatch read-back of the day so far (local runs record the collector's datums instead). */
  readonly today?: TodaySource;
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
  // The SDK client connects on its first request only, so building it costs nothing when fakes replace both.
  const reading = {
    client: deps.cloudWatch ?? new CloudWatchClient({}),
    namespace: config.namespace,
    log,
    now,
  };
  const health = deps.health ?? new CloudWatchHealth(reading);
  const today = deps.today ?? new CloudWatchToday(reading);
  const wallboard = createWallboard(config, { stats, health, today, log, now });
  return (event, context) =>
    wallboard(event, { remainingMs: context.getRemainingTimeInMillis(), requestId: context.awsRequestId });
}
