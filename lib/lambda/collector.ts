import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { Context } from 'aws-lambda';
import { type RunSummary, runCollection } from '../collector.js';
import type { SkillHistoryExport } from '../collector-otlp.js';
import { invocationDeadline } from '../concurrency.js';
import { type Env, loadCollectorConfig, parseTargets } from '../config.js';
import { createLogger, type Log } from '../log.js';
import type { MetricSink } from '../metrics/metric-sink.js';
import type { OtlpSettings } from '../metrics/otlp-config.js';
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
  /** Replaces the OTLP exporter OTLP_ENDPOINT configures. */
  readonly otlp?: SkillHistoryExport;
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
  // One CloudWatch client for PutMetricData and for the credentials and Region that SigV4 signs OTLP with.
  const needsAws = (deps.sink === undefined && config.sink === 'cloudwatch') || config.otlp?.auth === 'sigv4';
  const cloudWatch = deps.cloudWatch ?? (needsAws ? new CloudWatchClient({}) : undefined);
  const sink =
    deps.sink ??
    createSink(config.sink, { namespace: config.namespace, ...(cloudWatch ? { cloudWatch } : {}) });
  const now = deps.clock?.now ?? Date.now;
  const clock = deps.clock ? { now, sleep: deps.clock.sleep } : {};
  const otlp = deps.otlp ?? (config.otlp && lazyOtlpExport(config.otlp, cloudWatch, now));
  return async (event, context) =>
    runCollection(
      { cms, sink, log, ...clock, ...(otlp ? { otlp } : {}) },
      {
        targets: targetsOfEvent(event, config.targets),
        deadline: invocationDeadline(context.getRemainingTimeInMillis(), now()),
        selection: config.selection,
        closing: config.closing,
      },
    );
}

/**
 * The OTLP exporter of the configuration, loaded at the first export: a collector without OTLP_ENDPOINT never
 * loads its code, and the bundle keeps it out of index.mjs (scripts/bundle-options.mjs). SigV4 signs with the
 * CloudWatch client's credentials and Region.
 */
function lazyOtlpExport(
  settings: OtlpSettings,
  cloudWatch: CloudWatchClient | undefined,
  now: () => number,
): SkillHistoryExport {
  let exporter: Promise<SkillHistoryExport> | undefined;
  return {
    export: async (reads, options) => {
      exporter ??= import('../metrics/otlp-export.js').then((module) =>
        module.createOtlpExport(settings, cloudWatch?.config, now),
      );
      return (await exporter).export(reads, options);
    },
  };
}
