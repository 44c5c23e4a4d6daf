import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { Context } from 'aws-lambda';
import { CLOSING_READ_RULES, type ClosingReadSettings } from '../collector/closing-read.js';
import type { SkillHistoryExport } from '../collector/otlp.js';
import { type RunSummary, runCollection } from '../collector/run.js';
import { type Env, SHARED_RULES, variable } from '../config/rules.js';
import { parseTargets } from '../config/targets.js';
import { invocationDeadline } from '../deadline.js';
import { createLogger, type Log } from '../log.js';
import {
  DEFAULT_METRICS,
  type MetricSelection,
  OTLP_DEFAULT_METRICS,
  parseMetricSelection,
} from '../metrics/build-datums.js';
import type { MetricSink } from '../metrics/metric-sink.js';
import { OTLP_RULES, type OtlpSettings, otlpSettings } from '../metrics/otlp-config.js';
import { createSink, SINK_RULE, type SinkKind } from '../metrics/sinks.js';
import type { Target } from '../model.js';
import { isJsonObject } from '../validation.js';
import { type CmsWiring, createCmsClient } from './cms.js';
import { type FunctionConfig, loadFunctionConfig } from './config.js';

export interface CollectorConfig extends FunctionConfig {
  readonly namespace: string;
  readonly selection: MetricSelection;
  readonly closing: ClosingReadSettings;
  readonly sink: SinkKind;
  /** OTLP_ENDPOINT, OTLP_AUTH, OTLP_DATAPOINTS: the OpenTelemetry export of every skill's counters; undefined when off. */
  readonly otlp: OtlpSettings | undefined;
}

export function loadCollectorConfig(env: Env): CollectorConfig {
  const rules = {
    METRIC_NAMESPACE: SHARED_RULES.METRIC_NAMESPACE,
    // Unset: DEFAULT_METRICS, or OTLP_DEFAULT_METRICS when OTLP_ENDPOINT carries every skill's counters.
    SKILL_METRICS: variable(parseMetricSelection, undefined),
    VDN_METRICS: variable(parseMetricSelection, undefined),
    METRICS_SINK: SINK_RULE,
    ...OTLP_RULES,
    ...CLOSING_READ_RULES,
  };
  return loadFunctionConfig(env, rules, (values) => {
    const otlp = otlpSettings({
      endpoint: values.OTLP_ENDPOINT,
      auth: values.OTLP_AUTH,
      datapoints: values.OTLP_DATAPOINTS,
    });
    // With OTLP on, every counter of every skill goes there, priced by the byte: classic metrics, priced by the
    // metric, are then per skill only those SKILL_METRICS names, and per VDN those the stack reads back.
    const defaults = otlp === undefined ? DEFAULT_METRICS : OTLP_DEFAULT_METRICS;
    return {
      namespace: values.METRIC_NAMESPACE,
      selection: {
        skill: values.SKILL_METRICS ?? defaults.skill,
        vdn: values.VDN_METRICS ?? defaults.vdn,
      },
      otlp,
      closing: {
        guardMs: values.CLOSING_READ_GUARD_SECONDS * 1_000,
        reachMs: values.CLOSING_READ_REACH_SECONDS * 1_000,
      },
      sink: values.METRICS_SINK,
    };
  });
}

/** A schedule may carry its own target set (`{"targets":[...]}`), so one deployment can split a large fleet. */
function targetsOfEvent(event: unknown, fallback: readonly Target[]): readonly Target[] {
  if (isJsonObject(event) && 'targets' in event) return parseTargets(event.targets);
  return fallback;
}

export interface CollectorHandlerDeps extends CmsWiring {
  readonly cloudWatch?: CloudWatchClient;
  readonly log?: Log;
  /** Replaces the sink METRICS_SINK names (local runs hand in their terminal table, which no deployment has). */
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
  const cms = createCmsClient(env, deps.clock ? { ...deps, now: deps.clock.now } : deps, log);
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
