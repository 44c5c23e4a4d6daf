/**
 * The stack generator (stack/vdn-monitoring.ts) called as osls calls it while packaging, without osls: stage
 * parameters and the other variables it reads come from a table.
 */

import { STAGE_SETTINGS } from './stack-settings.js';

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
      ...STAGE_SETTINGS,
      ccId: '',
      vdn: '',
      skillIds: '',
      cmsTargets: '',
      alarmVdns: '',
      cmsSignature: 'auto',
      cmsRefusalLimit: '4',
      cmsRefusalPeriodSeconds: '900',
      cmsBaseUrl: '',
      closingReadGuardSeconds: '3',
      closingReadReachSeconds: '60',
      collectorTimeoutSeconds: 110,
      ...values,
    }).map(([name, value]) => [`param:${name}`, value]),
  ),
});
