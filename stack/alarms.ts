import type { CounterName, HealthMetricName, LiveQueueMetricName } from '../lib/model.js';
import { type MonitoringSettings, type Vdn, WINDOW_SECONDS } from './settings.js';

interface CfnResource {
  readonly Type: string;
  readonly Properties: Readonly<Record<string, unknown>>;
}

/** Logical ids of a VDN's alarms: letters and digits only, as CloudFormation requires; one set per VDN. */
export function alarmLogicalIds({ ccId, vdn }: Vdn) {
  const suffix = `Cc${ccId}Vdn${vdn}`;
  return {
    abandonmentRate: `AbandonmentRateAlarm${suffix}`,
    serviceLevel: `ServiceLevelAlarm${suffix}`,
    collectorDead: `CollectorDeadAlarm${suffix}`,
    staleData: `StaleDataAlarm${suffix}`,
    closingReads: `ClosingReadsMissingAlarm${suffix}`,
    longestWait: `LongestWaitAlarm${suffix}`,
  };
}

/**
 * The live queue's metrics are instantaneous and published every run but a quiet VDN's (an idle window, nobody
 * waiting: lib/metrics/build-datums.ts, isQuietVdn): their alarms look at each minute.
 */
const MINUTE_SECONDS = 60;

const notifyTopic = () => ({
  'Fn::If': ['HasAlarmTopic', [{ Ref: 'AlarmTopicArn' }], { Ref: 'AWS::NoValue' }],
});

/** Whether a rate alarms above or below its threshold, and what happened to the calls counted. */
type RateAlarm = ({ readonly above: number } | { readonly below: number }) & {
  readonly label: string;
  /** What the counted calls did, e.g. "were abandoned". */
  readonly outcome: string;
};

interface HealthAlarm {
  readonly kind: string;
  readonly description: string;
  readonly metric: HealthMetricName | LiveQueueMetricName;
  /** Default: one CMS window. */
  readonly period?: number;
  readonly statistic: 'Minimum' | 'Maximum';
  readonly operator: 'GreaterThanThreshold' | 'LessThanThreshold';
  readonly threshold: number;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
  readonly treatMissingData: 'breaching' | 'notBreaching';
}

/** The alarms of each VDN (alarmLogicalIds), keyed by logical id. */
export function buildAlarms(vdns: readonly Vdn[], settings: MonitoringSettings): Record<string, CfnResource> {
  const s = settings;
  const resources: Record<string, CfnResource> = {};
  for (const item of vdns) {
    const { ccId, vdn } = item;
    const ids = alarmLogicalIds(item);
    const dimensions = () => [
      { Name: 'CcId', Value: String(ccId) },
      { Name: 'Vdn', Value: String(vdn) },
    ];
    const alarm = (kind: string, evaluationPeriods: number, datapointsToAlarm: number) => ({
      // The VDN first, so the console lists a VDN's alarms together.
      AlarmName: `${s.service}-${s.stage}-cc${ccId}-vdn${vdn}-${kind}`,
      EvaluationPeriods: evaluationPeriods,
      DatapointsToAlarm: datapointsToAlarm,
      AlarmActions: notifyTopic(),
      OKActions: notifyTopic(),
    });
    const counter = (id: string, metricName: CounterName) => ({
      Id: id,
      ReturnData: false,
      MetricStat: {
        Period: WINDOW_SECONDS,
        Stat: 'Maximum',
        Metric: { Namespace: s.namespace, MetricName: metricName, Dimensions: dimensions() },
      },
    });
    // Rates are recomputed from the window's counters (Maximum = the last poll's value, period 300 = one CMS
    // window), so a quiet window cannot alarm on 1 abandoned call out of 1. No datapoint = a window below the
    // minimum volume (or no calls, which a quiet VDN does not even publish): not a reason to alarm.
    //
    // Every read of a window is stamped with its start and sent while the window runs, so a sliding window's
    // newest 5-minute bucket holds a window still being counted four evaluations in five. A wall-clock window
    // evaluates complete, clock-aligned periods only: each CMS window is judged once it has ended, on its last
    // read (aws-facts.md, "Alarm evaluation windows"). Metric math alarms support it when every metric's period
    // is one it allows (300 s is).
    const rateAlarm = (kind: string, [id, name]: [string, CounterName], rate: RateAlarm): CfnResource => {
      const threshold = 'above' in rate ? rate.above : rate.below;
      return {
        Type: 'AWS::CloudWatch::Alarm',
        Properties: {
          ...alarm(kind, s.kpiEvaluationPeriods, s.kpiDatapointsToAlarm),
          AlarmDescription:
            `${'above' in rate ? 'More' : 'Fewer'} than ${threshold}% of the calls offered to VDN ${vdn} of call ` +
            `center ${ccId} ${rate.outcome}, judged on complete 5-minute windows (clock-aligned in ` +
            `${s.timeZone}, each judged once it has ended); windows with fewer than ${s.minCallsOffered} ` +
            'offered calls are ignored.',
          ComparisonOperator: 'above' in rate ? 'GreaterThanThreshold' : 'LessThanThreshold',
          Threshold: threshold,
          TreatMissingData: 'notBreaching',
          EvaluationWindow: { WallClockWindow: { Timezone: s.timeZone } },
          Metrics: [
            counter('offered', 'CallsOffered'),
            counter(id, name),
            {
              Id: 'rate',
              Label: rate.label,
              ReturnData: true,
              Expression: `IF(offered >= ${s.minCallsOffered}, 100 * ${id} / offered)`,
            },
          ],
        },
      };
    };
    // The collector's health and the live queue are about the present: these alarms keep the default sliding
    // window, which looks at the newest data every minute instead of waiting for a period to end.
    const healthAlarm = (health: HealthAlarm): CfnResource => ({
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        ...alarm(health.kind, health.evaluationPeriods, health.datapointsToAlarm),
        AlarmDescription: health.description,
        Namespace: s.namespace,
        MetricName: health.metric,
        Dimensions: dimensions(),
        Statistic: health.statistic,
        Period: health.period ?? WINDOW_SECONDS,
        ComparisonOperator: health.operator,
        Threshold: health.threshold,
        TreatMissingData: health.treatMissingData,
      },
    });

    resources[ids.abandonmentRate] = rateAlarm('abandonment-rate', ['abandoned', 'CallsAbandoned'], {
      label: 'Abandonment rate (%)',
      above: s.abandonmentRateThreshold,
      outcome: 'were abandoned',
    });
    resources[ids.serviceLevel] = rateAlarm('service-level', ['answered20s', 'CallsAnsweredIn20s'], {
      label: 'Service level 20 s (%)',
      below: s.serviceLevelThreshold,
      outcome: 'were answered within 20 seconds',
    });
    resources[ids.collectorDead] = healthAlarm({
      kind: 'collection-failing',
      description:
        `The collector failed to read VDN ${vdn} of call center ${ccId} from CMS, or did not run at all ` +
        '(no CollectionSuccess datapoint), in every 5-minute period of the evaluation range.',
      metric: 'CollectionSuccess',
      statistic: 'Minimum',
      operator: 'LessThanThreshold',
      threshold: 1,
      evaluationPeriods: s.collectorEvaluationPeriods,
      datapointsToAlarm: s.collectorEvaluationPeriods,
      // A collector that stopped running publishes nothing: silence is the failure.
      treatMissingData: 'breaching',
    });
    resources[ids.staleData] = healthAlarm({
      kind: 'stale-data',
      description:
        `CMS answers for VDN ${vdn} of call center ${ccId}, but its freshest statistics window started ` +
        `more than ${s.dataAgeThresholdSeconds} seconds ago.`,
      metric: 'DataAge',
      statistic: 'Maximum',
      operator: 'GreaterThanThreshold',
      threshold: s.dataAgeThresholdSeconds,
      evaluationPeriods: s.collectorEvaluationPeriods,
      datapointsToAlarm: s.collectorEvaluationPeriods,
      // Missing DataAge means no collection at all, which the collection-failing alarm reports.
      treatMissingData: 'notBreaching',
    });
    resources[ids.closingReads] = healthAlarm({
      kind: 'closing-reads-missing',
      description:
        `The last read of VDN ${vdn} of call center ${ccId} covered less than ` +
        `${s.windowCoverageThreshold}% of its 5-minute windows, or no closing read was published: the ` +
        "windows' totals miss their last minute (check the collector's timeout and closingReadReachSeconds).",
      metric: 'WindowCoverage',
      statistic: 'Maximum',
      operator: 'LessThanThreshold',
      threshold: s.windowCoverageThreshold,
      evaluationPeriods: s.kpiEvaluationPeriods,
      datapointsToAlarm: s.kpiDatapointsToAlarm,
      // Each window's coverage is published with its closing read, just before the window ends: a window
      // without one is a closing read that did not happen.
      treatMissingData: 'breaching',
    });
    resources[ids.longestWait] = healthAlarm({
      kind: 'longest-wait',
      description:
        `A caller of VDN ${vdn} of call center ${ccId} has been waiting in a queue for more than ` +
        `${s.longestWaitThresholdSeconds} seconds, in ${s.longestWaitDatapointsToAlarm} of the last ` +
        `${s.longestWaitEvaluationPeriods} minutes (LongestWaitTime, the live queue).`,
      metric: 'LongestWaitTime',
      statistic: 'Maximum',
      period: MINUTE_SECONDS,
      operator: 'GreaterThanThreshold',
      threshold: s.longestWaitThresholdSeconds,
      evaluationPeriods: s.longestWaitEvaluationPeriods,
      datapointsToAlarm: s.longestWaitDatapointsToAlarm,
      // No datapoint: the collector did not run (its own alarm says so), CMS lacks the live queue, or nobody waits
      // in a quiet VDN's queue.
      treatMissingData: 'notBreaching',
    });
  }
  return resources;
}
