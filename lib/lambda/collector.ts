import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { Context } from 'aws-lambda';
import { CLOSING_READ_DEFAULTS, CLOSING_READ_LIMITS, type ClosingReadSettings } from '../closing-read.js';
import { type RunSummary, runCollection } from '../collector.js';
import { type Env, loadTargets, optionalChoice, optionalInt, parseTargets } from '../config.js';
import { ConfigError } from '../errors.js';
import { createLogger, type Log } from '../log.js';
import {
  DEFAULT_SKILL_METRICS,
  type MetricSelection,
  parseMetricSelection,
} from '../metrics/build-datums.js';
import type { MetricSink } from '../metrics/metric-sink.js';
import { createSink, SINK_KINDS } from '../metrics/sinks.js';
import type { Target } from '../model.js';
import { type CmsWiring, createCmsClientFromEnv } from './cms.js';

export const DEFAULT_NAMESPACE = 'HuaweiCEC/SkillQueues';

/** Time kept back from Lambda's remaining time, so the handler returns (and logs) before being killed. */
const LAMBDA_SAFETY_MS = 1_000;

export interface CollectorConfig {
  readonly targets: readonly Target[];
  readonly namespace: string;
  readonly selection: MetricSelection;
  readonly closing: ClosingReadSettings;
}

/**
 * METRIC_NAMESPACE: where the collector publishes, and where the wallboard reads the collector's health. The
 * stack reads its stage parameter with the same rule, which also keeps `${` out of the dashboard's Fn::Sub.
 */
export function loadNamespace(env: Env, variable = 'METRIC_NAMESPACE'): string {
  const namespace = env[variable]?.trim() || DEFAULT_NAMESPACE;
  if (namespace.startsWith('AWS/') || !/^[\w.\-/#:]{1,255}$/.test(namespace)) {
    throw new ConfigError(variable, `"${namespace}" is not a valid custom namespace`);
  }
  return namespace;
}

/** A closing-read setting in seconds, within its limits; the stack checks its stage parameters with it. */
export function closingReadSeconds(
  env: Env,
  variable: string,
  setting: keyof typeof CLOSING_READ_LIMITS,
): number {
  const { min, max } = CLOSING_READ_LIMITS[setting];
  return optionalInt(env, variable, CLOSING_READ_DEFAULTS[setting], min, max);
}

export function loadCollectorConfig(env: Env): CollectorConfig {
  return {
    targets: loadTargets(env),
    namespace: loadNamespace(env),
    selection: {
      skill: parseMetricSelection(env.SKILL_METRICS, 'SKILL_METRICS', DEFAULT_SKILL_METRICS),
      vdn: parseMetricSelection(env.VDN_METRICS, 'VDN_METRICS'),
    },
    closing: {
      guardMs: closingReadSeconds(env, 'CLOSING_READ_GUARD_SECONDS', 'guardSeconds') * 1_000,
      reachMs: closingReadSeconds(env, 'CLOSING_READ_REACH_SECONDS', 'reachSeconds') * 1_000,
    },
  };
}

/** A schedule may carry its own target set (`{"targets":[...]}`), so one deployment can split a large fleet. */
export function targetsOfEvent(event: unknown, fallback: readonly Target[]): readonly Target[] {
  if (typeof event === 'object' && event !== null && 'targets' in event) {
    return parseTargets((event as { targets: unknown }).targets);
  }
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

/** Everything is built once per container (cold start); each invocation only runs the collection. */
export function createCollectorHandler(env: Env, deps: CollectorHandlerDeps = {}): CollectorHandler {
  const config = loadCollectorConfig(env);
  const log = deps.log ?? createLogger(env);
  const cms = createCmsClientFromEnv(env, deps.clock ? { ...deps, now: deps.clock.now } : deps, log);
  const sink =
    deps.sink ??
    createSink(optionalChoice(env, 'METRICS_SINK', SINK_KINDS, 'cloudwatch'), {
      namespace: config.namespace,
      log,
      ...(deps.cloudWatch ? { cloudWatch: deps.cloudWatch } : {}),
    });
  const now = deps.clock?.now ?? Date.now;
  const clock = deps.clock ? { now, sleep: deps.clock.sleep } : {};
  return async (event, context) =>
    runCollection(
      { cms, sink, log, ...clock },
      {
        targets: targetsOfEvent(event, config.targets),
        deadline: now() + context.getRemainingTimeInMillis() - LAMBDA_SAFETY_MS,
        selection: config.selection,
        closing: config.closing,
      },
    );
}
