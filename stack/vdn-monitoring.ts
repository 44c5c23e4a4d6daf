import { ConfigError } from '../lib/errors.js';
import { buildAlarms } from './alarms.js';
import { buildDashboardBody } from './dashboard.js';
import { buildOtlpPolicy, OTLP_PARAMETERS, otlpStageSettings } from './otlp.js';
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
import {
  checkEnvironmentSize,
  checkStackSize,
  environmentBytes,
  type StackContents,
  stackSize,
} from './size.js';
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
// rate, service level, collection failing, stale data, closing reads missing, longest wait), one row of dashboard
// graphs (with the day so far in the contact centre's time zone) and one query ARN output for every VDN the
// collector reads, and per tenant a wallboard function and a dashboard (stack/tenants.ts), so that adding a VDN
// to `ccId`/`vdn`, `cmsTargets` or a fleet schedule is all it takes to watch it. The whole is checked against the
// size of one stack (stack/size.ts).
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
  'timeZone',
  'cmsSignature',
  'cmsRefusalLimit',
  'cmsRefusalPeriodSeconds',
  'cmsBaseUrl',
];

/** Stage parameters serverless.yml writes into the template as CloudFormation parameters' defaults. */
const TEMPLATE_PARAMETERS = [
  'cmsBaseUrl',
  'cmsSecretArn',
  'secretKmsKeyArn',
  'securityGroupIds',
  'subnetIds',
  'corsAllowedOrigins',
  'alarmTopicArn',
];

/** The collector's timing, checked while packaging (closingReadTiming). */
const TIMING_PARAMETERS = ['closingReadGuardSeconds', 'closingReadReachSeconds', 'collectorTimeoutSeconds'];

/**
 * Stage parameters that are no longer read, and what replaced them: passing one would change the alarms or the
 * dashboard unnoticed, so packaging refuses it.
 */
const RETIRED_PARAMETERS = {
  // They chose the one alarmed VDN.
  alarmCcId: 'every collected VDN gets alarms; choose them with alarmVdns (e.g. 1/170,1/171)',
  alarmVdn: 'every collected VDN gets alarms; choose them with alarmVdns (e.g. 1/170,1/171)',
  // A fixed offset cannot follow daylight saving time.
  todayUtcOffsetMinutes:
    '"today" starts at midnight of timeZone, an IANA time zone such as Europe/Madrid (daylight saving time ' +
    'included); set timeZone instead',
};

const text = (value: unknown) => (value === null || value === undefined ? '' : String(value).trim());

async function stageValues(resolver: VariableResolver, names: readonly string[]): Promise<StageValues> {
  const values: Record<string, string> = {};
  for (const name of names) values[name] = text(await resolver.resolveVariable(`param:${name}`));
  return values;
}

/** Where serverless.yml keeps the collector's schedule events (`functions` is a list: see wallboardFunctions). */
const COLLECTOR_EVENTS = 'self:functions.0.collector.events';

async function readConfiguration({ resolveVariable }: VariableResolver) {
  for (const [name, replacement] of Object.entries(RETIRED_PARAMETERS)) {
    if (text(await resolveVariable(`param:${name}, null`)) !== '') {
      throw new ConfigError(name, `is no longer read: ${replacement}`);
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
    schedules: Array.isArray(events) ? events : [],
    /** The functions' own targets as written, which the collector's and the query function's environments hold. */
    ownTargets: `${values.ccId}${values.vdn}${values.skillIds}${values.cmsTargets}`,
    parameterDefaults: await parameterDefaultsOf({ resolveVariable }),
    environments: await functionEnvironments({ resolveVariable }),
    fleetResources: await fleetResources({ resolveVariable }),
  };
}

/** The stage parameters of TEMPLATE_PARAMETERS, by the CloudFormation parameter they default (CmsBaseUrl). */
async function parameterDefaultsOf({ resolveVariable }: VariableResolver): Promise<Record<string, string>> {
  const defaults: Record<string, string> = {};
  for (const name of TEMPLATE_PARAMETERS) {
    defaults[name.charAt(0).toUpperCase() + name.slice(1)] = text(
      await resolveVariable(`param:${name}, null`),
    );
  }
  return defaults;
}

/** The environment every function gets from `provider`, and the collector's and the query function's own. */
async function functionEnvironments({ resolveVariable }: VariableResolver) {
  const environment = async (path: string) =>
    ((await resolveVariable(`${path}, null`)) ?? {}) as Readonly<Record<string, unknown>>;
  return {
    provider: await environment('self:provider.environment'),
    collector: await environment('self:functions.0.collector.environment'),
    query: await environment('self:functions.0.query.environment'),
  };
}

/** Resources the stage's fleet file adds of its own, which count towards the stack's size. */
async function fleetResources({ resolveVariable }: VariableResolver): Promise<Record<string, unknown>> {
  const fleetFile = text(await resolveVariable('param:fleetFile, null'));
  if (fleetFile === '') return {};
  const fleet = await resolveVariable(`file(${fleetFile}):resources, null`);
  const resources = (fleet as { Resources?: unknown } | null)?.Resources;
  return typeof resources === 'object' && resources !== null ? (resources as Record<string, unknown>) : {};
}

/** Bytes of a value in the compact template osls uploads. */
const jsonBytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');

/** A schedule's input as osls writes it: JSON text inside the template's JSON. */
function scheduleInputBytes(event: unknown): number {
  const input = (event as { schedule?: { input?: unknown } } | null)?.schedule?.input;
  if (input === undefined) return 0;
  return jsonBytes(typeof input === 'string' ? input : JSON.stringify(input));
}

/** Everything generated, checked against the size of one stack before any of it is handed to osls. */
async function generate(resolver: VariableResolver) {
  const {
    watched,
    served,
    tenants,
    settings,
    schedules,
    fleetResources,
    ownTargets,
    parameterDefaults,
    environments,
  } = await readConfiguration(resolver);
  const tenantOfVdn = new Map(
    tenants.flatMap((tenant) => tenant.targets.map(({ ccId, vdn }) => [`${ccId}/${vdn}`, tenant] as const)),
  );
  const wallboardOf = ({ ccId, vdn }: { ccId: number; vdn: number }) =>
    wallboardEndpoint(tenantOfVdn.get(`${ccId}/${vdn}`) as Tenant);
  const dashboards = tenantDashboards(tenants, settings);
  // With osls' null fallback, so that a configuration written before these parameters existed still packages.
  const otlpValues: Record<string, string> = {};
  for (const name of Object.values(OTLP_PARAMETERS))
    otlpValues[name] = text(await resolver.resolveVariable(`param:${name}, null`));
  const Resources = {
    ...buildAlarms(watched, settings),
    ...dashboards,
    ...buildOtlpPolicy(otlpStageSettings(otlpValues)),
  };
  const Outputs = { ...buildQueryArnOutputs(served), ...tenantOutputs(tenants) };
  const dashboardBody = buildDashboardBody(watched, settings, wallboardOf);
  const widgetsOf = (body: { 'Fn::Sub': string }) =>
    (JSON.parse(body['Fn::Sub']) as { widgets: unknown[] }).widgets.length;
  const functions = buildWallboardFunctions(tenants, settings, await wallboardTemplate(resolver));
  const contents: StackContents = {
    schedules: schedules.length,
    fleetResources: Object.keys(fleetResources).length,
    generatedResources: Object.keys(Resources).length,
    tenants: tenants.length,
    generatedOutputs: Object.keys(Outputs).length,
    generatedBytes:
      jsonBytes(Resources) +
      jsonBytes(Outputs) +
      jsonBytes(dashboardBody) +
      Object.values(functions).reduce((sum, { environment }) => sum + jsonBytes(environment), 0) +
      schedules.reduce((sum: number, event) => sum + scheduleInputBytes(event), 0) +
      jsonBytes(fleetResources) +
      2 * jsonBytes(ownTargets) +
      jsonBytes(Object.values(parameterDefaults).join('')),
    dashboardWidgets: Math.max(
      widgetsOf(dashboardBody),
      ...Object.values(dashboards).map(({ Properties }) => widgetsOf(Properties.DashboardBody)),
    ),
  };
  checkStackSize(contents);
  const parameterValue = (name: string) => parameterDefaults[name] ?? '';
  const environmentOf = (own: Readonly<Record<string, unknown>>) =>
    environmentBytes({ ...environments.provider, ...own }, parameterValue);
  checkEnvironmentSize('the collector', environmentOf(environments.collector));
  checkEnvironmentSize('the query function', environmentOf(environments.query));
  for (const tenant of tenants) {
    const { environment } = functions[`wallboard${tenant.id}`] ?? { environment: {} };
    checkEnvironmentSize(`the wallboard function of tenant "${tenant.name}"`, environmentOf(environment));
  }
  return { Resources, Outputs, dashboardBody, functions, tenants, settings, contents };
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
  reportingConfigErrors(async () => (await generate(resolver)).functions);

/** `${file(./dist/stack/vdn-monitoring.cjs):wallboardLogGroupArns}`: the log groups the wallboards' role writes. */
export const wallboardLogGroups = (resolver: VariableResolver) =>
  reportingConfigErrors(async () => wallboardLogGroupArns((await generate(resolver)).tenants));

/** The size of the stack the stage parameters make, as packaging checks it. */
export const stackSizeOf = (resolver: VariableResolver) =>
  reportingConfigErrors(async () => stackSize((await generate(resolver)).contents));
