import { ConfigError } from '../lib/errors.js';
import { alarmLogicalIds } from './alarms.js';

// How much one stack can hold. CloudFormation refuses a template with more than 500 resources or 200 outputs,
// or larger than 1 MB (the template osls uploads to S3), and CloudWatch a dashboard with more than 500 widgets,
// but only at deploy time, after the upload and with words about the template rather than the fleet. Packaging
// counts what the configuration adds and refuses a stack beyond a limit, naming the limit and the way out.

export const STACK_LIMITS = {
  resources: 500,
  outputs: 200,
  templateBytes: 1_048_576,
  dashboardWidgets: 500,
} as const;

/**
 * What serverless.yml declares whatever the fleet: three functions' roles, the collector and query functions
 * with their log groups and the collector's retry setting, the HTTP API with its stage, integration, two routes
 * and invoke permission, the deployment bucket and its policy, two stack alarms and the stack's dashboard (19
 * resources); the bucket name, API id and URL (osls), QueryApiUrl and DashboardUrl (5 outputs); and the text of
 * all that, 13.9 kB measured with short stage names and parameter values, with 0.6 kB to spare for longer ones.
 * The stack test compares the counts with packaged templates.
 */
const FIXED = { resources: 19, outputs: 5, templateBytes: 14_500 } as const;

/** osls turns each collector schedule into an EventBridge rule and the permission to invoke the collector. */
const RESOURCES_PER_SCHEDULE = 2;
/**
 * Template bytes osls writes for a schedule besides its input, and for a tenant's function and log group besides
 * its CMS_TARGETS (measured in packaged templates, as FIXED.templateBytes).
 */
const BYTES_PER_SCHEDULE = 470;
const BYTES_PER_TENANT = 1_450;
const ALARMS_PER_VDN = Object.keys(alarmLogicalIds({ ccId: 1, vdn: 1 })).length;
/** osls gives each tenant's wallboard function a log group of its own. */
const RESOURCES_PER_FUNCTION = 2;

export interface StackContents {
  /** The collector's schedule events. */
  readonly schedules: number;
  /** Resources the fleet file adds of its own. */
  readonly fleetResources: number;
  /** Generated resources: the watched VDNs' alarms and the tenants' dashboards. */
  readonly generatedResources: number;
  /** Tenants: each has a wallboard function. */
  readonly tenants: number;
  /** Generated outputs: the served VDNs' query ARNs and the tenants' ARNs. */
  readonly generatedOutputs: number;
  /**
   * Template bytes of what the configuration writes into it, as compact JSON: the generated resources, outputs
   * and stack dashboard, the tenants' function environments, the schedules' inputs, the fleet file's resources,
   * the functions' own targets and the parameters' defaults.
   */
  readonly generatedBytes: number;
  /** Widgets of the fullest dashboard. */
  readonly dashboardWidgets: number;
}

export function stackSize(contents: StackContents) {
  return {
    resources:
      FIXED.resources +
      RESOURCES_PER_SCHEDULE * contents.schedules +
      contents.fleetResources +
      contents.generatedResources +
      RESOURCES_PER_FUNCTION * contents.tenants,
    outputs: FIXED.outputs + contents.generatedOutputs,
    templateBytes:
      FIXED.templateBytes +
      BYTES_PER_SCHEDULE * contents.schedules +
      BYTES_PER_TENANT * contents.tenants +
      contents.generatedBytes,
  };
}

const WAY_OUT =
  'deploy part of the fleet as another stage (with its own targets, or its fleet schedules in a second stack)';

/** Lambda's limit on a function's environment: the names and values of its variables together. */
const ENVIRONMENT_BYTES = 4_096;

/**
 * The size of a function's environment as Lambda counts it, a value given as `{"Ref": parameter}` (the CMS
 * address, the secret) counting as the parameter's default, which is what the stack deploys with.
 */
export function environmentBytes(
  variables: Readonly<Record<string, unknown>>,
  parameterValue: (name: string) => string,
): number {
  const deployed = (value: unknown) => {
    const ref = (value as { Ref?: unknown } | null)?.Ref;
    return typeof ref === 'string'
      ? parameterValue(ref)
      : typeof value === 'object'
        ? ''
        : String(value ?? '');
  };
  return Object.entries(variables).reduce(
    (sum, [name, value]) => sum + Buffer.byteLength(name) + Buffer.byteLength(deployed(value)),
    0,
  );
}

/**
 * Refuses a function whose environment Lambda would refuse. The targets are what grows: the functions' own in
 * the collector's and the query function's, a tenant's VDNs in its wallboard function's.
 */
export function checkEnvironmentSize(what: string, bytes: number): void {
  if (bytes > ENVIRONMENT_BYTES) {
    throw new ConfigError(
      'cmsTargets',
      `gives ${what} an environment of ${bytes} bytes, more than the ${ENVIRONMENT_BYTES / 1024} KB Lambda ` +
        'allows, most of it the targets: write skill lists as ranges, split a large tenant into several, move ' +
        `targets into fleet schedules (whose input carries them), or ${WAY_OUT}`,
    );
  }
}

/** Refuses a stack CloudFormation or CloudWatch would refuse for its size, saying what takes the room. */
export function checkStackSize(contents: StackContents): void {
  const size = stackSize(contents);
  if (size.resources > STACK_LIMITS.resources) {
    throw new ConfigError(
      'cmsTargets',
      `makes a stack of ${size.resources} CloudFormation resources, more than the ${STACK_LIMITS.resources} one ` +
        `stack may hold: ${FIXED.resources} of its own, ${RESOURCES_PER_SCHEDULE} per collector schedule, ${ALARMS_PER_VDN} ` +
        `alarms per VDN with alarms, and a wallboard function, its log group and a dashboard per tenant. Leave VDNs ` +
        `without alarms (alarmVdns), group VDNs into tenants, or ${WAY_OUT}`,
    );
  }
  if (size.outputs > STACK_LIMITS.outputs) {
    throw new ConfigError(
      'cmsTargets',
      `makes a stack of ${size.outputs} outputs, more than the ${STACK_LIMITS.outputs} one stack may hold: ` +
        `${FIXED.outputs} of its own, a query ARN per VDN of the functions' targets, and a wallboard ARN and a ` +
        `dashboard ARN per tenant. Group VDNs into tenants, or ${WAY_OUT}`,
    );
  }
  if (size.templateBytes > STACK_LIMITS.templateBytes) {
    throw new ConfigError(
      'cmsTargets',
      `makes a template of about ${Math.ceil(size.templateBytes / 1024)} KB, more than the ` +
        `${STACK_LIMITS.templateBytes / 1024} KB CloudFormation reads: about 6 KB per VDN with alarms, 5 KB per ` +
        "VDN on the stack's dashboard, 6 KB per VDN on its tenant's and 2 KB per tenant. Leave VDNs without " +
        `alarms and off the stack's dashboard (alarmVdns), or ${WAY_OUT}`,
    );
  }
  if (contents.dashboardWidgets > STACK_LIMITS.dashboardWidgets) {
    throw new ConfigError(
      'cmsTargets',
      `puts ${contents.dashboardWidgets} widgets on one dashboard, more than the ` +
        `${STACK_LIMITS.dashboardWidgets} CloudWatch allows: five graphs and a wallboard per VDN, and the ` +
        "fleet-wide graphs on the stack's. Leave VDNs off the stack's dashboard (alarmVdns), split a large " +
        `tenant into several, or ${WAY_OUT}`,
    );
  }
}
