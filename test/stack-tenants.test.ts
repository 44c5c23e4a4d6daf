import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadWallboardConfig } from '../lib/lambda/wallboard.js';
import { checkStackSize, environmentBytes, STACK_LIMITS, stackSize } from '../stack/size.js';
import { tenantsOf } from '../stack/tenants.js';
import { dashboardBody, resources, stackSizeOf, wallboardFunctions } from '../stack/vdn-monitoring.js';
import { type Deployment, deploy, iamArnMatches, resource, resourcesOfType } from './support/stack-cfn.js';
import { readCustomWidgets, readDashboard } from './support/stack-dashboard.js';
import { generatedStack, resolverOf, stageParams } from './support/stack-generator.js';
import {
  CONFIGURED_PARAMS,
  FLEET_RESOURCES,
  FLEET_SCHEDULES,
  NAMESPACE,
  packagedTemplate,
  TIME_ZONE,
} from './support/stack-packaged.js';

// Tenants in a stack: who gets which wallboard function and dashboard, in two stacks the generator makes as osls
// calls it: VDNs 170 and 171 without a tenant; and tenant acme with 170 and 171 from cmsTargets and 2/9 from a
// fleet schedule, beside 3/30 without a tenant. The size limits and the refusals are checked on the generator
// too; the size counted is compared with the suite's one packaged stack.

const PAIR_TARGETS = JSON.stringify([
  { ccId: 1, vdn: 170, skillIds: '1-20' },
  { ccId: 1, vdn: 171, skillIds: '1-3' },
]);

const ACME_TARGETS = JSON.stringify([
  { ccId: 1, vdn: 170, skillIds: '1-20', tenant: 'acme' },
  { ccId: 1, vdn: 171, skillIds: '1-3', tenant: 'acme' },
]);
/** The collector's events of the acme stack, as osls hands them to the generator. */
const acmeEvents = () => [
  { schedule: { rate: ['rate(1 minute)'] } },
  {
    schedule: {
      rate: ['rate(1 minute)'],
      input: {
        targets: [
          { ccId: 2, vdn: 9, skillIds: '1-5', tenant: 'acme' },
          { ccId: 3, vdn: 30, skillIds: '7' },
        ],
      },
    },
  },
];

/** serverless.yml's `custom.wallboard.function.environment` with the packaged stack's stage parameters. */
const WALLBOARD_ENVIRONMENT = {
  QUERY_CACHE_SECONDS: 5,
  QUERY_TIMEOUT_MS: 20000,
  METRIC_NAMESPACE: NAMESPACE,
  WALLBOARD_THRESHOLDS: '',
  WALLBOARD_MAX_ROWS: '50',
  TIME_ZONE,
};

let pair: Deployment;
let acme: Deployment;

beforeAll(async () => {
  pair = await generatedStack({ ...stageParams({ cmsTargets: PAIR_TARGETS }), 'sls:stage': 'pair' });
  acme = await generatedStack({
    ...stageParams({ cmsTargets: ACME_TARGETS }),
    'sls:stage': 'prod',
    'self:functions.0.collector.events': acmeEvents(),
  });
});

const wallboardsIn = (deployment: Deployment) =>
  resourcesOfType(deployment, 'AWS::Lambda::Function')
    .map(([name]) => name)
    .filter((name) => /^Wallboard\w+LambdaFunction$/.test(name));

function environmentOf(deployment: Deployment, name: string): Record<string, string> {
  const environment = resource(deployment, name).Properties.Environment as {
    Variables: Record<string, unknown>;
  };
  return Object.fromEntries(
    Object.entries(environment.Variables).map(([key, value]) => [key, String(value)]),
  );
}

/** The VDNs a function is configured with, read by the wallboard's own configuration loader. */
const servedBy = (deployment: Deployment, name: string) =>
  loadWallboardConfig(environmentOf(deployment, name)).targets.map(({ ccId, vdn }) => `${ccId}/${vdn}`);

const dashboards = (deployment: Deployment) =>
  Object.fromEntries(
    resourcesOfType(deployment, 'AWS::CloudWatch::Dashboard').map(([name, dashboard]) => [
      name,
      String(dashboard.Properties.DashboardBody),
    ]),
  );

/** The VDNs a dashboard body shows, as `ccId/vdn`: in its graphs' metrics and in its wallboards' params. */
function vdnsShown(body: string) {
  const graphed = readDashboard(body).flatMap((widget) =>
    widget.metrics
      .filter((metric) => !metric.namespace.startsWith('AWS/'))
      .map((metric) => `${metric.dimensions.CcId}/${metric.dimensions.Vdn}`),
  );
  const walled = readCustomWidgets(body).map((widget) => {
    const { ccId, vdn } = widget.params as { ccId: number; vdn: number };
    return `${ccId}/${vdn}`;
  });
  return { graphed: [...new Set(graphed)].sort(), walled };
}

describe('tenants in a packaged stack', () => {
  it('VDNs 170 and 171 without a tenant get a wallboard function each, configured with its own VDN alone', () => {
    expect(wallboardsIn(pair)).toEqual([
      'WallboardCc1Vdn170LambdaFunction',
      'WallboardCc1Vdn171LambdaFunction',
    ]);
    expect(servedBy(pair, 'WallboardCc1Vdn170LambdaFunction')).toEqual(['1/170']);
    expect(servedBy(pair, 'WallboardCc1Vdn171LambdaFunction')).toEqual(['1/171']);
    expect(resource(pair, 'WallboardCc1Vdn171LambdaFunction').Properties.FunctionName).toBe(
      'customWidget-cms-skill-metrics-pair_cc1-vdn171',
    );
  });

  it('the wallboard widgets of each VDN point at its own function, on the stack’s dashboard and its tenant’s', () => {
    const bodies = dashboards(pair);
    expect(Object.keys(bodies).sort()).toEqual(['Dashboard', 'DashboardCc1Vdn170', 'DashboardCc1Vdn171']);
    const endpoints = Object.values(bodies).flatMap((body) =>
      readCustomWidgets(body).map((widget) => {
        const { ccId, vdn } = widget.params as { ccId: number; vdn: number };
        return [`${ccId}/${vdn}`, widget.endpoint];
      }),
    );
    expect(endpoints.sort()).toEqual([
      ['1/170', 'GetAtt:WallboardCc1Vdn170LambdaFunction.Arn'],
      ['1/170', 'GetAtt:WallboardCc1Vdn170LambdaFunction.Arn'],
      ['1/171', 'GetAtt:WallboardCc1Vdn171LambdaFunction.Arn'],
      ['1/171', 'GetAtt:WallboardCc1Vdn171LambdaFunction.Arn'],
    ]);
  });

  it('a tenant’s dashboard shows its own VDNs’ graphs and wallboards and nothing of another VDN', () => {
    const shown = Object.fromEntries(
      Object.entries({ ...dashboards(pair), ...dashboards(acme) })
        .filter(([name]) => name !== 'Dashboard')
        .map(([name, body]) => [name, vdnsShown(body)]),
    );
    expect(shown).toEqual({
      DashboardCc1Vdn170: { graphed: ['1/170'], walled: ['1/170'] },
      DashboardCc1Vdn171: { graphed: ['1/171'], walled: ['1/171'] },
      DashboardAcme: { graphed: ['1/170', '1/171', '2/9'], walled: ['1/170', '1/171', '2/9'] },
      DashboardCc3Vdn30: { graphed: ['3/30'], walled: ['3/30'] },
    });
    // The fleet-wide graphs (SEARCH over every VDN) stay on the stack's dashboard.
    for (const [name, body] of Object.entries({ ...dashboards(pair), ...dashboards(acme) })) {
      expect(body.includes('SEARCH(')).toBe(name === 'Dashboard');
    }
  });

  it('the tenant’s dashboards are named after the stage and the tenant', () => {
    expect(resource(acme, 'DashboardAcme').Properties.DashboardName).toBe('cms-skill-metrics-prod_acme');
    expect(resource(acme, 'Dashboard').Properties.DashboardName).toBe('cms-skill-metrics-prod');
  });

  it('VDNs under one tenant share one function, whether cmsTargets or a fleet schedule lists them', () => {
    expect(wallboardsIn(acme)).toEqual(['WallboardAcmeLambdaFunction', 'WallboardCc3Vdn30LambdaFunction']);
    expect(servedBy(acme, 'WallboardAcmeLambdaFunction')).toEqual(['1/170', '1/171', '2/9']);
    expect(servedBy(acme, 'WallboardCc3Vdn30LambdaFunction')).toEqual(['3/30']);
    for (const name of wallboardsIn(acme)) {
      expect(environmentOf(acme, name)).toMatchObject({ CC_ID: '', VDN: '', SKILL_IDS: '' });
    }
    // The tenant's own skills of each VDN, from wherever the VDN is listed.
    expect(JSON.parse(environmentOf(acme, 'WallboardAcmeLambdaFunction').CMS_TARGETS ?? '')).toEqual([
      { ccId: 1, vdn: 170, skillIds: '1-20' },
      { ccId: 1, vdn: 171, skillIds: '1-3' },
      { ccId: 2, vdn: 9, skillIds: '1-5' },
    ]);
  });

  it('outputs name each tenant’s wallboard function and dashboard', () => {
    const tenantOutputs = Object.fromEntries(
      Object.entries(acme.outputs).filter(([name]) => /^(WallboardFunctionArn|DashboardArn)/.test(name)),
    );
    expect(tenantOutputs).toEqual({
      WallboardFunctionArnAcme: 'GetAtt:WallboardAcmeLambdaFunction.Arn',
      DashboardArnAcme: 'arn:aws:cloudwatch::123456789012:dashboard/Ref:DashboardAcme',
      WallboardFunctionArnCc3Vdn30: 'GetAtt:WallboardCc3Vdn30LambdaFunction.Arn',
      DashboardArnCc3Vdn30: 'arn:aws:cloudwatch::123456789012:dashboard/Ref:DashboardCc3Vdn30',
    });
  });
});

describe('the generator’s stacks, beside the packaged one', () => {
  it('are what osls packages for the same configuration: alarms, tenants’ dashboards and functions, outputs', async () => {
    const packaged = deploy(await packagedTemplate());
    const generated = await generatedStack({
      ...stageParams(CONFIGURED_PARAMS),
      'sls:stage': 'prod',
      'param:fleetFile': 'fleet.yml',
      'file(fleet.yml):resources': FLEET_RESOURCES,
      'self:functions.0.collector.events': FLEET_SCHEDULES,
    });
    expect(wallboardsIn(packaged)).toEqual([
      'WallboardAcmeLambdaFunction',
      'WallboardCc1Vdn170LambdaFunction',
    ]);
    for (const [name, { Type, Properties }] of Object.entries(generated.resources)) {
      const shipped = resource(packaged, name);
      expect(shipped.Type).toBe(Type);
      if (Type === 'AWS::Lambda::Function') {
        for (const property of ['FunctionName', 'Handler', 'Runtime', 'Role', 'Environment'])
          expect(shipped.Properties[property]).toEqual(Properties[property]);
      } else {
        expect(shipped.Properties).toEqual(Properties);
      }
    }
    expect(packaged.outputs).toMatchObject(generated.outputs);
  });
});

// --- the deploy guide ------------------------------------------------------------------------------------------

/** The fenced code blocks of one `###` section of docs/deploy.md. */
function guideSection(heading: string) {
  const guide = readFileSync(new URL('../docs/deploy.md', import.meta.url), 'utf8');
  const start = guide.indexOf(`\n### ${heading}\n`);
  expect(start).toBeGreaterThan(0);
  const end = guide.slice(start + 1).search(/\n#{2,3} /);
  const text = guide.slice(start, end < 0 ? undefined : start + 1 + end);
  const blocks = [...text.matchAll(/```(\w*)\n([\s\S]*?)```/g)].map((match) => ({
    language: match[1],
    code: match[2] ?? '',
  }));
  return { text, blocks };
}

interface Statement {
  readonly Effect: string;
  readonly Action: string;
  readonly Resource: string;
}

describe('the deploy guide’s tenant section', () => {
  const section = guideSection('Tenants');
  const policy = JSON.parse(section.blocks.find((block) => block.language === 'json')?.code ?? '{}') as {
    Statement: Statement[];
  };
  /** `arn:aws:lambda:<region>:<account>:function:<name>` of a deployed function, in the guide's region and account. */
  const functionArn = (name: string) =>
    `arn:aws:lambda:eu-west-1:123456789012:function:${String(resource(acme, name).Properties.FunctionName)}`;
  const dashboardArn = (name: string) =>
    `arn:aws:cloudwatch::123456789012:dashboard/${String(resource(acme, name).Properties.DashboardName)}`;

  it('grants tenant acme its wallboard function and its dashboard, as the stack creates them', () => {
    expect(policy.Statement.map(({ Effect, Action, Resource }) => [Effect, Action, Resource])).toEqual([
      ['Allow', 'lambda:InvokeFunction', functionArn('WallboardAcmeLambdaFunction')],
      ['Allow', 'cloudwatch:GetDashboard', dashboardArn('DashboardAcme')],
    ]);
  });

  it('names ARNs that are the values of the outputs it names', () => {
    const named = [...section.text.matchAll(/`((?:WallboardFunctionArn|DashboardArn)[A-Z]\w*)`/g)].map(
      (match) => match[1] ?? '',
    );
    expect(named).toEqual(expect.arrayContaining(['WallboardFunctionArnAcme']));
    for (const name of named.filter((output) => output.endsWith('Acme'))) {
      // A deployed output, with the functions' and dashboards' names written in as CloudFormation would.
      const value = String(acme.outputs[name])
        .replace(/^GetAtt:(\w+)\.Arn$/, (_, id: string) => functionArn(id))
        .replace(/Ref:(Dashboard\w+)$/, (_, id: string) =>
          String(resource(acme, id).Properties.DashboardName),
        );
      expect(policy.Statement.map((statement) => statement.Resource)).toContain(
        value.replace(':us-east-1:', ':eu-west-1:'),
      );
    }
  });

  it('grants nothing of the other tenant in the stack, nor of the stack’s own dashboard', () => {
    const others = [
      functionArn('WallboardCc3Vdn30LambdaFunction'),
      dashboardArn('DashboardCc3Vdn30'),
      dashboardArn('Dashboard'),
    ];
    for (const statement of policy.Statement) {
      for (const arn of others) expect(iamArnMatches(statement.Resource, arn)).toBe(false);
    }
  });

  it('says that metric reads are not resource-scoped and names one account per tenant as the way out', () => {
    expect(section.text).toContain('`cloudwatch:GetMetricData`, which has no\nresource-level permissions');
    expect(section.text).toContain('**one AWS account per tenant**');
  });
});

describe('the deploy guide’s signature layout section', () => {
  it('says the refused-signature bound holds per process and what it comes to at worst', () => {
    const { text } = guideSection('Refused signatures');
    expect(text).toContain('**The bound is per process.**');
    expect(text).toMatch(/bound times the containers\s+alive at once/);
    expect(text).toContain('`queryReservedConcurrency`');
    expect(text).toContain('`wallboardReservedConcurrency` each');
  });
});

// --- refusals and limits, on the generator -------------------------------------------------------------------

/** `count` VDNs of call center 1, from VDN 1 up, each in `tenant` or (undefined) a tenant of its own. */
const manyTargets = (count: number, tenant?: string) =>
  JSON.stringify(
    Array.from({ length: count }, (_, index) => ({
      ccId: 1,
      vdn: index + 1,
      skillIds: '1-20',
      ...(tenant ? { tenant } : {}),
    })),
  );

const generated = (params: Record<string, unknown>, more: Record<string, unknown> = {}) => {
  const resolver = resolverOf({ ...stageParams(params), ...more });
  return Promise.all([resources(resolver), dashboardBody(resolver), wallboardFunctions(resolver)]);
};

describe('the size of one stack', () => {
  const within = {
    schedules: 1,
    fleetResources: 0,
    generatedResources: 0,
    tenants: 1,
    generatedOutputs: 2,
    generatedBytes: 0,
    dashboardWidgets: 0,
  };
  const fixed = stackSize(within);

  it.each([
    [
      'resources',
      { generatedResources: STACK_LIMITS.resources - fixed.resources },
      'CloudFormation resources',
    ],
    ['outputs', { generatedOutputs: 2 + STACK_LIMITS.outputs - fixed.outputs }, 'outputs'],
    ['template bytes', { generatedBytes: STACK_LIMITS.templateBytes - fixed.templateBytes }, 'KB'],
    ['dashboard widgets', { dashboardWidgets: STACK_LIMITS.dashboardWidgets }, 'widgets on one dashboard'],
  ] as const)('holds up to the limit of its %s and refuses one more', (_, atLimit, words) => {
    expect(() => checkStackSize({ ...within, ...atLimit })).not.toThrow();
    const [[field, value]] = Object.entries(atLimit) as [[keyof typeof within, number]];
    expect(() => checkStackSize({ ...within, [field]: value + 1 })).toThrow(words);
  });

  it('refuses a fleet too large for one stack while packaging, naming the limit and the way out', async () => {
    for (const cmsTargets of [manyTargets(60), manyTargets(110, 'acme')]) {
      const refusal = generated({ cmsTargets });
      await expect(refusal).rejects.toThrow(/^cmsTargets: (makes|puts) .* more than the /);
      await expect(refusal).rejects.toThrow(
        /another stage \(with its own targets, or its fleet schedules in a second stack\)$/,
      );
    }
  });

  it('counts 6 resources per VDN with alarms, 3 per tenant and 2 per schedule, and the fleet file’s own', async () => {
    const size = async (
      count: number,
      more: Record<string, unknown> = {},
      params: Record<string, unknown> = {},
    ) =>
      (
        await stackSizeOf(
          resolverOf({ ...stageParams({ cmsTargets: manyTargets(count), ...params }), ...more }),
        )
      ).resources;
    const base = await size(1);
    expect(await size(2)).toBe(base + 9);
    expect(await size(2, {}, { alarmVdns: '1/1' })).toBe(base + 3);
    const fleet = {
      'self:functions.0.collector.events': Array.from({ length: 10 }, () => ({
        schedule: { rate: ['rate(1 minute)'] },
      })),
      'param:fleetFile': './fleet.yml',
      'file(./fleet.yml):resources': { Resources: { Topic: {}, Queue: {} } },
    };
    expect(await size(1, fleet)).toBe(base + 9 * 2 + 2);
  });

  it('counts outputs: a query ARN per VDN of the functions’ targets, two per tenant', async () => {
    const outputs = async (cmsTargets: string) =>
      (await stackSizeOf(resolverOf(stageParams({ cmsTargets, alarmVdns: 'none' })))).outputs;
    expect((await outputs(manyTargets(3))) - (await outputs(manyTargets(2)))).toBe(3);
    expect((await outputs(manyTargets(3, 'acme'))) - (await outputs(manyTargets(2, 'acme')))).toBe(1);
  });

  it('counts the resources and outputs of a packaged stack, and never a template smaller than osls writes', async () => {
    const template = await packagedTemplate();
    const counted = await stackSizeOf(
      resolverOf({
        ...stageParams(CONFIGURED_PARAMS),
        'sls:stage': 'prod',
        'param:fleetFile': 'fleet.yml',
        'file(fleet.yml):resources': FLEET_RESOURCES,
        'self:functions.0.collector.events': FLEET_SCHEDULES,
        'self:custom.wallboard': { function: { environment: WALLBOARD_ENVIRONMENT }, resource: {} },
      }),
    );
    const written = Buffer.byteLength(JSON.stringify(template));
    expect(counted.resources).toBe(Object.keys(template.Resources).length);
    expect(counted.outputs).toBe(Object.keys(template.Outputs ?? {}).length);
    expect(counted.templateBytes).toBeGreaterThanOrEqual(written);
    expect(counted.templateBytes).toBeLessThan(written * 1.02 + 1_000);
  });
});

describe('a function’s environment', () => {
  /** `count` VDNs whose skill lists cannot be written as ranges: every other skill of the first 40. */
  const scattered = (count: number, tenant?: string) =>
    JSON.stringify(
      Array.from({ length: count }, (_, index) => ({
        ccId: 1,
        vdn: index + 1,
        skillIds: Array.from({ length: 20 }, (_, skill) => 2 * skill + 1).join(','),
        ...(tenant === undefined ? {} : { tenant }),
      })),
    );

  it('is counted as Lambda counts it, a parameter reference as the parameter’s value', () => {
    const variables = { CMS_BASE_URL: { Ref: 'CmsBaseUrl' }, QUERY_CACHE_SECONDS: 5, VDN: '' };
    const values: Record<string, string> = { CmsBaseUrl: 'https://10.0.0.5:28443' };
    expect(environmentBytes(variables, (name) => values[name] ?? '')).toBe(
      'CMS_BASE_URL'.length + 22 + 'QUERY_CACHE_SECONDS'.length + 1 + 'VDN'.length,
    );
  });

  it('of a tenant’s wallboard beyond Lambda’s 4 KB is refused while packaging, naming the tenant', async () => {
    await expect(generated({ cmsTargets: scattered(40, 'acme'), alarmVdns: 'none' })).resolves.toHaveLength(
      3,
    );
    await expect(generated({ cmsTargets: scattered(60, 'acme'), alarmVdns: 'none' })).rejects.toThrow(
      /^cmsTargets: gives the wallboard function of tenant "acme" an environment of \d+ bytes, more than the 4 KB Lambda allows/,
    );
  });

  it('of the collector beyond Lambda’s 4 KB is refused while packaging, pointing at fleet schedules', async () => {
    const cmsTargets = scattered(60);
    const refusal = generated(
      { cmsTargets, alarmVdns: 'none' },
      { 'self:provider.environment': { CMS_TARGETS: cmsTargets, CMS_BASE_URL: { Ref: 'CmsBaseUrl' } } },
    );
    await expect(refusal).rejects.toThrow(/^cmsTargets: gives the collector an environment of \d+ bytes/);
    await expect(refusal).rejects.toThrow(/move targets into fleet schedules/);
  });
});

describe('tenants refused while packaging', () => {
  const tenantOfTarget = (vdn: number, tenant?: string) => ({
    ccId: 1,
    vdn,
    skillIds: '1',
    ...(tenant === undefined ? {} : { tenant }),
  });

  it('a VDN in two tenants, whichever lists name them', async () => {
    const events = [{ schedule: { name: 'beta', input: { targets: [tenantOfTarget(170, 'beta')] } } }];
    await expect(
      generated(
        { cmsTargets: JSON.stringify([tenantOfTarget(170, 'acme')]) },
        { 'self:functions.0.collector.events': events },
      ),
    ).rejects.toThrow(
      'collector schedule 1 (beta) input.targets[0]: puts VDN 170 of call center 1 in tenant "beta", ' +
        'cmsTargets[0] in tenant "acme": a VDN belongs to one tenant',
    );
  });

  it('a VDN named with a tenant in one place and without in another', async () => {
    const events = [{ schedule: { input: { targets: [tenantOfTarget(170)] } } }];
    await expect(
      generated(
        { cmsTargets: JSON.stringify([tenantOfTarget(170, 'acme')]) },
        { 'self:functions.0.collector.events': events },
      ),
    ).rejects.toThrow('puts VDN 170 of call center 1 in no tenant, cmsTargets[0] in tenant "acme"');
  });

  it('two tenants whose names differ only by hyphens, since they would share logical ids', () => {
    const targets = [
      { ccId: 1, vdn: 1, skillIds: [1], tenant: 'a-1' },
      { ccId: 1, vdn: 2, skillIds: [1], tenant: 'a1' },
    ];
    expect(() => tenantsOf(targets, { service: 'cms-skill-metrics', stage: 'prod' })).toThrow(
      'cmsTargets: names tenants "a-1" and "a1", which differ only by hyphens',
    );
  });

  it('a tenant whose wallboard function name would be longer than Lambda allows', () => {
    const targets = [{ ccId: 1, vdn: 1, skillIds: [1], tenant: 'a-very-long-tenant-x' }];
    expect(() => tenantsOf(targets, { service: 'cms-skill-metrics', stage: 'production-eu' })).toThrow(
      'cmsTargets: gives tenant "a-very-long-tenant-x" the wallboard function ' +
        'customWidget-cms-skill-metrics-production-eu_a-very-long-tenant-x, 65 characters where Lambda allows 64',
    );
    expect(() => tenantsOf(targets, { service: 'cms-skill-metrics', stage: 'production' })).not.toThrow();
  });

  it('every VDN keeps its tenant’s wallboard and dashboard when alarmVdns leaves it without alarms', async () => {
    const [{ Resources }, , functions] = await generated({ cmsTargets: PAIR_TARGETS, alarmVdns: '1/170' });
    expect(Object.keys(functions)).toEqual(['wallboardCc1Vdn170', 'wallboardCc1Vdn171']);
    expect(Resources).toHaveProperty('DashboardCc1Vdn171');
    expect(Resources).not.toHaveProperty('AbandonmentRateAlarmCc1Vdn171');
  });
});
