/**
 * The one stack the suite packages with osls (test/support/stack-global-setup.ts packages it before any test file
 * runs): a production-like configuration that switches on everything serverless.yml can switch on (a fleet file
 * with schedules and resources of its own, a tenant, VPC, KMS key, alarm topic, CORS, own namespace, a time zone,
 * an OTLP export to CloudWatch), so that what
 * only a real packaging shows (functions, roles, the API, artifacts, outputs, conditions) is read from one
 * template. Every other configuration is checked on the stack generator, called as osls calls it.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inject } from 'vitest';
import type { Template } from './stack-cfn.js';
import { type PackageOptions, TEMPLATE } from './stack-package.js';

export const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:cms/keys-AbCdEf';
export const KMS_KEY_ARN = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
export const TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:contact-centre-ops';
export const NAMESPACE = 'Contoso/ContactCentre';
export const TIME_ZONE = 'Europe/Madrid';
export const CLOUDWATCH_OTLP = 'https://monitoring.eu-west-1.amazonaws.com/v1/metrics';

export const CONFIGURED_PARAMS = {
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
  cmsSignature: 'huawei-reference-millis',
  metricNamespace: NAMESPACE,
  logRetentionDays: '14',
  alarmMinCallsOffered: '25',
  abandonmentRateThreshold: '8',
  serviceLevelThreshold: '75',
  timeZone: TIME_ZONE,
  otlpEndpoint: CLOUDWATCH_OTLP,
};

/** The collector's schedules of the fleet file: VDN 170 alone, and 1/171 with 2/9, both of tenant acme. */
export const FLEET_SCHEDULES = [
  {
    schedule: {
      name: 'contact-centre-vdn-170',
      rate: ['rate(1 minute)'],
      input: { targets: [{ ccId: 1, vdn: 170, skillIds: '1-500' }] },
    },
  },
  {
    schedule: {
      name: 'contact-centre-vdn-171-and-9',
      rate: ['rate(1 minute)'],
      input: {
        targets: [
          { ccId: 1, vdn: 171, skillIds: '1-20,35', tenant: 'acme' },
          { ccId: 2, vdn: 9, skillIds: [1, 2, 3], tenant: 'acme' },
        ],
      },
    },
  },
];
/** The fleet file's resources of its own. */
export const FLEET_RESOURCES = { Resources: { WallboardTopic: { Type: 'AWS::SNS::Topic' } } };
/** The fleet file (YAML takes JSON). */
const FLEET_YAML = JSON.stringify({ schedules: FLEET_SCHEDULES, resources: FLEET_RESOURCES }, null, 2);

/** What the suite packages: stage prod, configured the way a production fleet would be. */
export const PACKAGED: PackageOptions = { stage: 'prod', params: CONFIGURED_PARAMS, fleetYaml: FLEET_YAML };

declare module 'vitest' {
  export interface ProvidedContext {
    /** Where the global setup put what osls wrote for PACKAGED (template and artifacts). */
    packagedStackDir: string;
  }
}

/** The template osls wrote for PACKAGED. */
export async function packagedTemplate(): Promise<Template> {
  return JSON.parse(await readFile(join(inject('packagedStackDir'), TEMPLATE), 'utf8')) as Template;
}

/** One of the artifacts osls wrote for PACKAGED, by function name. */
export const packagedArtifact = (name: string): Promise<Buffer> =>
  readFile(join(inject('packagedStackDir'), `${name}.zip`));

/**
 * The default of a stage parameter, as serverless.yml's `params.default` declares it (quotes removed): what a
 * stage that does not set it packages with, which the packaged stack (that sets most of them) cannot show.
 */
export function serverlessDefault(name: string): string {
  const yaml = readFileSync(new URL('../../serverless.yml', import.meta.url), 'utf8');
  const defaults = /\nparams:\n {2}default:\n([\s\S]*?)\n\S/.exec(yaml)?.[1] ?? '';
  const value = new RegExp(`^ {4}${name}: (.*)$`, 'm').exec(defaults)?.[1];
  if (value === undefined) throw new Error(`serverless.yml declares no default for ${name}`);
  return value.replace(/^"(.*)"$/, '$1');
}
