/**
 * The alarm and dashboard stage parameters at serverless.yml's defaults, as the osls entry points hand them to the
 * stack generator (text), for tests that build the alarms or the dashboard without packaging.
 */
export const STAGE_SETTINGS = {
  service: 'cms-skill-metrics',
  stage: 'test',
  metricNamespace: 'HuaweiCEC/SkillQueues',
  alarmMinCallsOffered: '20',
  abandonmentRateThreshold: '10',
  serviceLevelThreshold: '80',
  kpiAlarmEvaluationPeriods: '3',
  kpiAlarmDatapointsToAlarm: '2',
  collectorAlarmEvaluationPeriods: '2',
  dataAgeThresholdSeconds: '600',
  windowCoverageThreshold: '95',
  longestWaitThresholdSeconds: '120',
  longestWaitAlarmEvaluationPeriods: '5',
  longestWaitAlarmDatapointsToAlarm: '3',
  timeZone: 'UTC',
} as const;
