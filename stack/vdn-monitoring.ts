import { ConfigError } from '../lib/errors.js';
import { buildAlarms } from './alarms.js';
import { buildDashboardBody } from './dashboard.js';
import { buildQueryArnOutputs } from './outputs.js';
import {
  checkFunctionSettings,
  closingReadTiming,
  collectedVdns,
  configuredVdns,
  monitoringSettings,
  type StageValues,
  scheduledVdns,
  watchedVdns,
} from './settings.js';

// Per-VDN monitoring, generated from the deployment's own configuration: one set of VDN alarms (abandonment
// rate, service level, collection failing, stale data, closing reads missing, longest wait), one row of dashboard graphs (with
// the day so far) and one query ARN output for every VDN the collector reads, so that adding a VDN to
// `ccId`/`vdn`, `cmsTargets` or a fleet schedule is all it takes to watch it.
//
// `npm run build` bundles this module into dist/stack/vdn-monitoring.cjs, which serverless.yml reads through
// osls' file variable source (`${file(./dist/stack/vdn-monitoring.cjs):resources}`): CommonJS, because osls
// loads the file with require(), and Node.js before 20.19 cannot require() an ES module. osls 4.3 calls each
// export with `{ options, resolveConfigurationProperty, resolveVariable }` (no `params`), so stage parameters
// are read with `resolveVariable('param:…')`.

interface VariableResolver {
  resolveVariable(variable: string): Promise<unknown>;
}

const PARAMETERS = [
  'ccId',
  'vdn',
  'skillIds',
  'cmsTargets',
  'alarmVdns',
  'metricNamespace',
  'alarmMinCallsOffered',
  'abandonmentRateThreshold',
  'serviceLevelThreshold',
  'kpiAlarmEvaluationPeriods',
  'kpiAlarmDatapointsToAlarm',
  'collectorAlarmEvaluationPeriods',
  'dataAgeThresholdSeconds',
  'windowCoverageThreshold',
  'longestWaitThresholdSeconds',
  'longestWaitAlarmEvaluationPeriods',
  'longestWaitAlarmDatapointsToAlarm',
  'todayUtcOffsetMinutes',
  'cmsSignature',
];

/** The collector's timing, checked while packaging (closingReadTiming). */
const TIMING_PARAMETERS = ['closingReadGuardSeconds', 'closingReadReachSeconds', 'collectorTimeoutSeconds'];

/** Stage parameters that chose the one alarmed VDN; passing them now would change the alarms unnoticed. */
const RETIRED_PARAMETERS = { alarmCcId: 'alarmVdns', alarmVdn: 'alarmVdns' };

const text = (value: unknown) => (value === null || value === undefined ? '' : String(value).trim());

async function stageValues(resolver: VariableResolver, names: readonly string[]): Promise<StageValues> {
  const values: Record<string, string> = {};
  for (const name of names) values[name] = text(await resolver.resolveVariable(`param:${name}`));
  return values;
}

async function readConfiguration({ resolveVariable }: VariableResolver) {
  for (const [name, successor] of Object.entries(RETIRED_PARAMETERS)) {
    if (text(await resolveVariable(`param:${name}, null`)) !== '') {
      throw new ConfigError(
        name,
        `is no longer read: every collected VDN gets alarms; choose them with ${successor} (e.g. 1/170,1/171)`,
      );
    }
  }
  const values: StageValues = {
    ...(await stageValues({ resolveVariable }, PARAMETERS)),
    service: text(await resolveVariable('self:service')),
    stage: text(await resolveVariable('sls:stage')),
  };
  checkFunctionSettings(values);
  const served = configuredVdns(values);
  const vdns = collectedVdns(served, scheduledVdns(await resolveVariable('self:functions.collector.events')));
  return {
    watched: watchedVdns(vdns, values.alarmVdns ?? ''),
    served,
    settings: monitoringSettings(values),
  };
}

/**
 * osls prints the stack of an error a variable source throws; a configuration mistake's trace would only point
 * into the bundle, so the operator sees the message alone, which names the stage parameter.
 */
async function reportingConfigErrors<T>(generate: () => Promise<T>): Promise<T> {
  try {
    return await generate();
  } catch (error) {
    if (error instanceof ConfigError) error.stack = `${error.name}: ${error.message}`;
    throw error;
  }
}

/** `${file(./dist/stack/vdn-monitoring.cjs):resources}`: the per-VDN alarms and query ARNs, as a `resources` fragment. */
export const resources = (resolver: VariableResolver) =>
  reportingConfigErrors(async () => {
    closingReadTiming(await stageValues(resolver, TIMING_PARAMETERS));
    const { watched, served, settings } = await readConfiguration(resolver);
    return { Resources: buildAlarms(watched, settings), Outputs: buildQueryArnOutputs(served) };
  });

/** `${file(./dist/stack/vdn-monitoring.cjs):dashboardBody}`: the Dashboard's DashboardBody. */
export const dashboardBody = (resolver: VariableResolver) =>
  reportingConfigErrors(async () => {
    const { watched, settings } = await readConfiguration(resolver);
    return buildDashboardBody(watched, settings);
  });
