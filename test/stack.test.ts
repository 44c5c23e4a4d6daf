import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { matchRoute, STATS_ROUTE_KEYS, statsPath } from '../lib/api/route.js';
import { parseTargets } from '../lib/config/targets.js';
import { ALL_METRIC_NAMES } from '../lib/model.js';
import { LAMBDA_NODE_MAJOR } from '../scripts/bundle-options.mjs';
import { alarmLogicalIds, buildAlarms } from '../stack/alarms.js';
import { buildDashboardBody, placeholder } from '../stack/dashboard.js';
import { queryArn } from '../stack/outputs.js';
import {
  checkFunctionSettings,
  closingReadTiming,
  collectedTargets,
  configuredTargets,
  type ListedTarget,
  monitoringSettings,
  scheduledTargets,
  watchedVdns,
} from '../stack/settings.js';
import { dashboardBody, resources } from '../stack/vdn-monitoring.js';
import {
  actionsOf,
  type DeployedResource,
  type Deployment,
  deploy,
  iamArnMatches,
  inlineStatements,
  type PolicyStatement,
  resource,
  resourcesOf,
  resourcesOfType,
  roleOfFunction,
  type Template,
} from './support/stack-cfn.js';
import {
  identifiersIn,
  layoutProblems,
  readCustomWidgets,
  readDashboard,
  searchesIn,
} from './support/stack-dashboard.js';
import { generatedStack, generatorRefusal, resolverOf, stageParams } from './support/stack-generator.js';
import { evaluateMetricMath } from './support/stack-math.js';
import { zipEntryNames } from './support/stack-package.js';
import {
  CONFIGURED_PARAMS,
  KMS_KEY_ARN,
  NAMESPACE,
  packagedArtifact,
  packagedTemplate,
  SECRET_ARN,
  serverlessDefault,
  TOPIC_ARN,
} from './support/stack-packaged.js';
import { STAGE_SETTINGS } from './support/stack-settings.js';

// The suite's one packaged stack (test/support/stack-packaged.ts: configured the way a production fleet would be:
// VPC, customer KMS key, alarm topic, CORS, own namespace, a fleet file with several schedules, 1/171 and 2/9 in
// tenant acme) shows what osls makes of serverless.yml; deployed with its optional CloudFormation parameters left
// empty, it shows the stack without them. The per-VDN alarms, dashboard and outputs of other configurations come
// from the stack generator, called as osls calls it: with nothing but one target and alarms off; with one VDN;
// with targets from cmsTargets and a fleet schedule; with alarms restricted by alarmVdns; and with a malformed
// cmsTargets or no targets at all, which it must refuse. Defaults that only a stage setting nothing would show
// are read from serverless.yml's `params.default`.
const DEFAULT_NAMESPACE = 'HuaweiCEC/SkillQueues';

/** The least a stack needs: one target. */
const PLAIN_TARGET = { ccId: '3', vdn: '30', skillIds: '1-5' };

/** The functions' own targets, and a fleet that splits them off from one more VDN with a schedule of its own. */
const CMS_TARGETS = JSON.stringify([
  { ccId: 1, vdn: 170, skillIds: '1-20' },
  { ccId: 1, vdn: 171, skillIds: [1, 2, 3] },
]);
const SPLIT_SCHEDULES = [
  { schedule: { rate: ['rate(1 minute)'] } },
  { schedule: { rate: ['rate(1 minute)'], input: { targets: [{ ccId: 2, vdn: 9, skillIds: '1-5' }] } } },
];

/** serverless.yml's optional CloudFormation parameters, left empty at deploy time. */
const WITHOUT_OPTIONS = {
  SecretKmsKeyArn: '',
  SecurityGroupIds: '',
  SubnetIds: '',
  CorsAllowedOrigins: '',
  AlarmTopicArn: '',
};

let packaged: Template;
/** The packaged stack as configured. */
let fleet: Deployment;
/** The packaged stack deployed without KMS key, VPC, CORS or alarm topic. */
let bare: Deployment;
/** One target (3/30), alarms off: the generator's share. */
let plain: Deployment;
/** ccId/vdn only. */
let single: Deployment;
/** cmsTargets (1/170, 1/171) and a fleet schedule (2/9). */
let split: Deployment;
/** As `split`, with alarmVdns=2/9,1/170. */
let restricted: Deployment;
let malformed: Error | undefined;
let untargeted: Error | undefined;

const stage = (name: string, values: Record<string, unknown>, events?: unknown) => ({
  ...stageParams(values),
  'sls:stage': name,
  ...(events === undefined ? {} : { 'self:functions.0.collector.events': events }),
});

beforeAll(async () => {
  packaged = await packagedTemplate();
  fleet = deploy(packaged);
  bare = deploy(packaged, { parameters: WITHOUT_OPTIONS });
  const splitParams = { cmsTargets: CMS_TARGETS };
  plain = await generatedStack(stage('ci', { ...PLAIN_TARGET, alarmVdns: 'none' }));
  single = await generatedStack(stage('one', { ccId: '1', vdn: '170', skillIds: '1-20' }));
  split = await generatedStack(stage('split', splitParams, SPLIT_SCHEDULES));
  restricted = await generatedStack(
    stage('watch', { ...splitParams, alarmVdns: '2/9,1/170' }, SPLIT_SCHEDULES),
  );
  malformed = await generatorRefusal(
    stage('bad', { cmsTargets: '[{"ccId":1,"vdn":7000,"skillIds":"1-20"}]' }),
  );
  untargeted = await generatorRefusal(stage('none', {}));
});

/** Every function of a deployment: the collector, the query function and each tenant's wallboard. */
const functionsOf = (deployment: Deployment) =>
  resourcesOfType(deployment, 'AWS::Lambda::Function').map(([name]) => name);

/** The wallboard functions of a deployment, one per tenant. */
const wallboardsIn = (deployment: Deployment) =>
  functionsOf(deployment).filter((name) => /^Wallboard\w+LambdaFunction$/.test(name));

function environmentOf(deployment: Deployment, name: string): Record<string, unknown> {
  const environment = resource(deployment, name).Properties.Environment as {
    Variables: Record<string, unknown>;
  };
  return environment.Variables;
}

function statementsOfFunction(deployment: Deployment, name: string): PolicyStatement[] {
  return inlineStatements(resource(deployment, roleOfFunction(deployment, name)));
}

function statementsAllowing(statements: readonly PolicyStatement[], action: string): PolicyStatement[] {
  return statements.filter((statement) => actionsOf(statement).includes(action));
}

interface AlarmMetric {
  readonly namespace: unknown;
  readonly metricName: unknown;
  readonly dimensions: readonly { Name: string; Value: unknown }[];
  readonly stat: unknown;
  readonly period: unknown;
  readonly id: string | undefined;
}

interface MetricStatQuery {
  Id: string;
  MetricStat?: {
    Stat: string;
    Period: number;
    Metric: { Namespace: string; MetricName: string; Dimensions?: { Name: string; Value: unknown }[] };
  };
  Expression?: string;
  ReturnData?: boolean;
}

function metricsOfAlarm(alarm: DeployedResource): AlarmMetric[] {
  const p = alarm.Properties;
  if (p.MetricName !== undefined) {
    return [
      {
        namespace: p.Namespace,
        metricName: p.MetricName,
        dimensions: (p.Dimensions ?? []) as AlarmMetric['dimensions'],
        stat: p.Statistic,
        period: p.Period,
        id: undefined,
      },
    ];
  }
  return ((p.Metrics ?? []) as MetricStatQuery[]).flatMap((query) =>
    query.MetricStat
      ? [
          {
            namespace: query.MetricStat.Metric.Namespace,
            metricName: query.MetricStat.Metric.MetricName,
            dimensions: query.MetricStat.Metric.Dimensions ?? [],
            stat: query.MetricStat.Stat,
            period: query.MetricStat.Period,
            id: query.Id,
          },
        ]
      : [],
  );
}

function alarmExpression(alarm: DeployedResource): string {
  const queries = (alarm.Properties.Metrics ?? []) as MetricStatQuery[];
  const returned = queries.filter((query) => query.ReturnData !== false);
  expect(returned).toHaveLength(1);
  return returned[0]?.Expression ?? '';
}

/** For a counter alarm: which metric each id of its expression reads. */
function idsToMetricNames(alarm: DeployedResource): Record<string, unknown> {
  return Object.fromEntries(metricsOfAlarm(alarm).map((metric) => [metric.id, metric.metricName]));
}

describe('functions', () => {
  it('both functions run the Node.js major their bundles target, on arm64', () => {
    expect(LAMBDA_NODE_MAJOR).toBe(24);
    for (const name of functionsOf(fleet)) {
      expect(resource(fleet, name).Properties).toMatchObject({
        Runtime: `nodejs${LAMBDA_NODE_MAJOR}.x`,
        Architectures: ['arm64'],
      });
    }
  });

  it('both functions get 256 MB by default', () => {
    for (const name of functionsOf(fleet)) expect(resource(fleet, name).Properties.MemorySize).toBe(256);
  });

  it('the collector’s timeout holds a closing wait of a whole schedule period on top of a run’s own 30 s', () => {
    const timeout = Number(resource(fleet, 'CollectorLambdaFunction').Properties.Timeout);
    const reach = Number(environmentOf(fleet, 'CollectorLambdaFunction').CLOSING_READ_REACH_SECONDS);
    expect(timeout).toBeGreaterThanOrEqual(reach + 30);
  });

  it('the collector waits for a closing read only within one period of its one-minute schedule, 3 s before the end', () => {
    expect(environmentOf(fleet, 'CollectorLambdaFunction')).toMatchObject({
      CLOSING_READ_GUARD_SECONDS: '3',
      CLOSING_READ_REACH_SECONDS: '60',
    });
  });

  it('the collector has no reserved-concurrency cap: a run waiting for its closing read never throttles the next', () => {
    expect(
      resource(fleet, 'CollectorLambdaFunction').Properties.ReservedConcurrentExecutions,
    ).toBeUndefined();
  });

  it('the query function times out before API Gateway gives up on it after 30 seconds', () => {
    expect(resource(fleet, 'QueryLambdaFunction').Properties.Timeout).toBeLessThan(30);
  });

  it('the query function stops waiting for CMS before it is itself timed out', () => {
    const query = resource(fleet, 'QueryLambdaFunction').Properties;
    expect(Number(environmentOf(fleet, 'QueryLambdaFunction').QUERY_TIMEOUT_MS)).toBeLessThan(
      Number(query.Timeout) * 1_000,
    );
  });

  it('caps the query containers alive at once, which bounds the CMS calls per cache period', () => {
    expect(resource(fleet, 'QueryLambdaFunction').Properties.ReservedConcurrentExecutions).toBe(5);
    expect(resource(fleet, 'CollectorLambdaFunction').Properties).not.toHaveProperty(
      'ReservedConcurrentExecutions',
    );
  });

  it('function logs are kept 30 days by default and as long as the stage parameter says otherwise', () => {
    expect(serverlessDefault('logRetentionDays')).toBe('30');
    const groups = resourcesOfType(fleet, 'AWS::Logs::LogGroup');
    expect(groups.map(([name]) => name).sort()).toEqual([
      'CollectorLogGroup',
      'QueryLogGroup',
      ...['Acme', 'Cc1Vdn170'].map((tenant) => `Wallboard${tenant}LogGroup`),
    ]);
    for (const [, group] of groups) expect(group.Properties.RetentionInDays).toBe(14);
  });

  it('each function is packaged alone, from its own prebuilt bundle', async () => {
    expect(resource(fleet, 'CollectorLambdaFunction').Properties.Handler).toBe(
      'dist/collector/index.handler',
    );
    expect(resource(fleet, 'QueryLambdaFunction').Properties.Handler).toBe('dist/query/index.handler');
    expect(zipEntryNames(await packagedArtifact('collector'))).toEqual(['dist/collector/index.mjs']);
    expect(zipEntryNames(await packagedArtifact('query'))).toEqual(['dist/query/index.mjs']);
  });

  it('a failed collector run is not retried: the next scheduled run reads the same counters', () => {
    const [, config] = resourcesOfType(fleet, 'AWS::Lambda::EventInvokeConfig')[0] ?? [];
    expect(config?.Properties).toMatchObject({
      FunctionName: 'Ref:CollectorLambdaFunction',
      MaximumRetryAttempts: 0,
    });
  });

  it('every function reads the CMS address and the secret from the stage parameters', () => {
    for (const name of functionsOf(fleet)) {
      expect(environmentOf(fleet, name)).toMatchObject({
        CMS_BASE_URL: 'https://10.0.0.5:28090',
        CMS_SECRET_ID: SECRET_ARN,
      });
    }
  });

  it('the collector and the query function read their targets from the stage parameters', () => {
    for (const name of ['CollectorLambdaFunction', 'QueryLambdaFunction']) {
      expect(environmentOf(fleet, name)).toMatchObject({
        CC_ID: '1',
        VDN: '170',
        SKILL_IDS: '1-20,35',
        CMS_TARGETS: '',
      });
    }
  });

  it('every function signs in the layout of the cmsSignature parameter, auto by default', () => {
    expect(serverlessDefault('cmsSignature')).toBe('auto');
    for (const name of functionsOf(fleet)) {
      expect(environmentOf(fleet, name).CMS_SIGNATURE).toBe('huawei-reference-millis');
    }
  });

  it('every function keeps its refused signatures within the cmsRefusal parameters, 4 per 900 s by default', () => {
    for (const name of functionsOf(fleet)) {
      expect(environmentOf(fleet, name)).toMatchObject({
        CMS_REFUSAL_LIMIT: '4',
        CMS_REFUSAL_PERIOD_SECONDS: '900',
      });
    }
  });

  it('the collector is told the namespace, sink and metric selection; the query function is not', () => {
    expect(environmentOf(fleet, 'CollectorLambdaFunction')).toMatchObject({
      METRIC_NAMESPACE: NAMESPACE,
      METRICS_SINK: 'cloudwatch',
      // Empty: the collector's own default selections.
      SKILL_METRICS: '',
      VDN_METRICS: '',
    });
    expect(serverlessDefault('metricNamespace')).toBe(DEFAULT_NAMESPACE);
    expect(environmentOf(fleet, 'QueryLambdaFunction')).not.toHaveProperty('METRIC_NAMESPACE');
    expect(environmentOf(fleet, 'QueryLambdaFunction')).not.toHaveProperty('METRICS_SINK');
  });

  it('the query function is told its cache lifetime, skill limit and CMS time budget; the collector is not', () => {
    expect(environmentOf(fleet, 'QueryLambdaFunction')).toMatchObject({
      QUERY_CACHE_SECONDS: '5',
      QUERY_MAX_SKILLS: '1000',
      QUERY_TIMEOUT_MS: '20000',
    });
    expect(environmentOf(fleet, 'CollectorLambdaFunction')).not.toHaveProperty('QUERY_CACHE_SECONDS');
  });

  it('a wallboard function is named customWidget…, as the console expects of a custom widget', () => {
    expect(resource(fleet, 'WallboardCc1Vdn170LambdaFunction').Properties).toMatchObject({
      FunctionName: 'customWidget-cms-skill-metrics-prod_cc1-vdn170',
      Handler: 'dist/wallboard/index.handler',
    });
  });

  it('the wallboard reads CMS under the query API’s cache and time budget, and health from the namespace', () => {
    const query = environmentOf(fleet, 'QueryLambdaFunction');
    expect(environmentOf(fleet, 'WallboardCc1Vdn170LambdaFunction')).toMatchObject({
      QUERY_CACHE_SECONDS: query.QUERY_CACHE_SECONDS,
      QUERY_TIMEOUT_MS: query.QUERY_TIMEOUT_MS,
      METRIC_NAMESPACE: NAMESPACE,
      WALLBOARD_THRESHOLDS: '',
      WALLBOARD_MAX_ROWS: '50',
    });
  });

  it('caps the wallboard containers alive at once, which bounds its CMS calls per cache period', () => {
    for (const name of wallboardsIn(fleet))
      expect(resource(fleet, name).Properties.ReservedConcurrentExecutions).toBe(2);
  });

  it('the wallboard is packaged alone, from its own prebuilt bundle', async () => {
    expect(zipEntryNames(await packagedArtifact('wallboardCc1Vdn170'))).toEqual(['dist/wallboard/index.mjs']);
  });

  it('the stack outputs each wallboard’s ARN, for the viewers’ lambda:InvokeFunction permission', () => {
    expect(packaged.Outputs?.WallboardFunctionArnCc1Vdn170).toMatchObject({
      Value: { 'Fn::GetAtt': ['WallboardCc1Vdn170LambdaFunction', 'Arn'] },
    });
  });

  it('CloudFormation refuses a stack whose CMS address or secret ARN was not set', () => {
    for (const [name, stageParameter] of [
      ['CmsBaseUrl', 'cmsBaseUrl'],
      ['CmsSecretArn', 'cmsSecretArn'],
    ] as const) {
      const parameter = packaged.Parameters?.[name];
      expect(serverlessDefault(stageParameter)).toBe('');
      expect(new RegExp(parameter?.AllowedPattern ?? '').test('')).toBe(false);
    }
  });

  it('the configured CMS address and secret ARN satisfy the parameter constraints', () => {
    for (const [name, value] of [
      ['CmsBaseUrl', CONFIGURED_PARAMS.cmsBaseUrl],
      ['CmsSecretArn', SECRET_ARN],
    ] as const) {
      const parameter = packaged.Parameters?.[name];
      expect(parameter?.Default).toBe(value);
      expect(new RegExp(parameter?.AllowedPattern ?? '').test(value)).toBe(true);
    }
  });

  it('a secret named without its 6-character ARN suffix is refused, since IAM could not match it', () => {
    const pattern = new RegExp(packaged.Parameters?.CmsSecretArn?.AllowedPattern ?? '');
    expect(pattern.test('arn:aws:secretsmanager:us-east-1:123456789012:secret:cms/keys')).toBe(false);
  });
});

describe('IAM', () => {
  it('the collector and the query function run with a role each, the wallboards with one of their own', () => {
    for (const deployment of [bare, fleet]) {
      expect(roleOfFunction(deployment, 'CollectorLambdaFunction')).toBe('CollectorRole');
      expect(roleOfFunction(deployment, 'QueryLambdaFunction')).toBe('QueryRole');
      for (const name of wallboardsIn(deployment))
        expect(roleOfFunction(deployment, name)).toBe('WallboardRole');
      expect(
        resourcesOfType(deployment, 'AWS::IAM::Role')
          .map(([name]) => name)
          .sort(),
      ).toEqual(['CollectorRole', 'QueryRole', 'WallboardRole']);
    }
  });

  it('no statement allows a wildcard action or uses NotAction/NotResource', () => {
    for (const deployment of [bare, fleet]) {
      for (const [, role] of resourcesOfType(deployment, 'AWS::IAM::Role')) {
        for (const statement of inlineStatements(role)) {
          expect(statement.Effect).toBe('Allow');
          expect(statement.NotAction).toBeUndefined();
          expect(statement.NotResource).toBeUndefined();
          for (const action of actionsOf(statement)) expect(action).not.toContain('*');
        }
      }
    }
  });

  it('only PutMetricData and GetMetricData, which have no resource-level permissions, are granted on every resource', () => {
    for (const deployment of [bare, fleet]) {
      for (const [, role] of resourcesOfType(deployment, 'AWS::IAM::Role')) {
        for (const statement of inlineStatements(role)) {
          if (resourcesOf(statement).includes('*'))
            expect([['cloudwatch:PutMetricData'], ['cloudwatch:GetMetricData']]).toContainEqual(
              actionsOf(statement),
            );
        }
      }
    }
  });

  it('the wallboard may read metrics, not write them, and may invoke nothing', () => {
    const actions = statementsOfFunction(bare, 'WallboardCc1Vdn170LambdaFunction').flatMap(actionsOf).sort();
    expect(actions).toEqual([
      'cloudwatch:GetMetricData',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      'secretsmanager:GetSecretValue',
    ]);
  });

  it('the collector may put metric data only into its own namespace', () => {
    for (const [deployment, namespace] of [[fleet, NAMESPACE]] as const) {
      const statements = statementsAllowing(
        statementsOfFunction(deployment, 'CollectorLambdaFunction'),
        'cloudwatch:PutMetricData',
      );
      expect(statements).toHaveLength(1);
      expect(statements[0]?.Condition).toEqual({ StringEquals: { 'cloudwatch:namespace': namespace } });
    }
  });

  it('the query function may not put metric data at all', () => {
    const actions = statementsOfFunction(fleet, 'QueryLambdaFunction').flatMap(actionsOf);
    expect(actions.filter((action) => action.startsWith('cloudwatch:'))).toEqual([]);
  });

  it('every function may read the CMS secret, by its ARN and nothing else', () => {
    for (const name of functionsOf(fleet)) {
      const statements = statementsOfFunction(fleet, name).filter((statement) =>
        actionsOf(statement).some((action) => action.startsWith('secretsmanager:')),
      );
      expect(statements).toHaveLength(1);
      expect(actionsOf(statements[0] ?? { Effect: '' })).toEqual(['secretsmanager:GetSecretValue']);
      expect(resourcesOf(statements[0] ?? { Effect: '' })).toEqual([SECRET_ARN]);
    }
  });

  it('each function may write logs only to its own log group (the wallboards to theirs), which the stack creates', () => {
    const wallboardGroups = wallboardsIn(fleet).map(
      (name) => `GetAtt:${name.replace(/LambdaFunction$/, 'LogGroup')}.Arn`,
    );
    expect(wallboardGroups).toHaveLength(2);
    for (const [name, groups] of [
      ['CollectorLambdaFunction', ['GetAtt:CollectorLogGroup.Arn']],
      ['QueryLambdaFunction', ['GetAtt:QueryLogGroup.Arn']],
      ...wallboardsIn(fleet).map((name) => [name, wallboardGroups] as const),
    ] as const) {
      const statements = statementsOfFunction(fleet, name).filter((statement) =>
        actionsOf(statement).some((action) => action.startsWith('logs:')),
      );
      expect(statements.flatMap(actionsOf).sort()).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
      for (const statement of statements) expect(resourcesOf(statement)).toEqual(groups);
      for (const group of groups)
        expect(resource(fleet, group.slice(7, -4)).Type).toBe('AWS::Logs::LogGroup');
    }
  });

  it('a secret under the AWS-managed key needs no KMS permission', () => {
    for (const name of functionsOf(bare)) {
      const actions = statementsOfFunction(bare, name).flatMap(actionsOf);
      expect(actions.filter((action) => action.startsWith('kms:'))).toEqual([]);
    }
  });

  it('a secret under a customer key may be decrypted with that key, and only through Secrets Manager', () => {
    for (const name of functionsOf(fleet)) {
      const statements = statementsAllowing(statementsOfFunction(fleet, name), 'kms:Decrypt');
      expect(statements).toEqual([
        {
          Effect: 'Allow',
          Action: 'kms:Decrypt',
          Resource: KMS_KEY_ARN,
          Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.us-east-1.amazonaws.com' } },
        },
      ]);
    }
  });
});

describe('network', () => {
  it('without VPC settings the functions run outside any VPC and their roles have no managed policy', () => {
    for (const name of functionsOf(bare)) {
      expect(resource(bare, name).Properties).not.toHaveProperty('VpcConfig');
      expect(resource(bare, roleOfFunction(bare, name)).Properties).not.toHaveProperty('ManagedPolicyArns');
    }
  });

  it('with VPC settings every function attaches to the subnets and security groups', () => {
    for (const name of functionsOf(fleet)) {
      expect(resource(fleet, name).Properties.VpcConfig).toEqual({
        SecurityGroupIds: ['sg-0123456789abcdef0'],
        SubnetIds: ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210'],
      });
    }
  });

  it('with VPC settings every role gets the network-interface permissions of the VPC access policy', () => {
    for (const name of functionsOf(fleet)) {
      expect(resource(fleet, roleOfFunction(fleet, name)).Properties.ManagedPolicyArns).toEqual([
        'arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole',
      ]);
    }
  });
});

describe('schedules', () => {
  function schedules(deployment: Deployment) {
    return resourcesOfType(deployment, 'AWS::Events::Rule').map(([, rule]) => {
      const targets = rule.Properties.Targets as { Arn: unknown; Input?: string }[];
      expect(targets).toHaveLength(1);
      return {
        expression: rule.Properties.ScheduleExpression,
        state: rule.Properties.State,
        target: targets[0]?.Arn,
        input: targets[0]?.Input,
      };
    });
  }

  it('by default the collector runs every minute on the targets configured on the function', () => {
    // A stage without a fleet file gets serverless.yml's default schedule, which carries no input of its own.
    const yaml = readFileSync(new URL('../serverless.yml', import.meta.url), 'utf8');
    expect(yaml).toMatch(
      /events: \$\{file\(\$\{param:fleetFile\}\):schedules, self:custom\.defaultSchedules\}/,
    );
    const defaults = /\n {2}defaultSchedules:\n((?: {4}.*\n)+)/.exec(yaml)?.[1] ?? '';
    expect(defaults).toMatch(/^ {4}- schedule:\n {8}rate: \["\$\{param:scheduleRate\}"\]\n/);
    expect(defaults).not.toContain('input');
    expect(serverlessDefault('scheduleRate')).toBe('rate(1 minute)');
    // Packaged, a schedule targets the collector and runs enabled.
    for (const schedule of schedules(fleet)) {
      expect(schedule).toMatchObject({ state: 'ENABLED', target: 'GetAtt:CollectorLambdaFunction.Arn' });
    }
  });

  it('a fleet file gives the collector several schedules, each carrying its own target set', () => {
    const found = schedules(fleet);
    expect(found.map((schedule) => [schedule.expression, schedule.target])).toEqual([
      ['rate(1 minute)', 'GetAtt:CollectorLambdaFunction.Arn'],
      ['rate(1 minute)', 'GetAtt:CollectorLambdaFunction.Arn'],
    ]);
    const targetSets = found.map((schedule) => JSON.parse(schedule.input ?? 'null') as { targets: unknown });
    expect(targetSets.map((input) => parseTargets(input.targets))).toEqual([
      [{ ccId: 1, vdn: 170, skillIds: Array.from({ length: 500 }, (_, index) => index + 1) }],
      [
        {
          ccId: 1,
          vdn: 171,
          skillIds: [...Array.from({ length: 20 }, (_, index) => index + 1), 35],
          tenant: 'acme',
        },
        { ccId: 2, vdn: 9, skillIds: [1, 2, 3], tenant: 'acme' },
      ],
    ]);
  });

  it('EventBridge may invoke the collector for every schedule', () => {
    const rules = resourcesOfType(fleet, 'AWS::Events::Rule').map(([name]) => `GetAtt:${name}.Arn`);
    const permissions = resourcesOfType(fleet, 'AWS::Lambda::Permission')
      .map(([, permission]) => permission.Properties)
      .filter((permission) => permission.Principal === 'events.amazonaws.com');
    expect(permissions.map((permission) => permission.SourceArn).sort()).toEqual(rules.sort());
    for (const permission of permissions) {
      expect(permission).toMatchObject({ Action: 'lambda:InvokeFunction' });
      expect(JSON.stringify(permission.FunctionName)).toContain('CollectorLambdaFunction');
    }
  });

  it('a fleet file may add resources of its own to the stack', () => {
    expect(resource(fleet, 'WallboardTopic').Type).toBe('AWS::SNS::Topic');
  });
});

describe('query API', () => {
  function routes(deployment: Deployment) {
    return resourcesOfType(deployment, 'AWS::ApiGatewayV2::Route').map(([, route]) => route.Properties);
  }

  it("serves GET and POST of one VDN's statistics, the VDN in the path, and nothing else", () => {
    expect(
      routes(bare)
        .map((route) => route.RouteKey)
        .sort(),
    ).toEqual([
      'GET /call-centers/{ccId}/vdns/{vdn}/skills/current-stats',
      'POST /call-centers/{ccId}/vdns/{vdn}/skills/current-stats',
    ]);
  });

  it('declares the routes the query function serves, with the path parameters it reads', () => {
    const keys = routes(bare).map((route) => String(route.RouteKey));
    expect(keys.sort()).toEqual([...STATS_ROUTE_KEYS].sort());
    for (const key of keys) {
      const path = key.split(' ')[1] ?? '';
      expect(path.match(/\{\w+\}/g)).toEqual(['{ccId}', '{vdn}']);
      // Every path parameter of the template is a segment the function validates (see lib/api/route.ts).
      expect(matchRoute({ method: key.split(' ')[0] ?? '', path: statsPath(1, 170) })).toMatchObject({
        ccId: '1',
        vdn: '170',
      });
    }
  });

  it("outputs the invoke ARN of every VDN the query API serves, for callers' policies", () => {
    const queryArns = (deployment: Deployment) =>
      Object.fromEntries(Object.entries(deployment.outputs).filter(([name]) => name.startsWith('QueryArn')));
    const arn = (ccId: number, vdn: number) =>
      `arn:aws:execute-api:us-east-1:123456789012:Ref:HttpApi/$default/*/call-centers/${ccId}/vdns/${vdn}/skills/current-stats`;
    expect(queryArns(single)).toEqual({ QueryArnCc1Vdn170: arn(1, 170) });
    // Only the functions' own targets: the query API does not answer a VDN only a fleet schedule collects.
    expect(queryArns(split)).toEqual({ QueryArnCc1Vdn170: arn(1, 170), QueryArnCc1Vdn171: arn(1, 171) });
  });

  it("grants a policy for one VDN's routes nothing of another VDN's, as IAM matches ARNs", () => {
    const PLACES: Record<string, string> = {
      'AWS::Partition': 'aws',
      'AWS::Region': 'eu-west-1',
      'AWS::AccountId': '123456789012',
      HttpApi: 'a1b2c3',
    };
    const resolved = (ccId: number, vdn: number) =>
      queryArn({ ccId, vdn })['Fn::Sub'].replace(/\$\{([^}]+)\}/g, (_, name: string) => PLACES[name] ?? '');
    const invokeArn = (method: string, ccId: number, vdn: number) =>
      `arn:aws:execute-api:eu-west-1:123456789012:a1b2c3/$default/${method}${statsPath(ccId, vdn)}`;
    const vdnId = fc.record({
      ccId: fc.integer({ min: 1, max: 65_535 }),
      vdn: fc.integer({ min: 1, max: 5_000 }),
    });
    fc.assert(
      fc.property(vdnId, vdnId, fc.constantFrom('GET', 'POST', 'PUT', 'DELETE'), (granted, other, method) => {
        const policy = resolved(granted.ccId, granted.vdn);
        expect(iamArnMatches(policy, invokeArn(method, granted.ccId, granted.vdn))).toBe(true);
        const same = granted.ccId === other.ccId && granted.vdn === other.vdn;
        expect(iamArnMatches(policy, invokeArn(method, other.ccId, other.vdn))).toBe(same);
      }),
    );
    // The two grants the deploy guide shows for VDN 170: each one route, neither the other VDN's.
    const get170 = invokeArn('GET', 1, 170);
    const post170 = invokeArn('POST', 1, 170);
    for (const arn of [invokeArn('GET', 1, 171), invokeArn('POST', 1, 1700), invokeArn('GET', 11, 170)]) {
      expect(iamArnMatches(get170, arn) || iamArnMatches(post170, arn)).toBe(false);
    }
  });

  it('every route requires a SigV4-signed caller (IAM authorization)', () => {
    for (const deployment of [bare, fleet]) {
      for (const route of routes(deployment)) expect(route.AuthorizationType).toBe('AWS_IAM');
    }
  });

  it('the integration speaks payload format 2.0 to the query function', () => {
    const [, integration] = resourcesOfType(bare, 'AWS::ApiGatewayV2::Integration')[0] ?? [];
    expect(integration?.Properties).toMatchObject({
      IntegrationType: 'AWS_PROXY',
      PayloadFormatVersion: '2.0',
    });
    expect(JSON.stringify(integration?.Properties.IntegrationUri)).toContain('QueryLambdaFunction');
  });

  it('CORS is off unless origins are configured', () => {
    expect(resource(bare, 'HttpApi').Properties).not.toHaveProperty('CorsConfiguration');
  });

  it('configured origins may call the API from a browser with SigV4 headers', () => {
    expect(resource(fleet, 'HttpApi').Properties.CorsConfiguration).toMatchObject({
      AllowOrigins: ['https://ops.example.com', 'https://wallboard.example.com'],
      AllowMethods: ['GET', 'POST'],
      AllowHeaders: expect.arrayContaining(['authorization', 'x-amz-date', 'x-amz-security-token']),
    });
  });

  it('the API throttles requests, since every cache miss reaches CMS', () => {
    expect(resource(bare, 'HttpApiStage').Properties.DefaultRouteSettings).toEqual({
      ThrottlingRateLimit: 20,
      ThrottlingBurstLimit: 40,
    });
  });
});

const alarms = (deployment: Deployment) => resourcesOfType(deployment, 'AWS::CloudWatch::Alarm');

const VDN_ALARM_KINDS = [
  'AbandonmentRateAlarm',
  'ClosingReadsMissingAlarm',
  'CollectorDeadAlarm',
  'LongestWaitAlarm',
  'ServiceLevelAlarm',
  'StaleDataAlarm',
];

/** The logical ids of one VDN's alarm set. */
const alarmSet = (ccId: number, vdn: number) => VDN_ALARM_KINDS.map((kind) => `${kind}Cc${ccId}Vdn${vdn}`);

/** The VDN roll-up an alarm watches, as `ccId/vdn`; undefined for an alarm on the stack's own resources. */
function vdnOfAlarm(alarm: DeployedResource): string | undefined {
  const watched = new Set(
    metricsOfAlarm(alarm)
      .filter((metric) => !String(metric.namespace).startsWith('AWS/'))
      .map((metric) => {
        const value = (name: string) => metric.dimensions.find((dimension) => dimension.Name === name)?.Value;
        return `${String(value('CcId'))}/${String(value('Vdn'))}`;
      }),
  );
  expect(watched.size).toBeLessThanOrEqual(1);
  return [...watched][0];
}

/** Logical ids of the VDN alarms, by the VDN they watch. */
function alarmSets(deployment: Deployment): Record<string, string[]> {
  const sets: Record<string, string[]> = {};
  for (const [name, alarm] of alarms(deployment)) {
    const vdn = vdnOfAlarm(alarm);
    if (vdn !== undefined) sets[vdn] = [...(sets[vdn] ?? []), name].sort();
  }
  return sets;
}

/** Every VDN's alarm of one kind. */
const alarmsOfKind = (deployment: Deployment, kind: string): DeployedResource[] =>
  alarms(deployment)
    .filter(([name]) => new RegExp(`^${kind}Cc\\d+Vdn\\d+$`).test(name))
    .map(([, alarm]) => alarm);

describe('alarms for every collected VDN', () => {
  it('with alarmVdns none no VDN has alarms, only the stack-wide ones exist', () => {
    // The generator adds no alarm; serverless.yml's own are the stack-wide ones.
    expect(alarms(plain)).toEqual([]);
    const stackWide = alarms(fleet).filter(([, alarm]) => vdnOfAlarm(alarm) === undefined);
    expect(stackWide.map(([name]) => name).sort()).toEqual(['CollectorErrorsAlarm', 'QueryErrorsAlarm']);
  });

  it('the VDN of ccId/vdn gets one set of six alarms on its roll-up', () => {
    expect(alarmSets(single)).toEqual({ '1/170': alarmSet(1, 170) });
  });

  it('every VDN of cmsTargets and of a fleet schedule’s input gets a set of its own', () => {
    expect(alarmSets(split)).toEqual({
      '1/170': alarmSet(1, 170),
      '1/171': alarmSet(1, 171),
      '2/9': alarmSet(2, 9),
    });
  });

  it('a VDN both configured on the functions and carried by a schedule gets one set, not two', () => {
    expect(alarmSets(fleet)).toEqual({
      '1/170': alarmSet(1, 170),
      '1/171': alarmSet(1, 171),
      '2/9': alarmSet(2, 9),
    });
  });

  it('the collector-errors and query-errors alarms stay single however many VDNs there are', () => {
    // serverless.yml declares them once; the generator, which adds a set per VDN, adds none of them.
    const stackWide = alarms(fleet).filter(([, alarm]) => vdnOfAlarm(alarm) === undefined);
    expect(stackWide.map(([name]) => name).sort()).toEqual(['CollectorErrorsAlarm', 'QueryErrorsAlarm']);
    expect(Object.keys(alarmSets(fleet))).toHaveLength(3);
    for (const deployment of [plain, single, split, restricted]) {
      expect(alarms(deployment).filter(([, alarm]) => vdnOfAlarm(alarm) === undefined)).toEqual([]);
    }
  });

  it('alarm names carry the stage, the call center and the VDN, and no two are alike', () => {
    const named = alarms(split).map(([, alarm]) => [String(alarm.Properties.AlarmName), vdnOfAlarm(alarm)]);
    expect(new Set(named.map(([name]) => name)).size).toBe(named.length);
    for (const [name, vdn] of named.filter(([, vdn]) => vdn !== undefined)) {
      const match = /^cms-skill-metrics-split-cc(\d+)-vdn(\d+)-[a-z-]+$/.exec(name ?? '');
      expect(`${match?.[1]}/${match?.[2]}`).toBe(vdn);
    }
  });

  it('alarmVdns keeps alarms only on the VDNs it names', () => {
    expect(alarmSets(restricted)).toEqual({ '1/170': alarmSet(1, 170), '2/9': alarmSet(2, 9) });
  });

  it('a malformed cmsTargets fails packaging with a message naming cmsTargets and the wrong field', () => {
    expect(malformed?.message).toContain('cmsTargets: [0].vdn must be between 1 and 5000');
  });

  it('a stack without targets fails packaging, naming the parameters to set', () => {
    expect(untargeted?.message).toContain('cmsTargets: is required when ccId, vdn and skillIds are not set');
  });
});

describe('alarms', () => {
  // Windows around the configured minimum volume (25) are drawn as often as any others.
  const callsOffered = fc.oneof(fc.integer({ min: 20, max: 30 }), fc.nat({ max: 100_000 }));

  it('every alarm on a product metric names a metric of the contract, in the namespace, on a VDN roll-up', () => {
    const productMetrics = alarms(fleet)
      .flatMap(([, alarm]) => metricsOfAlarm(alarm))
      .filter((metric) => metric.namespace === NAMESPACE);
    expect(productMetrics.length).toBeGreaterThan(0);
    for (const metric of productMetrics) {
      expect(ALL_METRIC_NAMES).toContain(metric.metricName);
      expect(metric.dimensions.map((dimension) => dimension.Name)).toEqual(['CcId', 'Vdn']);
    }
  });

  it('each alarm of a VDN set reads that VDN’s roll-up and no other', () => {
    for (const [vdn, names] of Object.entries(alarmSets(fleet))) {
      const [ccId, number] = vdn.split('/');
      for (const name of names) {
        expect(name.endsWith(`Cc${ccId}Vdn${number}`)).toBe(true);
        for (const metric of metricsOfAlarm(resource(fleet, name))) {
          expect(metric.dimensions).toEqual([
            { Name: 'CcId', Value: ccId },
            { Name: 'Vdn', Value: number },
          ]);
        }
      }
    }
  });

  it('every other alarm watches this stack’s functions or API', () => {
    const others = alarms(fleet)
      .flatMap(([, alarm]) => metricsOfAlarm(alarm))
      .filter((metric) => metric.namespace !== NAMESPACE);
    for (const metric of others) {
      expect(['AWS/Lambda', 'AWS/ApiGateway']).toContain(metric.namespace);
      for (const dimension of metric.dimensions) {
        expect(['Ref:CollectorLambdaFunction', 'Ref:QueryLambdaFunction', 'Ref:HttpApi']).toContain(
          dimension.Value,
        );
      }
    }
  });

  it('VDN alarms read the window counters with the Maximum statistic over 5-minute periods', () => {
    const rateAlarms = [
      ...alarmsOfKind(fleet, 'AbandonmentRateAlarm'),
      ...alarmsOfKind(fleet, 'ServiceLevelAlarm'),
    ];
    expect(rateAlarms).toHaveLength(6);
    for (const alarm of rateAlarms) {
      for (const metric of metricsOfAlarm(alarm))
        expect([metric.stat, metric.period]).toEqual(['Maximum', 300]);
    }
  });

  it('the abandonment alarm recomputes 100 × abandoned / offered, and stays silent below the minimum volume', () => {
    for (const alarm of alarmsOfKind(fleet, 'AbandonmentRateAlarm')) {
      const expression = alarmExpression(alarm);
      expect(idsToMetricNames(alarm)).toEqual({ offered: 'CallsOffered', abandoned: 'CallsAbandoned' });
      fc.assert(
        fc.property(callsOffered, fc.nat({ max: 100_000 }), (offered, lost) => {
          const abandoned = Math.min(lost, offered);
          const rate = evaluateMetricMath(expression, { offered, abandoned });
          expect(rate).toBe(offered >= 25 ? (100 * abandoned) / offered : undefined);
        }),
      );
      expect(alarm.Properties.ComparisonOperator).toBe('GreaterThanThreshold');
      // Stage parameters from the command line are strings; the stack writes the threshold as a number.
      expect(alarm.Properties.Threshold).toBe(8);
    }
  });

  it('a window with exactly the minimum volume is judged, one call fewer is not', () => {
    const expression = alarmExpression(resource(fleet, 'AbandonmentRateAlarmCc1Vdn170'));
    expect(evaluateMetricMath(expression, { offered: 25, abandoned: 5 })).toBe(20);
    expect(evaluateMetricMath(expression, { offered: 24, abandoned: 24 })).toBe(undefined);
  });

  it('one abandoned call out of one does not trip the abandonment alarm', () => {
    expect(
      evaluateMetricMath(alarmExpression(resource(fleet, 'AbandonmentRateAlarmCc2Vdn9')), {
        offered: 1,
        abandoned: 1,
      }),
    ).toBe(undefined);
  });

  it('the service-level alarm recomputes 100 × answered-in-20-s / offered above the minimum volume', () => {
    for (const alarm of alarmsOfKind(fleet, 'ServiceLevelAlarm')) {
      const expression = alarmExpression(alarm);
      expect(idsToMetricNames(alarm)).toEqual({ offered: 'CallsOffered', answered20s: 'CallsAnsweredIn20s' });
      fc.assert(
        fc.property(callsOffered, fc.nat({ max: 100_000 }), (offered, quick) => {
          const answered20s = Math.min(quick, offered);
          const level = evaluateMetricMath(expression, { offered, answered20s });
          expect(level).toBe(offered >= 25 ? (100 * answered20s) / offered : undefined);
        }),
      );
      expect(alarm.Properties.ComparisonOperator).toBe('LessThanThreshold');
      expect(alarm.Properties.Threshold).toBe(75);
    }
  });

  it('a rate alarm goes off on 2 bad windows out of the last 3 by default', () => {
    for (const kind of ['AbandonmentRateAlarm', 'ServiceLevelAlarm']) {
      for (const alarm of alarmsOfKind(split, kind)) {
        expect(alarm.Properties).toMatchObject({ EvaluationPeriods: 3, DatapointsToAlarm: 2 });
      }
    }
  });

  it('quiet windows leave the rate alarms as they are instead of breaching', () => {
    for (const kind of ['AbandonmentRateAlarm', 'ServiceLevelAlarm']) {
      for (const alarm of alarmsOfKind(fleet, kind)) {
        expect(alarm.Properties.TreatMissingData).toBe('notBreaching');
      }
    }
  });

  it('without timeZone the rate alarms judge complete 5-minute windows on UTC’s clock', () => {
    for (const kind of ['AbandonmentRateAlarm', 'ServiceLevelAlarm']) {
      for (const alarm of alarmsOfKind(split, kind)) {
        expect(alarm.Properties.EvaluationWindow).toEqual({ WallClockWindow: { Timezone: 'UTC' } });
      }
    }
  });

  it('a collector that fails, or stops publishing CollectionSuccess, sets off the collector alarm', () => {
    const found = alarmsOfKind(fleet, 'CollectorDeadAlarm');
    expect(found).toHaveLength(3);
    for (const alarm of found) {
      expect(alarm.Properties).toMatchObject({
        MetricName: 'CollectionSuccess',
        Statistic: 'Minimum',
        Period: 300,
        ComparisonOperator: 'LessThanThreshold',
        Threshold: 1,
        EvaluationPeriods: 2,
        DatapointsToAlarm: 2,
        TreatMissingData: 'breaching',
      });
    }
  });

  it('windows whose last read covered less than 95 %, or that got no closing read, set off the closing-reads alarm', () => {
    const found = alarmsOfKind(fleet, 'ClosingReadsMissingAlarm');
    expect(found).toHaveLength(3);
    for (const alarm of found) {
      expect(alarm.Properties).toMatchObject({
        MetricName: 'WindowCoverage',
        Statistic: 'Maximum',
        Period: 300,
        ComparisonOperator: 'LessThanThreshold',
        Threshold: 95,
        EvaluationPeriods: 3,
        DatapointsToAlarm: 2,
        TreatMissingData: 'breaching',
      });
    }
  });

  it('a caller waiting past longestWaitThresholdSeconds in 3 of 5 minutes sets off the longest-wait alarm', () => {
    const found = alarmsOfKind(fleet, 'LongestWaitAlarm');
    expect(found).toHaveLength(3);
    for (const alarm of found) {
      expect(alarm.Properties).toMatchObject({
        MetricName: 'LongestWaitTime',
        Statistic: 'Maximum',
        Period: 60,
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 120,
        EvaluationPeriods: 5,
        DatapointsToAlarm: 3,
        // A CMS without the live queue publishes nothing: no reason to alarm.
        TreatMissingData: 'notBreaching',
      });
      expect(String(alarm.Properties.AlarmName)).toMatch(/-longest-wait$/);
    }
  });

  it('statistics older than the threshold set off the stale-data alarm', () => {
    const found = alarmsOfKind(fleet, 'StaleDataAlarm');
    expect(found).toHaveLength(3);
    for (const alarm of found) {
      expect(alarm.Properties).toMatchObject({
        MetricName: 'DataAge',
        Statistic: 'Maximum',
        Period: 300,
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 600,
        TreatMissingData: 'notBreaching',
      });
    }
  });

  it('collector crashes set off an alarm whatever VDN the run was reading', () => {
    const [metric] = metricsOfAlarm(resource(fleet, 'CollectorErrorsAlarm'));
    expect(metric).toMatchObject({ namespace: 'AWS/Lambda', metricName: 'Errors', stat: 'Sum' });
    expect(metric?.dimensions).toEqual([{ Name: 'FunctionName', Value: 'Ref:CollectorLambdaFunction' }]);
  });

  it('query errors are counted from the API’s 5xx answers and the query function’s failures', () => {
    const alarm = resource(fleet, 'QueryErrorsAlarm');
    expect(
      metricsOfAlarm(alarm).map((metric) => [
        metric.id,
        metric.namespace,
        metric.metricName,
        metric.dimensions,
      ]),
    ).toEqual([
      ['api5xx', 'AWS/ApiGateway', '5xx', [{ Name: 'ApiId', Value: 'Ref:HttpApi' }]],
      ['lambdaErrors', 'AWS/Lambda', 'Errors', [{ Name: 'FunctionName', Value: 'Ref:QueryLambdaFunction' }]],
    ]);
    // A failing function shows as both a Lambda error and a 5xx: it must count once.
    expect(evaluateMetricMath(alarmExpression(alarm), { api5xx: 3, lambdaErrors: 3 })).toBe(3);
  });

  it('alarms notify the configured SNS topic on ALARM and on OK', () => {
    for (const [, alarm] of alarms(fleet)) {
      expect(alarm.Properties).toMatchObject({ AlarmActions: [TOPIC_ARN], OKActions: [TOPIC_ARN] });
    }
  });

  it('without a topic the alarms notify nobody', () => {
    for (const deployment of [bare, split]) {
      for (const [, alarm] of alarms(deployment)) {
        expect(alarm.Properties).not.toHaveProperty('AlarmActions');
        expect(alarm.Properties).not.toHaveProperty('OKActions');
      }
    }
  });
});

describe('dashboard', () => {
  const widgetsOf = (deployment: Deployment) => {
    const body = resource(deployment, 'Dashboard').Properties.DashboardBody;
    expect(typeof body).toBe('string');
    return readDashboard(String(body));
  };

  it('every graphed metric of the namespace is a metric of the contract', () => {
    for (const [deployment, namespace] of [
      [plain, DEFAULT_NAMESPACE],
      [fleet, NAMESPACE],
    ] as const) {
      const metrics = widgetsOf(deployment).flatMap((widget) => widget.metrics);
      for (const metric of metrics.filter((item) => !item.namespace.startsWith('AWS/'))) {
        expect(metric.namespace).toBe(namespace);
        expect(ALL_METRIC_NAMES).toContain(metric.metricName);
      }
    }
  });

  /** The widgets that graph one VDN's roll-up, by that VDN (`ccId/vdn`). */
  function vdnGraphs(deployment: Deployment): Record<string, string[]> {
    const graphs: Record<string, string[]> = {};
    for (const widget of widgetsOf(deployment)) {
      const vdns = new Set(
        widget.metrics
          .filter((metric) => !metric.namespace.startsWith('AWS/'))
          .map((metric) => `${metric.dimensions.CcId}/${metric.dimensions.Vdn}`),
      );
      expect(vdns.size).toBeLessThanOrEqual(1);
      for (const vdn of vdns) graphs[vdn] = [...(graphs[vdn] ?? []), widget.title];
    }
    return graphs;
  }

  it('every watched VDN gets its calls, KPI, wrap-up, live queue and today graphs, each reading that VDN’s roll-up', () => {
    const graphs = vdnGraphs(fleet);
    expect(Object.keys(graphs).sort()).toEqual(['1/170', '1/171', '2/9']);
    for (const [vdn, titles] of Object.entries(graphs)) {
      const [ccId, number] = vdn.split('/');
      expect(titles).toHaveLength(5);
      for (const title of titles)
        expect(title).toMatch(new RegExp(`^VDN ${number} \\(call center ${ccId}\\): `));
    }
  });

  it('the graphs of a VDN sit on one row, VDN after VDN, above the fleet-wide graphs', () => {
    const widgets = widgetsOf(split);
    const rows = Object.values(vdnGraphs(split)).map((titles) =>
      widgets.filter((widget) => titles.includes(widget.title)).map((widget) => widget.position?.y),
    );
    expect(rows).toEqual([
      [0, 0, 0, 0, 0],
      [6, 6, 6, 6, 6],
      [12, 12, 12, 12, 12],
    ]);
    const fleetWide = widgets.filter((widget) =>
      widget.expressions.some((item) => item.expression.includes('SEARCH')),
    );
    for (const widget of fleetWide) expect(widget.position?.y).toBeGreaterThanOrEqual(18);
  });

  it('a VDN’s live-queue graph shows its calls waiting and longest wait minute by minute, with the alarm’s threshold', () => {
    const widget = widgetsOf(fleet).find(
      (each) => each.title === 'VDN 170 (call center 1): calls waiting and longest wait (s), now',
    );
    expect(widget?.metrics.map((metric) => [metric.metricName, metric.dimensions])).toEqual([
      ['CallsWaiting', { CcId: '1', Vdn: '170' }],
      ['LongestWaitTime', { CcId: '1', Vdn: '170' }],
    ]);
    const raw = (
      JSON.parse(String(resource(fleet, 'Dashboard').Properties.DashboardBody)).widgets as {
        properties: { title?: string; period?: number; stat?: string; annotations?: unknown };
      }[]
    ).find((each) => each.properties.title === widget?.title);
    expect(raw?.properties).toMatchObject({
      period: 60,
      stat: 'Maximum',
      annotations: { horizontal: [{ label: 'Longest-wait alarm', value: 120, yAxis: 'right' }] },
    });
  });

  it('alarmVdns picks the VDNs that get graphs of their own, as it picks those with alarms', () => {
    expect(Object.keys(vdnGraphs(restricted)).sort()).toEqual(['1/170', '2/9']);
  });

  const wallboardsOf = (deployment: Deployment) =>
    readCustomWidgets(String(resource(deployment, 'Dashboard').Properties.DashboardBody));

  it('every watched VDN gets a live wallboard widget backed by its tenant’s wallboard function', () => {
    const widgets = wallboardsOf(fleet);
    expect(widgets.map((widget) => widget.params)).toEqual([
      { ccId: 1, vdn: 170 },
      { ccId: 1, vdn: 171 },
      { ccId: 2, vdn: 9 },
    ]);
    // 1/170 is a tenant of its own; 1/171 and 2/9 are tenant acme's.
    expect(widgets.map((widget) => widget.endpoint)).toEqual([
      'GetAtt:WallboardCc1Vdn170LambdaFunction.Arn',
      'GetAtt:WallboardAcmeLambdaFunction.Arn',
      'GetAtt:WallboardAcmeLambdaFunction.Arn',
    ]);
    for (const widget of widgets) {
      expect(widget.updateOn).toEqual({ refresh: true, resize: false, timeRange: false });
      expect(widget.position?.width).toBe(24);
    }
    expect(wallboardsOf(restricted).map((widget) => widget.params)).toEqual([
      { ccId: 1, vdn: 170 },
      { ccId: 2, vdn: 9 },
    ]);
    expect(wallboardsOf(plain)).toEqual([]);
  });

  it('wallboards sit below the VDN graphs and above the fleet-wide graphs, overlapping nothing', () => {
    for (const deployment of [plain, single, split, fleet, restricted]) {
      expect(layoutProblems([...widgetsOf(deployment), ...wallboardsOf(deployment)])).toEqual([]);
    }
    const wallboardRows = wallboardsOf(split).map((widget) => widget.position?.y ?? -1);
    expect(Math.min(...wallboardRows)).toBeGreaterThanOrEqual(18);
    const fleetWide = widgetsOf(split).filter((widget) =>
      widget.expressions.some((item) => item.expression.includes('SEARCH')),
    );
    for (const widget of fleetWide) expect(widget.position?.y).toBeGreaterThan(Math.max(...wallboardRows));
  });

  it('with alarmVdns none the dashboard holds the fleet-wide graphs only', () => {
    expect(vdnGraphs(plain)).toEqual({});
    expect(widgetsOf(plain).length).toBeGreaterThan(0);
  });

  it('every graph has its own place on the 24-column grid: none overlaps another', () => {
    for (const deployment of [plain, single, split, fleet, restricted]) {
      expect(layoutProblems(widgetsOf(deployment))).toEqual([]);
    }
  });

  it('every SEARCH looks for a metric of the contract in the namespace, per skill or per VDN', () => {
    for (const [deployment, namespace] of [
      [plain, DEFAULT_NAMESPACE],
      [fleet, NAMESPACE],
    ] as const) {
      const searches = widgetsOf(deployment).flatMap((widget) =>
        widget.expressions.flatMap((expression) => searchesIn(expression.expression)),
      );
      expect(searches.length).toBeGreaterThan(0);
      for (const search of searches) {
        expect(search.namespace).toBe(namespace);
        expect(ALL_METRIC_NAMES).toContain(search.metricName);
        expect([
          ['CcId', 'Vdn'],
          ['CcId', 'Vdn', 'SkillId'],
        ]).toContainEqual(search.dimensionNames);
      }
    }
  });

  it('the top-skills graph ranks per-skill abandoned calls', () => {
    const expressions = widgetsOf(plain).flatMap((widget) =>
      widget.expressions.map((item) => item.expression),
    );
    const top = expressions.find((expression) => expression.startsWith('SORT('));
    expect(searchesIn(top ?? '')).toEqual([
      {
        namespace: DEFAULT_NAMESPACE,
        dimensionNames: ['CcId', 'Vdn', 'SkillId'],
        metricName: 'CallsAbandoned',
      },
    ]);
    expect(top).toMatch(/, MAX, DESC, 10\)$/);
    // Idle skills publish nothing: a gap is zero calls, so it ranks as zero rather than dropping out.
    expect(top).toMatch(/^SORT\(FILL\(SEARCH\(.*\), 0\), MAX/);
  });

  it('collector health shows success, CMS latency, data age, missing skills and window coverage', () => {
    const searched = widgetsOf(plain)
      .flatMap((widget) => widget.expressions.flatMap((expression) => searchesIn(expression.expression)))
      .filter((search) => search.dimensionNames.length === 2)
      .map((search) => search.metricName);
    expect(searched).toEqual(
      expect.arrayContaining([
        'CollectionSuccess',
        'CmsLatency',
        'DataAge',
        'SkillsMissing',
        'WindowCoverage',
      ]),
    );
  });

  it('the VDN KPI graphs derive rates from the counters they graph', () => {
    const widgets = widgetsOf(fleet).filter((widget) =>
      widget.expressions.some((item) => !item.expression.includes('SEARCH')),
    );
    expect(widgets.length).toBeGreaterThan(0);
    for (const widget of widgets) {
      const ids = new Set([...widget.metrics, ...widget.expressions].map((item) => item.id));
      for (const { expression } of widget.expressions) {
        for (const id of identifiersIn(expression)) expect(ids).toContain(id);
      }
    }
  });

  it('the graphs of calls and of the live queue draw a quiet VDN’s missing windows as 0', () => {
    const graphs = widgetsOf(fleet).filter((widget) =>
      /calls per 5-minute window|calls waiting and longest wait|All VDNs: calls offered/.test(widget.title),
    );
    // Three VDNs' calls and live-queue graphs, and the fleet's.
    expect(graphs).toHaveLength(7);
    for (const widget of graphs) {
      expect(widget.expressions.length).toBeGreaterThan(0);
      for (const { expression } of widget.expressions) expect(expression).toMatch(/^FILL\(.*, 0\)$/);
    }
  });

  it('the KPI graphs show no rate for a window without calls, never a rate of 0', () => {
    const kpis = widgetsOf(fleet).filter((widget) => widget.title.includes('KPIs'));
    expect(kpis).toHaveLength(3);
    for (const widget of kpis) {
      expect(widget.expressions).toHaveLength(3);
      for (const { expression } of widget.expressions) {
        expect(
          evaluateMetricMath(expression, { offered: 0, answered: 0, abandoned: 0, answered20s: 0 }),
        ).toBe(undefined);
      }
    }
  });

  it('every graph is drawn from the stack’s own region', () => {
    for (const widget of widgetsOf(fleet)) expect(widget.region).toBe('us-east-1');
  });
});

/** A wallboard endpoint for dashboard bodies built outside a stack. */
const WALLBOARD = placeholder('WallboardTestLambdaFunction.Arn');

/**
 * The most VDNs one stack holds with the default schedule, every VDN watched and in one tenant: 19 resources of
 * the stack's own and 2 for its schedule leave 479, at 5 alarms per VDN and 3 resources for the tenant.
 */
const MOST_VDNS_IN_ONE_TENANT = 95;

describe('per-VDN monitoring generator', () => {
  const settings = monitoringSettings(STAGE_SETTINGS);

  it.each([
    ['{"ccId":1', 'cmsTargets: is not valid JSON'],
    ['{"ccId":1,"vdn":170,"skillIds":"1-20"}', 'cmsTargets: must be a JSON array of targets'],
    ['[]', 'cmsTargets: must hold at least one target'],
    [
      '[{"ccId":1,"vdn":170,"skillIds":"20-1"}]',
      'cmsTargets: [0].skillIds must be a skill list like "1-20,35"',
    ],
    ['[{"ccId":1,"vdn":170,"skillIds":[1,0]}]', 'cmsTargets: [0].skillIds[1] must be between 1 and 5000'],
    [
      '[{"ccId":1,"vdn":170,"skillIds":"1","skills":"1"}]',
      'cmsTargets: [0].skills is not a known field (expected ccId, vdn, skillIds, tenant)',
    ],
    [
      '[{"ccId":1,"vdn":9,"skillIds":"1"},{"ccId":1,"vdn":9,"skillIds":"2"}]',
      'cmsTargets: [1] VDN 9 of call center 1 is listed twice',
    ],
  ])('a malformed cmsTargets %s is refused with "%s"', (cmsTargets, message) => {
    expect(() => configuredTargets({ cmsTargets })).toThrow(message);
  });

  it.each([
    [
      { ccId: '1', vdn: '170', skillIds: '1-20', cmsTargets: '[]' },
      'cmsTargets: set either cmsTargets or ccId/vdn/skillIds, not both (ccId, vdn, skillIds also set)',
    ],
    [{ ccId: '1', vdn: '170' }, 'skillIds: is required'],
    [{ vdn: '170', skillIds: '1' }, 'ccId: is required'],
    [{ ccId: '1', vdn: '5001', skillIds: '1' }, 'vdn: must be between 1 and 5000, got 5001'],
    [{ ccId: 'one', vdn: '170', skillIds: '1' }, 'ccId: must be a whole number, got "one"'],
    [{ ccId: '1', vdn: '170', skillIds: '1-' }, 'skillIds: "1-" is neither a skill id nor a range'],
  ])('the single-target parameters %o are refused with "%s"', (params, message) => {
    expect(() => configuredTargets(params)).toThrow(message);
  });

  it('no targets at all is refused, naming the parameters to set', () => {
    expect(() => configuredTargets({})).toThrow(
      'cmsTargets: is required when ccId, vdn and skillIds are not set',
    );
  });

  it('a schedule’s input may be the JSON text EventBridge passes on', () => {
    const input = JSON.stringify({ targets: [{ ccId: 4, vdn: 12, skillIds: '1-3' }] });
    expect(scheduledTargets([{ schedule: { rate: ['rate(1 minute)'], input } }])).toEqual([
      { target: { ccId: 4, vdn: 12, skillIds: [1, 2, 3] }, where: 'collector schedule 1 input.targets[0]' },
    ]);
  });

  it('schedules without targets in their input collect the functions’ targets and add no VDN', () => {
    const events = [
      { schedule: 'rate(1 minute)' },
      { schedule: { rate: ['rate(1 minute)'] } },
      { schedule: { rate: ['rate(1 minute)'], input: { note: 'no targets' } } },
    ];
    expect(scheduledTargets(events)).toEqual([]);
  });

  it('a bad target in a schedule is reported with the schedule’s number and name', () => {
    const events = [
      { schedule: { rate: ['rate(1 minute)'] } },
      { schedule: { name: 'cc1-b', input: { targets: [{ ccId: 1, vdn: 0, skillIds: '1' }] } } },
    ];
    expect(() => scheduledTargets(events)).toThrow(
      'collector schedule 2 (cc1-b) input.targets[0].vdn: must be between 1 and 5000',
    );
  });

  const vdn = fc.record({
    ccId: fc.integer({ min: 1, max: 65_535 }),
    vdn: fc.integer({ min: 1, max: 5_000 }),
  });

  const listed = (vdns: readonly { ccId: number; vdn: number }[]): ListedTarget[] =>
    vdns.map((item, index) => ({ target: { ...item, skillIds: [1] }, where: `cmsTargets[${index}]` }));

  it('the collected VDNs are each VDN once, in the same order whatever order they were listed in', () => {
    fc.assert(
      fc.property(fc.array(vdn, { maxLength: 8 }), fc.array(vdn, { maxLength: 8 }), (first, second) => {
        const collected = collectedTargets(listed(first), listed(second));
        expect(collectedTargets(listed(second.toReversed()), listed(first.toReversed()))).toEqual(collected);
        const keys = collected.map((item) => `${item.ccId}/${item.vdn}`);
        expect(keys).toEqual(
          [...new Set([...first, ...second].map((item) => `${item.ccId}/${item.vdn}`))].sort((a, b) =>
            a.localeCompare(b, 'en', { numeric: true }),
          ),
        );
      }),
    );
  });

  it('every VDN gets alarm ids of letters and digits that no other VDN shares', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(vdn, { selector: (item) => `${item.ccId}/${item.vdn}`, maxLength: 20 }),
        (vdns) => {
          const ids = vdns.flatMap((item) => Object.values(alarmLogicalIds(item)));
          expect(new Set(ids).size).toBe(6 * vdns.length);
          for (const logicalId of ids) expect(logicalId).toMatch(/^[A-Za-z0-9]{1,255}$/);
          expect(Object.keys(buildAlarms(vdns, settings)).sort()).toEqual([...ids].sort());
        },
      ),
    );
  });

  const collected = [
    { ccId: 1, vdn: 170 },
    { ccId: 1, vdn: 171 },
    { ccId: 2, vdn: 9 },
  ];

  it('without alarmVdns every collected VDN is watched; with "none", none is', () => {
    expect(watchedVdns(collected, '')).toEqual(collected);
    expect(watchedVdns(collected, 'none')).toEqual([]);
  });

  it('alarmVdns picks VDNs as call center/VDN pairs, spaces allowed', () => {
    expect(watchedVdns(collected, ' 2/9 , 1/170')).toEqual([
      { ccId: 1, vdn: 170 },
      { ccId: 2, vdn: 9 },
    ]);
  });

  it('alarmVdns may not name a VDN the deployment does not collect, whose alarm would never clear', () => {
    expect(() => watchedVdns(collected, '1/170,3/9')).toThrow(
      'alarmVdns: names 3/9, which this deployment does not collect (it collects: 1/170, 1/171, 2/9)',
    );
  });

  it('alarmVdns refuses an entry that is not a call center/VDN pair', () => {
    expect(() => watchedVdns(collected, '170')).toThrow('alarmVdns: has "170", which is not a call');
  });

  it.each([
    [{ abandonmentRateThreshold: 'ten' }, 'abandonmentRateThreshold: must be a number ≥ 0, got "ten"'],
    [{ kpiAlarmEvaluationPeriods: '0' }, 'kpiAlarmEvaluationPeriods: must be between 1 and 288, got 0'],
    [
      { kpiAlarmDatapointsToAlarm: '4' },
      'kpiAlarmDatapointsToAlarm: must not exceed kpiAlarmEvaluationPeriods (3)',
    ],
    [
      { longestWaitThresholdSeconds: '2 min' },
      'longestWaitThresholdSeconds: must be a number ≥ 0, got "2 min"',
    ],
    [
      { longestWaitAlarmEvaluationPeriods: '1441' },
      'longestWaitAlarmEvaluationPeriods: must be between 1 and 1440, got 1441',
    ],
    [
      { longestWaitAlarmDatapointsToAlarm: '6' },
      'longestWaitAlarmDatapointsToAlarm: must not exceed longestWaitAlarmEvaluationPeriods (5)',
    ],
    [{ metricNamespace: 'AWS/Lambda' }, 'metricNamespace: "AWS/Lambda" is not a valid custom namespace'],
    // A `$` could start a placeholder of the dashboard's Fn::Sub.
    [
      { metricNamespace: 'Contoso$Queues' },
      'metricNamespace: "Contoso$Queues" is not a valid custom namespace',
    ],
  ])('the alarm setting %o is refused with "%s"', (change, message) => {
    expect(() => monitoringSettings({ ...STAGE_SETTINGS, ...change })).toThrow(message);
  });

  it("refuses an unknown signature layout while packaging, with the functions' own rule", () => {
    expect(() => checkFunctionSettings({ cmsSignature: 'sha256' })).toThrow(
      'cmsSignature: must be one of auto, huawei-reference, empty-query-line-millis, huawei-reference-millis, empty-query-line, got "sha256"',
    );
    for (const cmsSignature of ['auto', 'huawei-reference-millis', ''])
      expect(() => checkFunctionSettings({ cmsSignature })).not.toThrow();
  });

  it.each([
    [{ cmsRefusalLimit: '0' }, 'cmsRefusalLimit: must be between 1 and 100, got 0'],
    [{ cmsRefusalPeriodSeconds: '10' }, 'cmsRefusalPeriodSeconds: must be between 60 and 86400, got 10'],
  ])("refuses the refusal budget %o while packaging, with the functions' own rule", (values, message) => {
    expect(() => checkFunctionSettings(values)).toThrow(message);
  });

  it.each([
    [{ windowCoverageThreshold: '101' }, 'windowCoverageThreshold: must be a percentage up to 100, got 101'],
    [
      { timeZone: 'Mars/Olympus' },
      'timeZone: "Mars/Olympus" is not an IANA time zone Node.js knows (e.g. Europe/Madrid, America/New_York or UTC)',
    ],
    [{ timeZone: '+05:30' }, 'timeZone: "+05:30" is not an IANA time zone Node.js knows'],
  ])('the closing-read and time-zone setting %o is refused with "%s"', (change, message) => {
    expect(() => monitoringSettings({ ...STAGE_SETTINGS, ...change })).toThrow(message);
  });

  it('the dashboard keeps every graph in its own place for any number of watched VDNs the stack allows', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MOST_VDNS_IN_ONE_TENANT }), (count) => {
        const vdns = Array.from({ length: count }, (_, index) => ({ ccId: 1, vdn: index + 1 }));
        const body = buildDashboardBody(vdns, settings, () => WALLBOARD)['Fn::Sub'];
        const widgets = readDashboard(body);
        expect(widgets).toHaveLength(5 * count + 9);
        expect(layoutProblems([...widgets, ...readCustomWidgets(body)])).toEqual([]);
      }),
      { numRuns: 20 },
    );
  });

  it('osls gets the alarms of the VDNs of the stage parameters and of the collector’s schedules', async () => {
    const resolver = resolverOf({
      ...stageParams({ ccId: 1, vdn: 170, skillIds: '1-20' }),
      'self:functions.0.collector.events': [
        { schedule: { input: { targets: [{ ccId: 2, vdn: 9, skillIds: [1] }] } } },
      ],
    });
    const { Resources } = await resources(resolver);
    expect(Object.keys(Resources).sort()).toEqual(
      [
        ...Object.values(alarmLogicalIds({ ccId: 1, vdn: 170 })),
        ...Object.values(alarmLogicalIds({ ccId: 2, vdn: 9 })),
        'DashboardCc1Vdn170',
        'DashboardCc2Vdn9',
      ].sort(),
    );
  });

  it('osls gets a dashboard body whose VDN graphs follow the same stage parameters', async () => {
    const body = await dashboardBody(
      resolverOf(stageParams({ cmsTargets: CMS_TARGETS, alarmVdns: '1/171' })),
    );
    const titles = readDashboard(body['Fn::Sub']).map((widget) => widget.title);
    expect(titles.filter((title) => title.startsWith('VDN '))).toEqual([
      'VDN 171 (call center 1): calls per 5-minute window',
      'VDN 171 (call center 1): KPIs of each window, from its counters',
      'VDN 171 (call center 1): average wrap-up time (s)',
      'VDN 171 (call center 1): calls waiting and longest wait (s), now',
      'VDN 171 (call center 1): today so far (since 00:00 UTC)',
    ]);
  });

  it('the closing-read settings are checked as the collector checks them', () => {
    const timing = {
      closingReadGuardSeconds: '3',
      closingReadReachSeconds: '60',
      collectorTimeoutSeconds: '110',
    };
    expect(closingReadTiming(timing)).toEqual({
      guardSeconds: 3,
      reachSeconds: 60,
      timeoutSeconds: 110,
    });
    expect(() => closingReadTiming({ ...timing, closingReadGuardSeconds: '0' })).toThrow(
      'closingReadGuardSeconds: must be between 1 and 60, got 0',
    );
    expect(() => closingReadTiming({ ...timing, closingReadReachSeconds: '1m' })).toThrow(
      'closingReadReachSeconds: must be a whole number, got "1m"',
    );
  });

  it('a collector timeout that cannot hold the closing wait and a run fails packaging, naming the timeout', async () => {
    const resolver = resolverOf(
      stageParams({ ccId: '1', vdn: '170', skillIds: '1', collectorTimeoutSeconds: 50 }),
    );
    await expect(resources(resolver)).rejects.toThrow(
      'collectorTimeoutSeconds: must be at least 90 (closingReadReachSeconds 60 + 30 s for the run itself), got 50',
    );
    const off = resolverOf(
      stageParams({
        ccId: '1',
        vdn: '170',
        skillIds: '1',
        collectorTimeoutSeconds: 50,
        closingReadReachSeconds: '0',
      }),
    );
    await expect(resources(off)).resolves.toHaveProperty('Resources');
  });

  it('a stage still passing the retired alarmCcId/alarmVdn is told to use alarmVdns', async () => {
    const resolver = resolverOf({
      ...stageParams({ ccId: '1', vdn: '170', skillIds: '1' }),
      'param:alarmVdn': '170',
    });
    await expect(resources(resolver)).rejects.toThrow(
      'alarmVdn: is no longer read: every collected VDN gets alarms; choose them with alarmVdns',
    );
  });
});
