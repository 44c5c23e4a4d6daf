import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { Context } from 'aws-lambda';
import { type RunSummary, runCollection } from '../collector.js';
import { invocationDeadline } from '../concurrency.js';
import { type Env, loadCollectorConfig, parseTargets } from '../config.js';
import { createLogger, type Log } from '../log.js';
import type { MetricSink } from '../metrics/metric-sink.js';
import { createSink } from '../metrics/sinks.js';
import type { Target } from '../model.js';
import { isJsonObject } from '../validation.js';
import { type CmsWiring, createCmsClient } from './cms.js';

/** A schedule may carry its own target set (`{"targets":[...]}`), so one deployment can split a large fleet. */
function targetsOfEvent(event: unknown, fallback: readonly Target[]): readonly Target[] {
  if (isJsonObject(event) && 'targets' in event) return parseTargets(event.targets);
  return fallback;
}

export interface CollectorHandlerDeps extends CmsWiring {
  readonly cloudWatch?: CloudWatchClient;
  readonly log?: Log;
  /** Replaces the sink METRICS_SINK names (local runs print the table and keep the health for the wallboard). */
  readonly sink?: MetricSink;
  /** The run's clock and how it waits; tests hand in a clock that jumps instead of sleeping. */
  readonly clock?: { readonly now: () => number; readonly sleep: (ms: number) => Promise<void> };
}

export type CollectorHandler = (
  event: unknown,
  context: Pick<Context, 'getRemainingTimeInMillis'>,
) => Promise<RunSummary>;

/**
 * Everything is built once per container (cold start), from the one configuration object read from `env`; each
 * invocation only runs the collection.
 */
export function createCollectorHandler(env: Env, deps: CollectorHandlerDeps = {}): CollectorHandler {
  const config = loadCollectorConfig(env);
  const log = deps.log ?? createLogger(config.logLevel);
  const cms = createCmsClient(config, deps.clock ? { ...deps, now: deps.clock.now } : deps, log);
  const sink =
    deps.sink ??
    createSink(config.sink, {
      namespace: config.namespace,
      ...(deps.cloudWatch ? { cloudWatch: deps.cloudWatch } : {}),
    });
  const now = deps.clock?.now ?? Date.now;
  const clock = deps.clock ? { now, sleep: deps.clock.sleep } : {};
  return async (event, context) =>
    runCollection(
      { cms, sink, log, ...clock },
      {
        targets: targetsOfEvent(event, config.targets),
        deadline: invocationDeadline(context.getRemainingTimeInMillis(), now()),
        selection: config.selection,
        closing: config.closing,
      },
    );
}
