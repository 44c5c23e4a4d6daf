/** Types of vdn-monitoring.cjs, for the tests that import it. */

export interface Vdn {
  readonly ccId: number;
  readonly vdn: number;
}

/** Stage parameters as osls resolves them: strings from the command line, numbers from YAML. */
export type StageValues = Readonly<Record<string, unknown>>;

export interface MonitoringSettings {
  readonly service: string;
  readonly stage: string;
  readonly namespace: string;
  readonly minCallsOffered: number;
  readonly abandonmentRateThreshold: number;
  readonly serviceLevelThreshold: number;
  readonly kpiEvaluationPeriods: number;
  readonly kpiDatapointsToAlarm: number;
  readonly collectorEvaluationPeriods: number;
  readonly dataAgeThresholdSeconds: number;
  readonly windowCoverageThreshold: number;
  /** Fixed UTC offset, in minutes, of the midnight "today" starts at. */
  readonly todayUtcOffsetMinutes: number;
}

export interface CfnResource {
  readonly Type: string;
  readonly Properties: Readonly<Record<string, unknown>>;
}

export interface VariableResolver {
  resolveVariable(variable: string): Promise<unknown>;
}

export declare const MAX_WATCHED_VDNS: number;

export declare class StackConfigError extends Error {
  readonly field: string;
  constructor(field: string, problem: string);
}

export declare function validateTargets(input: unknown, field: string): Vdn[];
export declare function configuredVdns(params: {
  readonly ccId?: string;
  readonly vdn?: string;
  readonly skillIds?: string;
  readonly cmsTargets?: string;
}): Vdn[];
export declare function scheduledVdns(events: unknown): Vdn[];
export declare function collectedVdns(...lists: readonly (readonly Vdn[])[]): Vdn[];
export declare function watchedVdns(vdns: readonly Vdn[], alarmVdns: string): Vdn[];
export declare function monitoringSettings(values: StageValues): MonitoringSettings;
export declare function closingReadTiming(values: StageValues): {
  readonly guardSeconds: number;
  readonly reachSeconds: number;
  readonly timeoutSeconds: number;
};
export declare function alarmLogicalIds(vdn: Vdn): {
  readonly abandonmentRate: string;
  readonly serviceLevel: string;
  readonly collectorDead: string;
  readonly staleData: string;
  readonly closingReads: string;
};
export declare function buildAlarms(
  vdns: readonly Vdn[],
  settings: MonitoringSettings,
): Record<string, CfnResource>;
export declare function buildDashboardBody(
  vdns: readonly Vdn[],
  settings: MonitoringSettings,
): { readonly 'Fn::Sub': string };
export declare function queryArn(vdn: Vdn): { readonly 'Fn::Sub': string };
export declare function buildQueryArnOutputs(
  vdns: readonly Vdn[],
): Record<string, { readonly Description: string; readonly Value: { readonly 'Fn::Sub': string } }>;
export declare function resources(resolver: VariableResolver): Promise<{
  Resources: Record<string, CfnResource>;
  Outputs: Record<string, { readonly Description: string; readonly Value: { readonly 'Fn::Sub': string } }>;
}>;
export declare function dashboardBody(resolver: VariableResolver): Promise<{ readonly 'Fn::Sub': string }>;
