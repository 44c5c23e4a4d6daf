/**
 * The stack generator (stack/vdn-monitoring.ts) called as osls calls it while packaging, without osls: stage
 * parameters and the other variables it reads come from a table.
 */

/** Alarm and dashboard settings as the osls entry points hand them on: stage parameters as text. */
export const SETTINGS_VALUES = {
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
  todayUtcOffsetMinutes: '0',
};

/** osls' resolveVariable over a table of variables; `name, null` falls back to null as in serverless.yml. */
export function resolverOf(variables: Record<string, unknown>) {
  return {
    resolveVariable: async (variable: string) => {
      const [name = '', fallback] = variable.split(', ');
      if (name in variables) return variables[name];
      if (fallback === 'null') return null;
      throw new Error(`no variable ${variable}`);
    },
  };
}

/** The variables of a stage with the defaults of serverless.yml, the given stage parameters on top. */
export const stageParams = (values: Record<string, unknown>) => ({
  'self:service': 'cms-skill-metrics',
  'sls:stage': 'test',
  'self:functions.0.collector.events': [{ schedule: { rate: ['rate(1 minute)'] } }],
  'self:custom.wallboard': { function: { handler: 'dist/wallboard/index.handler' }, resource: {} },
  ...Object.fromEntries(
    Object.entries({
      ...SETTINGS_VALUES,
      ccId: '',
      vdn: '',
      skillIds: '',
      cmsTargets: '',
      alarmVdns: '',
      cmsSignature: 'auto',
      cmsBaseUrl: '',
      closingReadGuardSeconds: '3',
      closingReadReachSeconds: '60',
      collectorTimeoutSeconds: 110,
      ...values,
    }).map(([name, value]) => [`param:${name}`, value]),
  ),
});
