import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { Context } from 'aws-lambda';
import { createStatsLookup, type StatsSource } from '../api/stats.js';
import { type Env, loadWallboardConfig } from '../config.js';
import { createLogger, type Log } from '../log.js';
import { CloudWatchHealth } from '../wallboard/health.js';
import { createWallboard, type HealthSource } from '../wallboard/service.js';
import { type CmsWiring, createCmsClient } from './cms.js';

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
