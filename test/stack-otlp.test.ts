import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../lib/errors.js';
import { buildOtlpPolicy, otlpStageSettings } from '../stack/otlp.js';
import { type Deployment, deploy, resource, resourcesOfType } from './support/stack-cfn.js';
import { generatedStack, stageParams } from './support/stack-generator.js';
import { CLOUDWATCH_OTLP, packagedTemplate } from './support/stack-packaged.js';

// The OpenTelemetry export in the stack: its three stage parameters reach the collector, and a SigV4-signed export
// to CloudWatch gets the one permission it needs, on the collector's role only. The suite's packaged stack exports
// to CloudWatch's OTLP endpoint; an export to a sidecar is checked on the stack generator.

const TARGET = { ccId: '1', vdn: '170', skillIds: '1-20', alarmVdns: 'none' };

let cloudWatch: Deployment;
let sidecar: Deployment;

beforeAll(async () => {
  cloudWatch = deploy(await packagedTemplate());
  sidecar = await generatedStack(stageParams({ ...TARGET, otlpEndpoint: 'http://127.0.0.1:4318' }));
});

const variables = (deployment: Deployment, name: string) =>
  (resource(deployment, name).Properties.Environment as { Variables: Record<string, unknown> }).Variables;

describe('OTLP export in the stack', () => {
  it('hands the endpoint, authentication and datapoints to the collector, and to no other function', () => {
    expect(variables(cloudWatch, 'CollectorLambdaFunction')).toMatchObject({
      OTLP_ENDPOINT: CLOUDWATCH_OTLP,
      OTLP_AUTH: '',
      OTLP_DATAPOINTS: '',
    });
    for (const name of ['QueryLambdaFunction', 'WallboardCc1Vdn170LambdaFunction'])
      expect(variables(cloudWatch, name).OTLP_ENDPOINT).toBeUndefined();
  });

  it("lets the collector's role, and only it, put metric data through CloudWatch's OTLP endpoint", () => {
    const policies = resourcesOfType(cloudWatch, 'AWS::IAM::Policy');
    expect(policies.map(([name]) => name)).toEqual(['CollectorOtlpPolicy']);
    const properties = policies[0]?.[1].Properties;
    expect(properties?.Roles).toEqual(['Ref:CollectorRole']);
    expect(properties?.PolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'cloudwatch:PutMetricData', Resource: '*' }],
    });
  });

  it('adds no permission for an endpoint that is not signed with the role', () => {
    expect(resourcesOfType(sidecar, 'AWS::IAM::Policy')).toEqual([]);
  });

  it('adds nothing when the export is off', () => {
    expect(buildOtlpPolicy(otlpStageSettings({ otlpEndpoint: '', otlpAuth: '' }))).toEqual({});
  });

  it('refuses while packaging what the collector would refuse at cold start, naming the stage parameter', () => {
    const refusal = (values: Record<string, string>) => {
      try {
        otlpStageSettings(values);
      } catch (error) {
        return error;
      }
      return undefined;
    };
    const plainHttp = refusal({ otlpEndpoint: 'http://10.0.0.9:4318', otlpAuth: '' });
    expect(plainHttp).toBeInstanceOf(ConfigError);
    expect((plainHttp as ConfigError).variable).toBe('otlpEndpoint');
    expect((refusal({ otlpEndpoint: CLOUDWATCH_OTLP, otlpAuth: 'token' }) as ConfigError).variable).toBe(
      'otlpAuth',
    );
    const datapoints = refusal({ otlpEndpoint: CLOUDWATCH_OTLP, otlpDatapoints: 'sometimes' }) as ConfigError;
    expect(datapoints.variable).toBe('otlpDatapoints');
    expect(datapoints.message).toBe(
      'otlpDatapoints: must be one of window-totals, every-read, got "sometimes"',
    );
  });
});
