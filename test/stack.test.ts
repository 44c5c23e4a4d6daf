import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTargets } from '../lib/config.js';
import { ALL_METRIC_NAMES } from '../lib/model.js';
import {
  actionsOf,
  type DeployedResource,
  type Deployment,
  deploy,
  inlineStatements,
  type PolicyStatement,
  resource,
  resourcesOf,
  resourcesOfType,
  roleOfFunction,
} from './support/stack-cfn.js';
import { identifiersIn, readDashboard, searchesIn } from './support/stack-dashboard.js';
import { evaluateMetricMath } from './support/stack-math.js';
import { type PackagedStack, packageStack, zipEntryNames } from './support/stack-package.js';

// The stack is packaged twice, offline and without AWS credentials: once with nothing but defaults, once
// configured the way a production fleet would be (VPC, customer KMS key, alarm topic, CORS, own namespace,
// a fleet file with several schedules).
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:cms/keys-AbCdEf';
const KMS_KEY_ARN = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:contact-centre-ops';
const NAMESPACE = 'Contoso/ContactCentre';
const DEFAULT_NAMESPACE = 'HuaweiCEC/SkillQueues';

const CONFIGURED_PARAMS = {
  cmsBaseUrl: 'https://10.0.0.5:28090',
  cmsSecretArn: SECRET_ARN,
  secretKmsKeyArn: KMS_KEY_ARN,
  securityGroupIds: 'sg-0123456789abcdef0',
  subnetIds: 'subnet-0123456789abcdef0,subnet-0fedcba9876543210',
  corsAllowedOrigins: 'https://ops.example.com,https://wallboard.example.com',
  alarmTopicArn: TOPIC_ARN,
  ccId: '1',
  vdn: '170',
  skillIds: '1-20,35',
  metricNamespace: NAMESPACE,
  logRetentionDays: '14',
  alarmMinCallsOffered: '25',
  abandonmentRateThreshold: '8',
  serviceLevelThreshold: '75',
};

const FLEET_YAML = `
schedules:
  - schedule:
      name: contact-centre-vdn-170
      rate: [rate(1 minute)]
      input:
        targets:
          - { ccId: 1, vdn: 170, skillIds: '1-500' }
  - schedule:
      name: contact-centre-vdn-171-and-9
      rate: [rate(1 minute)]
      input:
        targets:
          - { ccId: 1, vdn: 171, skillIds: '1-20,35' }
          - { ccId: 2, vdn: 9, skillIds: [1, 2, 3] }
resources:
  Resources:
    WallboardTopic:
      Type: AWS::SNS::Topic
`;

let defaults: PackagedStack;
let configured: PackagedStack;
let plain: Deployment;
let fleet: Deployment;

beforeAll(async () => {
  [defaults, configured] = await Promise.all([
    packageStack({ stage: 'ci' }),
    packageStack({ stage: 'prod', params: CONFIGURED_PARAMS, fleetYaml: FLEET_YAML }),
  ]);
  plain = deploy(defaults.template);
  fleet = deploy(configured.template);
}, 180_000);

afterAll(async () => {
  await Promise.all([defaults?.dispose(), configured?.dispose()]);
});

const FUNCTIONS = ['CollectorLambdaFunction', 'QueryLambdaFunction'] as const;

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
  it('both functions run Node.js 22 on arm64', () => {
    for (const name of FUNCTIONS) {
      expect(resource(plain, name).Properties).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
      });
    }
  });

  it('both functions get 256 MB by default', () => {
    for (const name of FUNCTIONS) expect(resource(plain, name).Properties.MemorySize).toBe(256);
  });

  it('the collector times out before its one-minute schedule comes round again', () => {
    expect(resource(plain, 'CollectorLambdaFunction').Properties.Timeout).toBeLessThan(60);
  });

  it('the query function times out before API Gateway gives up on it after 30 seconds', () => {
    expect(resource(plain, 'QueryLambdaFunction').Properties.Timeout).toBeLessThan(30);
  });

  it('the query function stops waiting for CMS before it is itself timed out', () => {
    const query = resource(plain, 'QueryLambdaFunction').Properties;
    expect(Number(environmentOf(plain, 'QueryLambdaFunction').QUERY_TIMEOUT_MS)).toBeLessThan(
      Number(query.Timeout) * 1_000,
    );
  });

  it('function logs are kept 30 days by default and as long as the stage parameter says otherwise', () => {
    for (const [deployment, days] of [
      [plain, 30],
      [fleet, 14],
    ] as const) {
      const groups = resourcesOfType(deployment, 'AWS::Logs::LogGroup');
      expect(groups.map(([name]) => name).sort()).toEqual(['CollectorLogGroup', 'QueryLogGroup']);
      for (const [, group] of groups) expect(group.Properties.RetentionInDays).toBe(days);
    }
  });

  it('each function is packaged alone, from its own prebuilt bundle', async () => {
    expect(resource(plain, 'CollectorLambdaFunction').Properties.Handler).toBe(
      'dist/collector/index.handler',
    );
    expect(resource(plain, 'QueryLambdaFunction').Properties.Handler).toBe('dist/query/index.handler');
    expect(zipEntryNames(await defaults.artifact('collector'))).toEqual(['dist/collector/index.mjs']);
    expect(zipEntryNames(await defaults.artifact('query'))).toEqual(['dist/query/index.mjs']);
  });

  it('a failed collector run is not retried: the next scheduled run reads the same counters', () => {
    const [, config] = resourcesOfType(plain, 'AWS::Lambda::EventInvokeConfig')[0] ?? [];
    expect(config?.Properties).toMatchObject({
      FunctionName: 'Ref:CollectorLambdaFunction',
      MaximumRetryAttempts: 0,
    });
  });

  it('both functions read the CMS address, the secret and the targets from the stage parameters', () => {
    for (const name of FUNCTIONS) {
      expect(environmentOf(fleet, name)).toMatchObject({
        CMS_BASE_URL: 'https://10.0.0.5:28090',
        CMS_SECRET_ID: SECRET_ARN,
        CC_ID: '1',
        VDN: '170',
        SKILL_IDS: '1-20,35',
        CMS_TARGETS: '',
      });
    }
  });

  it('the collector is told the namespace, sink and metric selection; the query function is not', () => {
    expect(environmentOf(plain, 'CollectorLambdaFunction')).toMatchObject({
      METRIC_NAMESPACE: DEFAULT_NAMESPACE,
      METRICS_SINK: 'cloudwatch',
      SKILL_METRICS: 'all',
      VDN_METRICS: 'all',
    });
    expect(environmentOf(plain, 'QueryLambdaFunction')).not.toHaveProperty('METRIC_NAMESPACE');
    expect(environmentOf(plain, 'QueryLambdaFunction')).not.toHaveProperty('METRICS_SINK');
  });

  it('the query function is told its cache lifetime, skill limit and CMS time budget; the collector is not', () => {
    expect(environmentOf(plain, 'QueryLambdaFunction')).toMatchObject({
      QUERY_CACHE_SECONDS: '5',
      QUERY_MAX_SKILLS: '1000',
      QUERY_TIMEOUT_MS: '20000',
    });
    expect(environmentOf(plain, 'CollectorLambdaFunction')).not.toHaveProperty('QUERY_CACHE_SECONDS');
  });

  it('CloudFormation refuses a stack whose CMS address or secret ARN was not set', () => {
    for (const name of ['CmsBaseUrl', 'CmsSecretArn']) {
      const parameter = defaults.template.Parameters?.[name];
      expect(parameter?.Default).toBe('');
      expect(new RegExp(parameter?.AllowedPattern ?? '').test('')).toBe(false);
    }
  });

  it('the configured CMS address and secret ARN satisfy the parameter constraints', () => {
    for (const [name, value] of [
      ['CmsBaseUrl', CONFIGURED_PARAMS.cmsBaseUrl],
      ['CmsSecretArn', SECRET_ARN],
    ] as const) {
      const parameter = configured.template.Parameters?.[name];
      expect(parameter?.Default).toBe(value);
      expect(new RegExp(parameter?.AllowedPattern ?? '').test(value)).toBe(true);
    }
  });

  it('a secret named without its 6-character ARN suffix is refused, since IAM could not match it', () => {
    const pattern = new RegExp(configured.template.Parameters?.CmsSecretArn?.AllowedPattern ?? '');
    expect(pattern.test('arn:aws:secretsmanager:us-east-1:123456789012:secret:cms/keys')).toBe(false);
  });
});

describe('IAM', () => {
  it('each function runs with a role of its own and no shared role exists', () => {
    for (const deployment of [plain, fleet]) {
      const roles = FUNCTIONS.map((name) => roleOfFunction(deployment, name));
      expect(roles).toEqual(['CollectorRole', 'QueryRole']);
      expect(
        resourcesOfType(deployment, 'AWS::IAM::Role')
          .map(([name]) => name)
          .sort(),
      ).toEqual(roles);
    }
  });

  it('no statement allows a wildcard action or uses NotAction/NotResource', () => {
    for (const deployment of [plain, fleet]) {
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

  it('only PutMetricData, which has no resource-level permissions, is granted on every resource', () => {
    for (const deployment of [plain, fleet]) {
      for (const [, role] of resourcesOfType(deployment, 'AWS::IAM::Role')) {
        for (const statement of inlineStatements(role)) {
          if (resourcesOf(statement).includes('*'))
            expect(actionsOf(statement)).toEqual(['cloudwatch:PutMetricData']);
        }
      }
    }
  });

  it('the collector may put metric data only into its own namespace', () => {
    for (const [deployment, namespace] of [
      [plain, DEFAULT_NAMESPACE],
      [fleet, NAMESPACE],
    ] as const) {
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

  it('both functions may read the CMS secret, by its ARN and nothing else', () => {
    for (const name of FUNCTIONS) {
      const statements = statementsOfFunction(fleet, name).filter((statement) =>
        actionsOf(statement).some((action) => action.startsWith('secretsmanager:')),
      );
      expect(statements).toHaveLength(1);
      expect(actionsOf(statements[0] ?? { Effect: '' })).toEqual(['secretsmanager:GetSecretValue']);
      expect(resourcesOf(statements[0] ?? { Effect: '' })).toEqual([SECRET_ARN]);
    }
  });

  it('each function may write logs only to its own log group, which the stack creates', () => {
    for (const [name, group] of [
      ['CollectorLambdaFunction', 'CollectorLogGroup'],
      ['QueryLambdaFunction', 'QueryLogGroup'],
    ] as const) {
      const statements = statementsOfFunction(fleet, name).filter((statement) =>
        actionsOf(statement).some((action) => action.startsWith('logs:')),
      );
      expect(statements.flatMap(actionsOf).sort()).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
      for (const statement of statements) expect(resourcesOf(statement)).toEqual([`GetAtt:${group}.Arn`]);
    }
  });

  it('a secret under the AWS-managed key needs no KMS permission', () => {
    for (const name of FUNCTIONS) {
      const actions = statementsOfFunction(plain, name).flatMap(actionsOf);
      expect(actions.filter((action) => action.startsWith('kms:'))).toEqual([]);
    }
  });

  it('a secret under a customer key may be decrypted with that key, and only through Secrets Manager', () => {
    for (const name of FUNCTIONS) {
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
    for (const name of FUNCTIONS) {
      expect(resource(plain, name).Properties).not.toHaveProperty('VpcConfig');
      expect(resource(plain, roleOfFunction(plain, name)).Properties).not.toHaveProperty('ManagedPolicyArns');
    }
  });

  it('with VPC settings both functions attach to the subnets and security groups', () => {
    for (const name of FUNCTIONS) {
      expect(resource(fleet, name).Properties.VpcConfig).toEqual({
        SecurityGroupIds: ['sg-0123456789abcdef0'],
        SubnetIds: ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210'],
      });
    }
  });

  it('with VPC settings both roles get the network-interface permissions of the VPC access policy', () => {
    for (const name of FUNCTIONS) {
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
    expect(schedules(plain)).toEqual([
      {
        expression: 'rate(1 minute)',
        state: 'ENABLED',
        target: 'GetAtt:CollectorLambdaFunction.Arn',
        input: undefined,
      },
    ]);
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
        { ccId: 1, vdn: 171, skillIds: [...Array.from({ length: 20 }, (_, index) => index + 1), 35] },
        { ccId: 2, vdn: 9, skillIds: [1, 2, 3] },
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

  it('serves GET and POST /skills/current-stats and nothing else', () => {
    expect(
      routes(plain)
        .map((route) => route.RouteKey)
        .sort(),
    ).toEqual(['GET /skills/current-stats', 'POST /skills/current-stats']);
  });

  it('every route requires a SigV4-signed caller (IAM authorization)', () => {
    for (const deployment of [plain, fleet]) {
      for (const route of routes(deployment)) expect(route.AuthorizationType).toBe('AWS_IAM');
    }
  });

  it('the integration speaks payload format 2.0 to the query function', () => {
    const [, integration] = resourcesOfType(plain, 'AWS::ApiGatewayV2::Integration')[0] ?? [];
    expect(integration?.Properties).toMatchObject({
      IntegrationType: 'AWS_PROXY',
      PayloadFormatVersion: '2.0',
    });
    expect(JSON.stringify(integration?.Properties.IntegrationUri)).toContain('QueryLambdaFunction');
  });

  it('CORS is off unless origins are configured', () => {
    expect(resource(plain, 'HttpApi').Properties).not.toHaveProperty('CorsConfiguration');
  });

  it('configured origins may call the API from a browser with SigV4 headers', () => {
    expect(resource(fleet, 'HttpApi').Properties.CorsConfiguration).toMatchObject({
      AllowOrigins: ['https://ops.example.com', 'https://wallboard.example.com'],
      AllowMethods: ['GET', 'POST'],
      AllowHeaders: expect.arrayContaining(['authorization', 'x-amz-date', 'x-amz-security-token']),
    });
  });

  it('the API throttles requests, since every cache miss reaches CMS', () => {
    expect(resource(plain, 'HttpApiStage').Properties.DefaultRouteSettings).toEqual({
      ThrottlingRateLimit: 20,
      ThrottlingBurstLimit: 40,
    });
  });
});

describe('alarms', () => {
  // Windows around the configured minimum volume (25) are drawn as often as any others.
  const callsOffered = fc.oneof(fc.integer({ min: 20, max: 30 }), fc.nat({ max: 100_000 }));

  const alarms = (deployment: Deployment) => resourcesOfType(deployment, 'AWS::CloudWatch::Alarm');

  it('every alarm on a product metric names a metric of the contract, in the namespace, on the VDN roll-up', () => {
    const productMetrics = alarms(fleet)
      .flatMap(([, alarm]) => metricsOfAlarm(alarm))
      .filter((metric) => metric.namespace === NAMESPACE);
    expect(productMetrics.length).toBeGreaterThan(0);
    for (const metric of productMetrics) {
      expect(ALL_METRIC_NAMES).toContain(metric.metricName);
      expect(metric.dimensions).toEqual([
        { Name: 'CcId', Value: '1' },
        { Name: 'Vdn', Value: '170' },
      ]);
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
    for (const name of ['AbandonmentRateAlarm', 'ServiceLevelAlarm']) {
      for (const metric of metricsOfAlarm(resource(fleet, name))) {
        expect([metric.stat, metric.period]).toEqual(['Maximum', 300]);
      }
    }
  });

  it('the abandonment alarm recomputes 100 × abandoned / offered, and stays silent below the minimum volume', () => {
    const alarm = resource(fleet, 'AbandonmentRateAlarm');
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
    // A stage parameter given on the command line stays a string; CloudFormation reads it as the number.
    expect(Number(alarm.Properties.Threshold)).toBe(8);
  });

  it('a window with exactly the minimum volume is judged, one call fewer is not', () => {
    const expression = alarmExpression(resource(fleet, 'AbandonmentRateAlarm'));
    expect(evaluateMetricMath(expression, { offered: 25, abandoned: 5 })).toBe(20);
    expect(evaluateMetricMath(expression, { offered: 24, abandoned: 24 })).toBe(undefined);
  });

  it('one abandoned call out of one does not trip the abandonment alarm', () => {
    expect(
      evaluateMetricMath(alarmExpression(resource(fleet, 'AbandonmentRateAlarm')), {
        offered: 1,
        abandoned: 1,
      }),
    ).toBe(undefined);
  });

  it('the service-level alarm recomputes 100 × answered-in-20-s / offered above the minimum volume', () => {
    const alarm = resource(fleet, 'ServiceLevelAlarm');
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
    expect(Number(alarm.Properties.Threshold)).toBe(75);
  });

  it('quiet windows leave the rate alarms as they are instead of breaching', () => {
    for (const name of ['AbandonmentRateAlarm', 'ServiceLevelAlarm']) {
      expect(resource(fleet, name).Properties.TreatMissingData).toBe('notBreaching');
    }
  });

  it('a collector that fails, or stops publishing CollectionSuccess, sets off the collector alarm', () => {
    expect(resource(fleet, 'CollectorDeadAlarm').Properties).toMatchObject({
      MetricName: 'CollectionSuccess',
      Statistic: 'Minimum',
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 1,
      TreatMissingData: 'breaching',
    });
  });

  it('statistics older than the threshold set off the stale-data alarm', () => {
    expect(resource(fleet, 'StaleDataAlarm').Properties).toMatchObject({
      MetricName: 'DataAge',
      Statistic: 'Maximum',
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 600,
    });
  });

  it('collector crashes set off an alarm whatever VDN the run was reading', () => {
    const [metric] = metricsOfAlarm(resource(plain, 'CollectorErrorsAlarm'));
    expect(metric).toMatchObject({ namespace: 'AWS/Lambda', metricName: 'Errors', stat: 'Sum' });
    expect(metric?.dimensions).toEqual([{ Name: 'FunctionName', Value: 'Ref:CollectorLambdaFunction' }]);
  });

  it('query errors are counted from the API’s 5xx answers and the query function’s failures', () => {
    const alarm = resource(plain, 'QueryErrorsAlarm');
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

  it('without a configured VDN only the fleet-wide alarms exist', () => {
    expect(
      alarms(plain)
        .map(([name]) => name)
        .sort(),
    ).toEqual(['CollectorErrorsAlarm', 'QueryErrorsAlarm']);
  });

  it('alarms notify the configured SNS topic on ALARM and on OK', () => {
    for (const [, alarm] of alarms(fleet)) {
      expect(alarm.Properties).toMatchObject({ AlarmActions: [TOPIC_ARN], OKActions: [TOPIC_ARN] });
    }
  });

  it('without a topic the alarms notify nobody', () => {
    for (const [, alarm] of alarms(plain)) {
      expect(alarm.Properties).not.toHaveProperty('AlarmActions');
      expect(alarm.Properties).not.toHaveProperty('OKActions');
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

  it('the VDN graphs read the configured VDN roll-up', () => {
    const metrics = widgetsOf(fleet)
      .flatMap((widget) => widget.metrics)
      .filter((metric) => metric.namespace === NAMESPACE);
    expect(metrics.length).toBeGreaterThan(0);
    for (const metric of metrics) expect(metric.dimensions).toEqual({ CcId: '1', Vdn: '170' });
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
  });

  it('collector health shows success, CMS latency, data age and missing skills', () => {
    const searched = widgetsOf(plain)
      .flatMap((widget) => widget.expressions.flatMap((expression) => searchesIn(expression.expression)))
      .filter((search) => search.dimensionNames.length === 2)
      .map((search) => search.metricName);
    expect(searched).toEqual(
      expect.arrayContaining(['CollectionSuccess', 'CmsLatency', 'DataAge', 'SkillsMissing']),
    );
  });

  it('the VDN KPI graphs derive rates from the counters they graph', () => {
    const widgets = widgetsOf(fleet).filter((widget) =>
      widget.expressions.some((item) => !item.expression.includes('SEARCH')),
    );
    expect(widgets.length).toBeGreaterThan(0);
    for (const widget of widgets) {
      const ids = new Set(widget.metrics.map((metric) => metric.id));
      for (const { expression } of widget.expressions) {
        for (const id of identifiersIn(expression)) expect(ids).toContain(id);
      }
    }
  });

  it('the KPI graph shows no rate for a window without calls, never a rate of 0', () => {
    const kpis = widgetsOf(fleet).find((widget) => widget.title.includes('KPIs'));
    for (const { expression } of kpis?.expressions ?? []) {
      expect(evaluateMetricMath(expression, { offered: 0, answered: 0, abandoned: 0, answered20s: 0 })).toBe(
        undefined,
      );
    }
    expect(kpis?.expressions.length).toBe(3);
  });

  it('every graph is drawn from the stack’s own region', () => {
    for (const widget of widgetsOf(fleet)) expect(widget.region).toBe('us-east-1');
  });
});
