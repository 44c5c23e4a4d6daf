import { readFileSync } from 'node:fs';
import * as v from 'valibot';
import { SIGNATURE_SETTINGS, type SignatureSetting } from './cms/signature-negotiation.js';
import { ConfigError, ValidationError } from './errors.js';
import { CMS_LIMITS, type Target } from './model.js';
import { certificateBundleProblem } from './pem.js';
import { parseSkillList } from './skills.js';
import { integerIn, issueField } from './validation.js';

/**
 * Configuration is read from the environment once, at cold start. Every problem is a ConfigError naming the
 * variable, so a broken deployment fails its first invocation with a message that says what to fix.
 */

export type Env = Readonly<Record<string, string | undefined>>;

export interface CmsSettings {
  readonly baseUrl: string;
  /** PEM bundle from CMS_CA_FILE, trusted in addition to the default roots. */
  readonly caCertificate: string | undefined;
  readonly requestTimeoutMs: number;
  readonly maxAttempts: number;
  readonly maxConcurrency: number;
  /** Largest CMS response body read; sized so that maxConcurrency of them fit the function's memory. */
  readonly maxResponseBytes: number;
  /** CMS_SIGNATURE: a pinned C2 layout, or `auto`. */
  readonly signature: SignatureSetting;
}

export interface SecretSettings {
  readonly secretId: string;
  readonly ttlMs: number;
}

const skillIdsSchema = v.pipe(
  v.union(
    [
      v.pipe(
        v.string(),
        v.rawTransform(({ dataset, addIssue, NEVER }) => {
          try {
            return parseSkillList(dataset.value);
          } catch (error) {
            addIssue({ message: (error as Error).message });
            return NEVER;
          }
        }),
      ),
      // No transform in this branch: a failed check followed by a transform would hide which id is wrong.
      v.pipe(v.array(integerIn(CMS_LIMITS.skillId)), v.minLength(1, 'must name at least one skill')),
    ],
    'must be a skill list like "1-20,35" or an array of skill ids',
  ),
  v.transform((ids) => [...new Set(ids)].sort((a, b) => a - b)),
);

const TARGET_EXAMPLE = '{"ccId":1,"vdn":170,"skillIds":"1-20"}';
const TARGET_FIELDS = ['ccId', 'vdn', 'skillIds'] as const;

// Every schema says in plain words what it wants: the library's own wording ("Expected never but received…")
// means nothing to an operator reading a failed cold start.
const targetSchema = v.strictObject(
  { ccId: integerIn(CMS_LIMITS.ccId), vdn: integerIn(CMS_LIMITS.vdn), skillIds: skillIdsSchema },
  (issue) => {
    if (issue.expected === 'never') return `is not a known field (expected ${TARGET_FIELDS.join(', ')})`;
    if (issue.input === undefined && issue.path !== undefined) return 'is required';
    return `must be an object such as ${TARGET_EXAMPLE}`;
  },
);

const targetsSchema = v.pipe(
  v.array(targetSchema, `must be a JSON array of targets such as [${TARGET_EXAMPLE}]`),
  v.minLength(1, 'must hold at least one target'),
);

/** Validates a list of targets from JSON; throws ValidationError naming the field (`targets[0].vdn`). */
export function parseTargets(input: unknown, root = 'targets'): Target[] {
  const result = v.safeParse(targetsSchema, input);
  if (!result.success) {
    const [issue] = result.issues;
    throw new ValidationError(issueField(issue, root), issue?.message ?? 'is invalid');
  }
  const seen = new Set<string>();
  result.output.forEach((target, index) => {
    const key = `${target.ccId}/${target.vdn}`;
    if (seen.has(key))
      throw new ValidationError(
        `${root}[${index}]`,
        `VDN ${target.vdn} of call center ${target.ccId} is listed twice`,
      );
    seen.add(key);
  });
  return result.output;
}

export function required(env: Env, variable: string): string {
  const value = env[variable]?.trim();
  if (!value) throw new ConfigError(variable, 'is required');
  return value;
}

function optionalInt(env: Env, variable: string, fallback: number, min: number, max: number): number {
  const raw = env[variable]?.trim();
  if (!raw) return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(variable, `must be a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max)
    throw new ConfigError(variable, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

export function requiredInt(env: Env, variable: string, min: number, max: number): number {
  required(env, variable);
  return optionalInt(env, variable, 0, min, max);
}

function readCaFile(env: Env): string | undefined {
  const path = env.CMS_CA_FILE?.trim();
  if (!path) return undefined;
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(
      'CMS_CA_FILE',
      `cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  const problem = certificateBundleProblem(pem);
  if (problem !== undefined) throw new ConfigError('CMS_CA_FILE', `${path} ${problem}`);
  return pem;
}

export function loadCmsSettings(env: Env): CmsSettings {
  const raw = required(env, 'CMS_BASE_URL');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    // The value is not repeated: a mistyped URL may carry credentials.
    throw new ConfigError('CMS_BASE_URL', 'is not a URL (expected https://host:port)');
  }
  if (url.protocol !== 'https:')
    throw new ConfigError('CMS_BASE_URL', 'must be an https:// URL (CC-CMS only speaks HTTPS)');
  if (url.username || url.password || url.search || url.hash) {
    throw new ConfigError('CMS_BASE_URL', 'must not carry credentials, a query or a fragment');
  }
  const maxConcurrency = optionalInt(env, 'CMS_CONCURRENCY', 4, 1, 64);
  return {
    baseUrl: url.href.replace(/\/$/, ''),
    caCertificate: readCaFile(env),
    requestTimeoutMs: optionalInt(env, 'CMS_TIMEOUT_MS', 5_000, 100, 60_000),
    maxAttempts: optionalInt(env, 'CMS_MAX_ATTEMPTS', 3, 1, 10),
    maxConcurrency,
    maxResponseBytes: responseCap(functionMemoryMb(env), maxConcurrency),
    signature: optionalChoice(env, 'CMS_SIGNATURE', SIGNATURE_SETTINGS, 'auto'),
  };
}

/**
 * How much memory CMS answers in flight may take. Reading and parsing a body of N bytes peaks at about 6 N (the
 * received chunks, their concatenation, the decoded text and the parsed objects; measured 5.0 N for a padded
 * answer and 6.2 N for 1,000 indented records in both arrays). Half of the function's memory is theirs; the rest
 * is the runtime's, the SDK's and the run's datums'.
 */
export const RESPONSE_MEMORY = {
  bytesPerResponseByte: 6,
  shareOfFunctionMemory: 0.5,
  /** The most a response is read to, whatever the memory: 20 times the largest valid answer. */
  maxBytes: 16 * 1024 * 1024,
  /** The largest valid answer: 1,000 skills with 15-digit counters, in both arrays, indented, is 0.78 MB. */
  minBytes: 1024 * 1024,
} as const;

/** The function's memory in MB, which Lambda sets; undefined elsewhere (the CLI, local runs). */
function functionMemoryMb(env: Env): number | undefined {
  const raw = env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE?.trim();
  return raw && /^\d+$/.test(raw) ? Number(raw) : undefined;
}

/**
 * The response cap for `concurrency` requests in flight within `memoryMb`; a ConfigError naming CMS_CONCURRENCY
 * when even the largest valid answer would not fit that many times.
 */
export function responseCap(memoryMb: number | undefined, concurrency: number): number {
  if (memoryMb === undefined) return RESPONSE_MEMORY.maxBytes;
  const budget = memoryMb * 1024 * 1024 * RESPONSE_MEMORY.shareOfFunctionMemory;
  const cap = Math.floor(budget / (concurrency * RESPONSE_MEMORY.bytesPerResponseByte));
  if (cap < RESPONSE_MEMORY.minBytes) {
    const fits = Math.floor(budget / (RESPONSE_MEMORY.minBytes * RESPONSE_MEMORY.bytesPerResponseByte));
    throw new ConfigError(
      'CMS_CONCURRENCY',
      `${concurrency} CMS answers in flight do not fit in ${memoryMb} MB of function memory; ` +
        `at most ${fits} fit: lower CMS_CONCURRENCY or give the function more memory`,
    );
  }
  return Math.min(cap, RESPONSE_MEMORY.maxBytes);
}

export function loadSecretSettings(env: Env): SecretSettings {
  return {
    secretId: required(env, 'CMS_SECRET_ID'),
    ttlMs: optionalInt(env, 'SECRET_TTL_SECONDS', 300, 0, 86_400) * 1_000,
  };
}

/** Where the targets are read from: these variables, or (packaging the stack) the stage parameters they come from. */
export interface TargetVariables {
  readonly json: string;
  readonly ccId: string;
  readonly vdn: string;
  readonly skillIds: string;
}

const TARGET_VARIABLES: TargetVariables = {
  json: 'CMS_TARGETS',
  ccId: 'CC_ID',
  vdn: 'VDN',
  skillIds: 'SKILL_IDS',
};

/** The VDNs this deployment serves: `CC_ID` + `VDN` + `SKILL_IDS`, or `CMS_TARGETS` (JSON), never both. */
export function loadTargets(env: Env, names: TargetVariables = TARGET_VARIABLES): Target[] {
  const json = env[names.json]?.trim();
  const single = [names.ccId, names.vdn, names.skillIds].filter((name) => env[name]?.trim());
  if (json && single.length > 0) {
    throw new ConfigError(
      names.json,
      `set either ${names.json} or ${names.ccId}/${names.vdn}/${names.skillIds}, not both (${single.join(', ')} also set)`,
    );
  }
  if (json) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch {
      throw new ConfigError(
        names.json,
        'is not valid JSON (expected [{"ccId":1,"vdn":170,"skillIds":"1-20"}])',
      );
    }
    try {
      return parseTargets(parsed, '');
    } catch (error) {
      if (error instanceof ValidationError)
        throw new ConfigError(names.json, error.field ? `${error.field} ${error.detail}` : error.detail);
      throw error;
    }
  }
  const ccId = requiredInt(env, names.ccId, CMS_LIMITS.ccId.min, CMS_LIMITS.ccId.max);
  const vdn = requiredInt(env, names.vdn, CMS_LIMITS.vdn.min, CMS_LIMITS.vdn.max);
  try {
    return [{ ccId, vdn, skillIds: parseSkillList(required(env, names.skillIds)) }];
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(names.skillIds, (error as Error).message);
  }
}

/** Reads an optional enumerated variable. */
export function optionalChoice<T extends string>(
  env: Env,
  variable: string,
  choices: readonly T[],
  fallback: T,
): T {
  const raw = env[variable]?.trim();
  if (!raw) return fallback;
  if (!(choices as readonly string[]).includes(raw)) {
    throw new ConfigError(variable, `must be one of ${choices.join(', ')}, got "${raw}"`);
  }
  return raw as T;
}

export { optionalInt };
