import { tenantOf } from '../lib/config.js';
import { ConfigError } from '../lib/errors.js';
import type { Target } from '../lib/model.js';
import { formatSkillList } from '../lib/skills.js';
import { buildTenantDashboardBody, placeholder } from './dashboard.js';
import type { MonitoringSettings } from './settings.js';

// One tenant never sees another. A viewer is granted lambda:InvokeFunction on a wallboard function, and IAM
// cannot condition an invocation on its payload (the VDN a widget asks for), so each tenant gets a wallboard
// function configured with its own VDNs alone: asked for any other VDN it has nothing to show. Each tenant also
// gets a dashboard of its own, with its VDNs' graphs and wallboards, and outputs naming both, for the viewers'
// IAM policies (docs/deploy.md, "Tenants").

export interface Tenant {
  /** `acme`, or `cc1-vdn170` for a VDN without a tenant (lib/config.ts, tenantOf). */
  readonly name: string;
  /** The name in PascalCase (`Acme`, `Cc1Vdn170`): its part of logical ids and output names. */
  readonly id: string;
  /** Its VDNs, in call-center and VDN order. */
  readonly targets: readonly Target[];
}

type Names = Pick<MonitoringSettings, 'service' | 'stage'>;

/** Lambda's limit on a function name. */
const FUNCTION_NAME_LIMIT = 64;

const pascal = (name: string) =>
  name
    .split('-')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('');

/**
 * A tenant's function name. AWS recommends the customWidget prefix (the console offers such functions for a
 * custom widget); the `_` before the tenant cannot occur in a stage name, so no other stage's names collide.
 */
const wallboardFunctionName = ({ service, stage }: Names, tenant: Pick<Tenant, 'name'>) =>
  `customWidget-${service}-${stage}_${tenant.name}`;

/** The tenant's dashboard, named like the stack's own (`<service>-<stage>`) with the tenant after a `_`. */
const tenantDashboardName = ({ service, stage }: Names, tenant: Pick<Tenant, 'name'>) =>
  `${service}-${stage}_${tenant.name}`;

/** The key of the tenant's function in serverless.yml's `functions`; osls names its resources after it. */
const functionKey = ({ id }: Tenant) => `wallboard${id}`;

/** Logical ids of what a tenant adds to the stack, as osls names a function's resources. */
function tenantLogicalIds({ id }: Pick<Tenant, 'id'>) {
  return {
    function: `Wallboard${id}LambdaFunction`,
    logGroup: `Wallboard${id}LogGroup`,
    dashboard: `Dashboard${id}`,
  };
}

/** Output names of a tenant: its wallboard function's ARN and its dashboard's ARN. */
function tenantOutputNames({ id }: Pick<Tenant, 'id'>) {
  return { wallboard: `WallboardFunctionArn${id}`, dashboard: `DashboardArn${id}` };
}

/** The `${…}` placeholder of a tenant's wallboard ARN in the dashboards' Fn::Sub bodies. */
export const wallboardEndpoint = (tenant: Pick<Tenant, 'id'>) =>
  placeholder(`${tenantLogicalIds(tenant).function}.Arn`);

/**
 * The tenants of the collected VDNs, by name. A tenant whose function name would exceed Lambda's limit, or two
 * tenants whose names differ only by hyphens (so that their logical ids would be one), are refused.
 */
export function tenantsOf(targets: readonly Target[], names: Names): Tenant[] {
  const byName = new Map<string, Target[]>();
  for (const target of targets) {
    const name = tenantOf(target);
    byName.set(name, [...(byName.get(name) ?? []), target]);
  }
  const ids = new Map<string, string>();
  return [...byName.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, members]) => {
      const id = pascal(name);
      const other = ids.get(id);
      if (other !== undefined) {
        throw new ConfigError(
          'cmsTargets',
          `names tenants "${other}" and "${name}", which differ only by hyphens: their resources would share ` +
            `the logical ids Wallboard${id}… and Dashboard${id}; rename one`,
        );
      }
      ids.set(id, name);
      const functionName = wallboardFunctionName(names, { name });
      if (functionName.length > FUNCTION_NAME_LIMIT) {
        throw new ConfigError(
          'cmsTargets',
          `gives tenant "${name}" the wallboard function ${functionName}, ${functionName.length} characters where ` +
            `Lambda allows ${FUNCTION_NAME_LIMIT}: shorten the tenant's name or the stage's`,
        );
      }
      return { name, id, targets: members };
    });
}

/** The parts of a wallboard function's definition every tenant shares (serverless.yml, `custom.wallboard`). */
export interface WallboardTemplate {
  readonly function: Readonly<Record<string, unknown>> & {
    readonly environment?: Readonly<Record<string, unknown>>;
  };
  /** Merged into each tenant's function resource through osls' `extensions` (its VPC attachment). */
  readonly resource: Readonly<Record<string, unknown>>;
}

/**
 * The tenant's own targets as CMS_TARGETS (its only targets: the other target parameters are emptied, which the
 * provider-wide environment would otherwise fill with the functions' own VDN).
 */
function tenantEnvironment(tenant: Tenant) {
  const targets = tenant.targets.map(({ ccId, vdn, skillIds }) => ({
    ccId,
    vdn,
    skillIds: formatSkillList(skillIds),
  }));
  return { CMS_TARGETS: JSON.stringify(targets), CC_ID: '', VDN: '', SKILL_IDS: '' };
}

/** `functions` entries: one wallboard function per tenant, configured with that tenant's VDNs alone. */
export function wallboardFunctions(tenants: readonly Tenant[], names: Names, template: WallboardTemplate) {
  return Object.fromEntries(
    tenants.map((tenant) => [
      functionKey(tenant),
      {
        ...template.function,
        name: wallboardFunctionName(names, tenant),
        description: `${String(template.function.description ?? '')} Tenant ${tenant.name}.`.trim(),
        environment: { ...template.function.environment, ...tenantEnvironment(tenant) },
      },
    ]),
  );
}

/** What the tenant's function resources get through `extensions`. */
export function wallboardExtensions(tenants: readonly Tenant[], template: WallboardTemplate) {
  return Object.fromEntries(tenants.map((tenant) => [tenantLogicalIds(tenant).function, template.resource]));
}

/** The log groups the wallboards' role may write to: those of the tenants' functions, which the stack creates. */
export const wallboardLogGroupArns = (tenants: readonly Tenant[]) =>
  tenants.map((tenant) => ({ 'Fn::GetAtt': [tenantLogicalIds(tenant).logGroup, 'Arn'] }));

/** Each tenant's dashboard: its VDNs' graphs and wallboards, every wallboard backed by the tenant's function. */
export function tenantDashboards(tenants: readonly Tenant[], settings: MonitoringSettings) {
  return Object.fromEntries(
    tenants.map((tenant) => [
      tenantLogicalIds(tenant).dashboard,
      {
        Type: 'AWS::CloudWatch::Dashboard',
        Properties: {
          DashboardName: tenantDashboardName(settings, tenant),
          DashboardBody: buildTenantDashboardBody(tenant.targets, settings, () => wallboardEndpoint(tenant)),
        },
      },
    ]),
  );
}

/** The outputs naming each tenant's wallboard function and dashboard, which its viewers' policy grants. */
export function tenantOutputs(tenants: readonly Tenant[]) {
  return Object.fromEntries(
    tenants.flatMap((tenant) => {
      const ids = tenantLogicalIds(tenant);
      const outputs = tenantOutputNames(tenant);
      return [
        [
          outputs.wallboard,
          {
            Description: `Wallboard function of tenant ${tenant.name}: its viewers need lambda:InvokeFunction on it.`,
            Value: { 'Fn::GetAtt': [ids.function, 'Arn'] },
          },
        ],
        [
          outputs.dashboard,
          {
            Description: `Dashboard of tenant ${tenant.name}: its viewers need cloudwatch:GetDashboard on it.`,
            Value: {
              'Fn::Sub': `arn:\${AWS::Partition}:cloudwatch::\${AWS::AccountId}:dashboard/\${${ids.dashboard}}`,
            },
          },
        ],
      ];
    }),
  );
}
