/**
 * The stack generator (stack/vdn-monitoring.ts) called as osls calls it while packaging, without osls: stage
 * parameters and the other variables it reads come from a table.
 */

import { dashboardBody, resources, wallboardFunctions } from '../../stack/vdn-monitoring.js';
import { type Deployment, deploy, type Template } from './stack-cfn.js';
import { packagedTemplate } from './stack-packaged.js';
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

/** osls' logical id of a function's resource. */
const lambdaResourceName = (functionName: string) =>
  `${functionName.charAt(0).toUpperCase()}${functionName.slice(1)}LambdaFunction`;

/**
 * The generator's share of the stack for these variables (stageParams' output, or a table like it), as
 * CloudFormation would create it: the per-VDN alarms, the tenants' dashboards and wallboard functions, the OTLP
 * policy, the outputs, and the stack's Dashboard with the body the generator writes for it. What serverless.yml
 * adds around it (the collector and query functions, roles, the API, the stack-wide alarms) is read from the one
 * packaged stack (test/support/stack-packaged.ts); test/stack-tenants.test.ts checks that both agree.
 */
export async function generatedStack(variables: Record<string, unknown>): Promise<Deployment> {
  const resolver = resolverOf(variables);
  const { Resources, Outputs } = await resources(resolver);
  const stage = String(variables['sls:stage']);
  const dashboard = {
    Type: 'AWS::CloudWatch::Dashboard',
    Properties: { DashboardName: `cms-skill-metrics-${stage}`, DashboardBody: await dashboardBody(resolver) },
  };
  // serverless.yml's CloudFormation parameters (whose defaults are the stage parameters of the same name) and the
  // conditions on them, which the generated alarms use.
  const { Parameters = {}, Conditions, Resources: packaged } = await packagedTemplate();
  // Each tenant's wallboard function as osls compiles it, but for its description: what every wallboard shares
  // (the packaged stack's wallboard, as serverless.yml makes it) with the tenant's own name and variables on top.
  const [, shared] =
    Object.entries(packaged).find(([name]) => /^Wallboard\w+LambdaFunction$/.test(name)) ?? [];
  if (shared === undefined) throw new Error('the packaged stack has no wallboard function');
  const { Description: _, ...sharedProperties } = shared.Properties as {
    Description?: unknown;
    Environment: { Variables: Record<string, unknown> };
  };
  const definitions = (await wallboardFunctions(resolver)) as Record<
    string,
    { name: string; environment: Record<string, unknown> }
  >;
  const wallboards = Object.fromEntries(
    Object.entries(definitions).map(([name, definition]) => [
      lambdaResourceName(name),
      {
        ...shared,
        Properties: {
          ...sharedProperties,
          FunctionName: definition.name,
          Environment: {
            Variables: { ...sharedProperties.Environment.Variables, ...definition.environment },
          },
        },
      },
    ]),
  );
  const parameters = Object.fromEntries(
    Object.entries(Parameters).map(([name, parameter]) => {
      const value = variables[`param:${name.charAt(0).toLowerCase()}${name.slice(1)}`];
      return [name, { ...parameter, Default: value ?? '' }];
    }),
  );
  const fragment = {
    Parameters: parameters,
    Conditions,
    Resources: { ...Resources, ...wallboards, Dashboard: dashboard },
    Outputs,
  };
  // What the generated resources refer to of serverless.yml's own: its functions, roles, API, bucket.
  return deploy(fragment as unknown as Template, { elsewhere: Object.keys(packaged) });
}

/** The error the generator refuses these variables with, as osls would report it; undefined when it does not. */
export async function generatorRefusal(variables: Record<string, unknown>): Promise<Error | undefined> {
  return resources(resolverOf(variables)).then(
    () => undefined,
    (error: unknown) => error as Error,
  );
}
