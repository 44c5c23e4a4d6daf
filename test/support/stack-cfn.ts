/**
 * Just enough of CloudFormation to read a packaged template the way a deployment would: parameters take their
 * defaults, conditions are decided, resources whose condition is false disappear, and the intrinsic functions
 * the stack uses are evaluated. References to resources, which only exist once deployed, become the readable
 * tokens `Ref:<LogicalId>` and `GetAtt:<LogicalId>.<Attribute>`.
 */

interface TemplateParameter {
  readonly Type: string;
  readonly Default?: unknown;
  readonly AllowedPattern?: string;
}

interface TemplateResource {
  readonly Type: string;
  readonly Condition?: string;
  readonly Properties?: Readonly<Record<string, unknown>>;
}

export interface Template {
  readonly Parameters?: Readonly<Record<string, TemplateParameter>>;
  readonly Conditions?: Readonly<Record<string, unknown>>;
  readonly Resources: Readonly<Record<string, TemplateResource>>;
  readonly Outputs?: Readonly<Record<string, unknown>>;
}

export interface DeployedResource {
  readonly Type: string;
  readonly Properties: Readonly<Record<string, unknown>>;
}

export interface Deployment {
  readonly parameters: Readonly<Record<string, string | readonly string[]>>;
  readonly conditions: Readonly<Record<string, boolean>>;
  readonly resources: Readonly<Record<string, DeployedResource>>;
  /** Each output's Value, resolved. */
  readonly outputs: Readonly<Record<string, unknown>>;
}

const PSEUDO: Readonly<Record<string, string>> = {
  'AWS::Region': 'us-east-1',
  'AWS::AccountId': '123456789012',
  'AWS::Partition': 'aws',
  'AWS::URLSuffix': 'amazonaws.com',
  'AWS::StackName': 'stack',
};

/** Marks a value removed by `Ref: AWS::NoValue`. */
const NO_VALUE: unique symbol = Symbol('AWS::NoValue');
type Resolved = unknown;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function soleKey(value: Record<string, unknown>): string | undefined {
  const keys = Object.keys(value);
  return keys.length === 1 ? keys[0] : undefined;
}

function parameterValue(parameter: TemplateParameter): string | readonly string[] {
  const text = String(parameter.Default ?? '');
  return parameter.Type === 'CommaDelimitedList' ? text.split(',') : text;
}

class Evaluator {
  readonly parameters: Record<string, string | readonly string[]> = {};
  readonly conditions: Record<string, boolean> = {};

  constructor(
    private readonly template: Template,
    private readonly elsewhere: ReadonlySet<string>,
    overrides: Readonly<Record<string, string>>,
  ) {
    for (const [name, parameter] of Object.entries(template.Parameters ?? {})) {
      const override = overrides[name];
      this.parameters[name] = parameterValue(
        override === undefined ? parameter : { ...parameter, Default: override },
      );
    }
    for (const name of Object.keys(template.Conditions ?? {})) this.condition(name);
  }

  condition(name: string): boolean {
    const known = this.conditions[name];
    if (known !== undefined) return known;
    const definition = this.template.Conditions?.[name];
    if (definition === undefined) throw new Error(`unknown condition ${name}`);
    const value = this.truth(definition);
    this.conditions[name] = value;
    return value;
  }

  private truth(expression: unknown): boolean {
    if (!isRecord(expression)) throw new Error(`not a condition: ${JSON.stringify(expression)}`);
    const key = soleKey(expression);
    const args = expression[key ?? ''];
    switch (key) {
      case 'Condition':
        return this.condition(String(args));
      case 'Fn::Not':
        return !this.truth((args as unknown[])[0]);
      case 'Fn::And':
        return (args as unknown[]).every((item) => this.truth(item));
      case 'Fn::Or':
        return (args as unknown[]).some((item) => this.truth(item));
      case 'Fn::Equals': {
        const [left, right] = (args as unknown[]).map((item) => this.resolve(item));
        return JSON.stringify(left) === JSON.stringify(right);
      }
      default:
        throw new Error(`unsupported condition function ${String(key)}`);
    }
  }

  private ref(name: string): Resolved {
    if (name === 'AWS::NoValue') return NO_VALUE;
    const pseudo = PSEUDO[name];
    if (pseudo !== undefined) return pseudo;
    const parameter = this.parameters[name];
    if (parameter !== undefined) return parameter;
    if (name in this.template.Resources || this.elsewhere.has(name)) return `Ref:${name}`;
    throw new Error(`Ref to unknown name ${name}`);
  }

  private sub(text: string, variables: Record<string, unknown>): string {
    return text.replace(/\$\{(!?)([^}]+)\}/g, (_match, literal: string, name: string) => {
      if (literal) return `\${${name}}`;
      if (name in variables) return String(this.resolve(variables[name]));
      if (name.includes('.')) return `GetAtt:${name}`;
      const value = this.ref(name);
      if (typeof value !== 'string') throw new Error(`Fn::Sub variable ${name} is not a string`);
      return value;
    });
  }

  resolve(value: unknown): Resolved {
    if (Array.isArray(value)) {
      return value.map((item) => this.resolve(item)).filter((item) => item !== NO_VALUE);
    }
    if (!isRecord(value)) return value;
    const key = soleKey(value);
    const args = value[key ?? ''];
    switch (key) {
      case 'Ref':
        return this.ref(String(args));
      case 'Fn::GetAtt':
        return `GetAtt:${(args as string[]).join('.')}`;
      case 'Fn::If': {
        const [name, whenTrue, whenFalse] = args as [string, unknown, unknown];
        return this.resolve(this.condition(name) ? whenTrue : whenFalse);
      }
      case 'Fn::Join': {
        const [separator, items] = args as [string, unknown];
        return (this.resolve(items) as unknown[]).map(String).join(separator);
      }
      case 'Fn::Sub':
        return typeof args === 'string'
          ? this.sub(args, {})
          : this.sub(String((args as unknown[])[0]), (args as [string, Record<string, unknown>])[1]);
      case 'Fn::Split': {
        const [separator, text] = args as [string, unknown];
        return String(this.resolve(text)).split(separator);
      }
      case 'Fn::Select': {
        const [index, items] = args as [unknown, unknown];
        return (this.resolve(items) as unknown[])[Number(this.resolve(index))];
      }
      default: {
        if (key?.startsWith('Fn::')) throw new Error(`unsupported intrinsic function ${key}`);
        const result: Record<string, unknown> = {};
        for (const [name, item] of Object.entries(value)) {
          const resolved = this.resolve(item);
          if (resolved !== NO_VALUE) result[name] = resolved;
        }
        return result;
      }
    }
  }
}

export interface DeployOptions {
  /** Values given to the template's parameters at deploy time, instead of their defaults. */
  readonly parameters?: Readonly<Record<string, string>>;
  /** For a fragment of a template: the resources the rest of the template declares, which it may refer to. */
  readonly elsewhere?: readonly string[];
}

/** The stack CloudFormation would create from this template with its parameters' defaults or the given values. */
export function deploy(template: Template, options: DeployOptions = {}): Deployment {
  const evaluator = new Evaluator(template, new Set(options.elsewhere), options.parameters ?? {});
  const resources: Record<string, DeployedResource> = {};
  for (const [name, resource] of Object.entries(template.Resources)) {
    if (resource.Condition !== undefined && !evaluator.condition(resource.Condition)) continue;
    const properties = evaluator.resolve(resource.Properties ?? {}) as Record<string, unknown>;
    resources[name] = { Type: resource.Type, Properties: properties };
  }
  const outputs = Object.fromEntries(
    Object.entries(template.Outputs ?? {}).map(([name, output]) => [
      name,
      evaluator.resolve((output as { Value?: unknown }).Value),
    ]),
  );
  return { parameters: evaluator.parameters, conditions: evaluator.conditions, resources, outputs };
}

export function resourcesOfType(deployment: Deployment, type: string): [string, DeployedResource][] {
  return Object.entries(deployment.resources).filter(([, resource]) => resource.Type === type);
}

export function resource(deployment: Deployment, name: string): DeployedResource {
  const found = deployment.resources[name];
  if (!found) throw new Error(`resource ${name} is not in the stack`);
  return found;
}

export interface PolicyStatement {
  readonly Effect: string;
  readonly Action?: string | readonly string[];
  readonly NotAction?: unknown;
  readonly Resource?: string | readonly string[];
  readonly NotResource?: unknown;
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

const asList = <T>(value: T | readonly T[] | undefined): readonly T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value as T];

export const actionsOf = (statement: PolicyStatement): readonly string[] => asList(statement.Action);
export const resourcesOf = (statement: PolicyStatement): readonly string[] => asList(statement.Resource);

/** Every statement of a role's inline policies. */
export function inlineStatements(role: DeployedResource): PolicyStatement[] {
  const policies = (role.Properties.Policies ?? []) as { PolicyDocument: { Statement: unknown } }[];
  return policies.flatMap((policy) => asList(policy.PolicyDocument.Statement as PolicyStatement));
}

/** The role a function runs with, as a logical id. */
export function roleOfFunction(deployment: Deployment, functionName: string): string {
  const role = resource(deployment, functionName).Properties.Role;
  const match = typeof role === 'string' ? /^GetAtt:(\w+)\.Arn$/.exec(role) : null;
  if (!match?.[1]) throw new Error(`${functionName} does not run with a role of this stack`);
  return match[1];
}

/**
 * IAM's ARN matching: `*` matches any run of characters (a `/` included), `?` any one character, the rest is
 * literal and the whole ARN must match.
 */
export function iamArnMatches(pattern: string, arn: string): boolean {
  const regex = pattern
    .split('')
    .map((char) => (char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${regex}$`).test(arn);
}
