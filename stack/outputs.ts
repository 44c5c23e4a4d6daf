import { statsPath } from '../lib/api/route.js';
import type { Vdn } from './settings.js';

/**
 * The invoke ARN of one VDN's query routes, any method: what a caller's IAM policy grants to let it read that
 * VDN and no other. The `*` stands for the method; IAM's `*` would match a `/` too, but a method never holds
 * one, and the rest of the ARN is literal up to its end, so no other VDN's route ARN matches it.
 */
export function queryArn({ ccId, vdn }: Vdn): { readonly 'Fn::Sub': string } {
  return {
    'Fn::Sub': `arn:\${AWS::Partition}:execute-api:\${AWS::Region}:\${AWS::AccountId}:\${HttpApi}/$default/*${statsPath(ccId, vdn)}`,
  };
}

interface CfnOutput {
  readonly Description: string;
  readonly Value: { readonly 'Fn::Sub': string };
}

/**
 * One output per VDN the query API serves (the functions' own targets), named `QueryArnCc<ccId>Vdn<vdn>`; the
 * stack's size check (stack/size.ts) keeps them within CloudFormation's outputs.
 */
export function buildQueryArnOutputs(vdns: readonly Vdn[]): Record<string, CfnOutput> {
  return Object.fromEntries(
    vdns.map((target) => [
      `QueryArnCc${target.ccId}Vdn${target.vdn}`,
      {
        Description: `Invoke ARN of the query API for VDN ${target.vdn} of call center ${target.ccId} (any method), for callers' IAM policies.`,
        Value: queryArn(target),
      },
    ]),
  );
}
