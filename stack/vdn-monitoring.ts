import { ConfigError } from '../lib/errors.js';
import { buildAlarms } from './alarms.js';
import { buildDashboardBody } from './dashboard.js';
import { buildQueryArnOutputs } from './outputs.js';
import {
  checkFunctionSettings,
  closingReadTiming,
  collectedTargets,
  configuredTargets,
  monitoringSettings,
  type StageValues,
  scheduledTargets,
  watchedVdns,
} from './settings.js';
import { checkStackSize } from './size.js';
import {
  wallboardFunctions as buildWallboardFunctions,
  type Tenant,
  tenantDashboards,
  tenantOutputs,
  tenantsOf,
  type WallboardTemplate,
  wallboardEndpoint,
  wallboardExtensions,
  wallboardLogGroupArns,
} from './tenants.js';

// Per-VDN monitoring, generated from the deployment's own configuration: one set of VDN alarms (abandonment
// rate, service level, collection failing, stale data, closing reads missing), one row of dashboard graphs (with
// the day so far) and one query ARN output for every VDN the collector reads, and per tenant a wallboard function
// and a dashboard (stack/tenants.ts), so that adding a VDN to `ccId`/`vdn`, `cmsTargets` or a fleet schedule is
// all it takes to watch it. The whole is checked against the size of one stack (stack/size.ts).
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
  'todayUtcOffsetMinutes',
  'cmsSignature',
  'cmsBaseUrl',
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

/** Where serverless.yml keeps the collector's schedule events (`functions` is a list: see wallboardFunctions). */
const COLLECTOR_EVENTS = 'self:functions.0.collector.events';

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
  const configured = configuredTargets(values);
  const events = await resolveVariable(COLLECTOR_EVENTS);
  const collected = collectedTargets(configured, scheduledTargets(events));
  const settings = monitoringSettings(values);
  return {
    watched: watchedVdns(collected, values.alarmVdns ?? ''),
    served: configured.map(({ target }) => target),
    tenants: tenantsOf(collected, settings),
    settings,
    schedules: Array.isArray(events) ? events.length : 0,
    fleetResources: await fleetResourceCount({ resolveVariable }),
  };
}

/** Resources the stage's fleet file adds of its own, which count towards the stack's size. */
async function fleetResourceCount({ resolveVariable }: VariableResolver): Promise<number> {
  const fleetFile = text(await resolveVariable('param:fleetFile, null'));
  if (fleetFile === '') return 0;
  const fleet = await resolveVariable(`file(${fleetFile}):resources, null`);
  const resources = (fleet as { Resources?: unknown } | null)?.Resources;
  return typeof resources === 'object' && resources !== null ? Object.keys(resources).length : 0;
}

/** Everything generated, checked against the size of one stack before any of it is handed to osls. */
async function generate(resolver: VariableResolver) {
  const { watched, served, tenants, settings, schedules, fleetResources } = await readConfiguration(resolver);
  const tenantOfVdn = new Map(
    tenants.flatMap((tenant) => tenant.targets.map(({ ccId, vdn }) => [`${ccId}/${vdn}`, tenant] as const)),
  );
  const wallboardOf = ({ ccId, vdn }: { ccId: number; vdn: number }) =>
    wallboardEndpoint(tenantOfVdn.get(`${ccId}/${vdn}`) as Tenant);
  const Resources = { ...buildAlarms(watched, settings), ...tenantDashboards(tenants, settings) };
  const Outputs = { ...buildQueryArnOutputs(served), ...tenantOutputs(tenants) };
  const dashboardBody = buildDashboardBody(watched, settings, wallboardOf);
  const widgetsOf = (body: { 'Fn::Sub': string }) =>
    (JSON.parse(body['Fn::Sub']) as { widgets: unknown[] }).widgets.length;
  checkStackSize({
    schedules,
    fleetResources,
    generatedResources: Object.keys(Resources).length,
    tenants: tenants.length,
    generatedOutputs: Object.keys(Outputs).length,
    dashboardWidgets: Math.max(
      widgetsOf(dashboardBody),
      ...Object.values(tenantDashboards(tenants, settings)).map(({ Properties }) =>
        widgetsOf(Properties.DashboardBody),
      ),
    ),
  });
  return { Resources, Outputs, dashboardBody, tenants, settings };
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

/**
 * `${file(./dist/stack/vdn-monitoring.cjs):resources}`: the per-VDN alarms, the tenants' dashboards, the query
 * and tenant ARN outputs, and the tenants' functions' share of `extensions` (serverless.yml's
 * `custom.wallboard.resource`), as a `resources` fragment.
 */
export const resources = (resolver: VariableResolver) =>
  reportingConfigErrors(async () => {
    closingReadTiming(await stageValues(resolver, TIMING_PARAMETERS));
    const { Resources, Outputs, tenants } = await generate(resolver);
    return {
      Resources,
      Outputs,
      extensions: wallboardExtensions(tenants, await wallboardTemplate(resolver)),
    };
  });

/** `${file(./dist/stack/vdn-monitoring.cjs):dashboardBody}`: the stack Dashboard's DashboardBody. */
export const dashboardBody = (resolver: VariableResolver) =>
  reportingConfigErrors(async () => (await generate(resolver)).dashboardBody);

/** serverless.yml's `custom.wallboard`: what every tenant's wallboard function shares. */
async function wallboardTemplate({ resolveVariable }: VariableResolver): Promise<WallboardTemplate> {
  return (await resolveVariable('self:custom.wallboard')) as WallboardTemplate;
}

/**
 * `${file(./dist/stack/vdn-monitoring.cjs):wallboardFunctions}`: an entry of serverless.yml's `functions` list,
 * one wallboard function per tenant, each configured with that tenant's VDNs alone.
 */
export const wallboardFunctions = (resolver: VariableResolver) =>
  reportingConfigErrors(async () => {
    const { tenants, settings } = await generate(resolver);
    return buildWallboardFunctions(tenants, settings, await wallboardTemplate(resolver));
  });

/** `${file(./dist/stack/vdn-monitoring.cjs):wallboardLogGroupArns}`: the log groups the wallboards' role writes. */
export const wallboardLogGroups = (resolver: VariableResolver) =>
  reportingConfigErrors(async () => wallboardLogGroupArns((await generate(resolver)).tenants));
