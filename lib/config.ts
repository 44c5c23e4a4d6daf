import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { CLOSING_READ_DEFAULTS, CLOSING_READ_LIMITS, type ClosingReadSettings } from './closing-read.js';
import type { RefusalRules } from './cms/refusal-budget.js';
import { SIGNATURE_SETTINGS, type SignatureSetting } from './cms/signature-negotiation.js';
import { ConfigError, ValidationError } from './errors.js';
import { LOG_LEVELS, type LogLevel } from './log.js';
import { DEFAULT_METRICS, type MetricSelection, parseMetricSelection } from './metrics/build-datums.js';
import { type OtlpSettings, otlpSettings, parseOtlpAuth, parseOtlpEndpoint } from './metrics/otlp-config.js';
import { CMS_LIMITS, type Target } from './model.js';
import { certificateBundleProblem } from './pem.js';
import { normalizeSkillIds, parseSkillList } from './skills.js';
import { clip, quoted } from './text.js';
import { DEFAULT_TIME_ZONE, parseTimeZone } from './time-zone.js';
import { checkIntegerIn, checkSkillIdArray, isJsonObject, parseWholeNumber } from './validation.js';

// Configuration is read from the environment once per function, at cold start, through the one schema below.
// Every problem is a ConfigError naming the variable, so a broken deployment fails its first invocation with a
// message that says what to fix.

/** The environment as Lambda hands it over; only the loaders of this module read it. */
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
  /** CMS_REFUSAL_LIMIT charged signatures at most in any CMS_REFUSAL_PERIOD_SECONDS (lib/cms/refusal-budget.ts). */
  readonly refusals: RefusalRules;
}

interface SecretSettings {
  readonly secretId: string;
  readonly ttlMs: number;
}

const DEFAULT_NAMESPACE = 'HuaweiCEC/SkillQueues';

/**
 * Where the collector's datums go: CloudWatch, EMF log lines, or the terminal table of local runs. `stdout`, the
 * table's earlier name, is still accepted so that existing deployments keep their setting.
 */
const SINK_KINDS = ['cloudwatch', 'emf', 'table', 'stdout'] as const;
export type SinkKind = (typeof SINK_KINDS)[number];

// --- targets ------------------------------------------------------------------------------------------------

const TARGET_EXAMPLE = '{"ccId":1,"vdn":170,"skillIds":"1-20"}';
const TARGET_FIELDS: readonly string[] = ['ccId', 'vdn', 'skillIds', 'tenant'];

/**
 * A tenant's name goes into the names of its wallboard function and dashboard, so it is kept to what both allow
 * and cannot be mistaken: lower-case letters and digits in hyphen-separated words, at most TENANT_MAX_LENGTH.
 */
const TENANT_NAME = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const TENANT_MAX_LENGTH = 20;
/** The names of the tenants of one VDN each (tenantOf), which no named tenant may take. */
const OWN_TENANT_NAME = /^cc\d+-vdn\d+$/;

/**
 * The tenant a target belongs to. Secure by default: a VDN without a `tenant` is a tenant of its own, named after
 * it (`cc1-vdn170`), so that nothing of it is shown to anyone who was granted another VDN.
 */
export function tenantOf({ ccId, vdn, tenant }: Pick<Target, 'ccId' | 'vdn' | 'tenant'>): string {
  return tenant ?? `cc${ccId}-vdn${vdn}`;
}

function targetTenant(value: unknown, field: string): string {
  const wanted = `must be a tenant name of lower-case letters, digits and hyphens (at most ${TENANT_MAX_LENGTH}) like "acme"`;
  if (typeof value !== 'string' || value.length > TENANT_MAX_LENGTH || !TENANT_NAME.test(value)) {
    throw new ValidationError(field, wanted);
  }
  if (OWN_TENANT_NAME.test(value)) {
    throw new ValidationError(
      field,
      `must not look like "cc1-vdn170": such names are those of VDNs without a tenant`,
    );
  }
  return value;
}

// Every problem is said in plain words: a field path and what is wanted, as an operator fixing a failed cold
// start needs it.

/** A target's skills: a skill list such as "1-20,35", or a JSON array of skill ids. */
function targetSkillIds(value: unknown, field: string): number[] {
  const wanted = 'must be a skill list like "1-20,35" or an array of skill ids';
  if (typeof value !== 'string') {
    return normalizeSkillIds(checkSkillIdArray(value, field, CMS_LIMITS.skillId, wanted));
  }
  try {
    return parseSkillList(value);
  } catch (error) {
    throw new ValidationError(field, `${wanted}: ${(error as Error).message}`);
  }
}

function parseTarget(input: unknown, field: string): Target {
  if (!isJsonObject(input)) throw new ValidationError(field, `must be an object such as ${TARGET_EXAMPLE}`);
  const fields = input;
  // Field by field in their order, each required: the first problem is the one reported.
  const present = (name: string): unknown => {
    if (fields[name] === undefined) throw new ValidationError(`${field}.${name}`, 'is required');
    return fields[name];
  };
  const target = {
    ccId: checkIntegerIn(present('ccId'), `${field}.ccId`, CMS_LIMITS.ccId),
    vdn: checkIntegerIn(present('vdn'), `${field}.vdn`, CMS_LIMITS.vdn),
    skillIds: targetSkillIds(present('skillIds'), `${field}.skillIds`),
  };
  const unknown = Object.keys(fields).find((name) => !TARGET_FIELDS.includes(name));
  if (unknown !== undefined) {
    throw new ValidationError(
      `${field}.${unknown}`,
      `is not a known field (expected ${TARGET_FIELDS.join(', ')})`,
    );
  }
  return fields.tenant === undefined
    ? target
    : { ...target, tenant: targetTenant(fields.tenant, `${field}.tenant`) };
}

/** Validates a list of targets from JSON; throws ValidationError naming the field (`targets[0].vdn`). */
export function parseTargets(input: unknown, root = 'targets'): Target[] {
  if (!Array.isArray(input)) {
    throw new ValidationError(root, `must be a JSON array of targets such as [${TARGET_EXAMPLE}]`);
  }
  if (input.length === 0) throw new ValidationError(root, 'must hold at least one target');
  const seen = new Set<string>();
  return input.map((entry: unknown, index) => {
    const target = parseTarget(entry, `${root}[${index}]`);
    const key = `${target.ccId}/${target.vdn}`;
    if (seen.has(key)) {
      throw new ValidationError(
        `${root}[${index}]`,
        `VDN ${target.vdn} of call center ${target.ccId} is listed twice`,
      );
    }
    seen.add(key);
    return target;
  });
}

/** CMS_TARGETS: the JSON list, its problems worded after the variable's name (`[0].vdn must be …`). */
function parseTargetsJson(json: string): Target[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new Error(`is not valid JSON (expected [${TARGET_EXAMPLE}])`);
  }
  try {
    return parseTargets(parsed, '');
  } catch (error) {
    if (error instanceof ValidationError)
      throw new Error(error.field ? `${error.field} ${error.detail}` : error.detail);
    throw error;
  }
}

// --- single values ------------------------------------------------------------------------------------------

function parseCmsBaseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    // The value is not repeated: a mistyped URL may carry credentials.
    throw new Error('is not a URL (expected https://host:port)');
  }
  if (url.protocol !== 'https:') throw new Error('must be an https:// URL (CC-CMS only speaks HTTPS)');
  if (url.username || url.password || url.search || url.hash)
    throw new Error('must not carry credentials, a query or a fragment');
  return url.href.replace(/\/$/, '');
}

/** A CA bundle is a few kilobytes; even every public root CA together is a few hundred. */
const CA_FILE_MAX_BYTES = 1024 * 1024;

/**
 * CMS_CA_FILE: a regular file of at most CA_FILE_MAX_BYTES, read whole. Anything else would stop the cold start
 * in its own way: a device such as /dev/zero never ends (and the read grows until the process aborts), a FIFO
 * waits for a writer. It is opened without blocking and examined before anything is read.
 */
function readCaFile(path: string): string {
  const shown = clip(path, 200);
  const unreadable = (error: unknown) =>
    new Error(`cannot read ${shown} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    throw unreadable(error);
  }
  let pem: string;
  try {
    if (!fstatSync(fd).isFile()) throw new Error(`${shown} is not a regular file`);
    // One byte more than allowed tells a file that is too large, or that grew since it was examined.
    const buffer = Buffer.alloc(CA_FILE_MAX_BYTES + 1);
    let length = 0;
    while (length < buffer.length) {
      const read = readSync(fd, buffer, length, buffer.length - length, null);
      if (read === 0) break;
      length += read;
    }
    if (length > CA_FILE_MAX_BYTES) {
      throw new Error(`${shown} is larger than the ${CA_FILE_MAX_BYTES / 1024} KB a CA bundle may take`);
    }
    pem = buffer.toString('utf8', 0, length);
  } catch (error) {
    throw (error as NodeJS.ErrnoException).code === undefined ? error : unreadable(error);
  } finally {
    closeSync(fd);
  }
  const problem = certificateBundleProblem(pem);
  if (problem !== undefined) throw new Error(`${shown} ${problem}`);
  return pem;
}

/**
 * METRIC_NAMESPACE: where the collector publishes, and where the wallboard reads the collector's health. The
 * stack reads its stage parameter with the same rule, which also keeps `${` out of the dashboard's Fn::Sub.
 */
export function parseNamespace(namespace: string): string {
  if (namespace.startsWith('AWS/') || !/^[\w.\-/#:]{1,255}$/.test(namespace))
    throw new Error(`${quoted(namespace)} is not a valid custom namespace`);
  return namespace;
}

function choiceOf<T extends string>(choices: readonly T[], text: string): T {
  if (!(choices as readonly string[]).includes(text))
    throw new Error(`must be one of ${choices.join(', ')}, got ${quoted(text)}`);
  return text as T;
}

// --- the schema ---------------------------------------------------------------------------------------------

/** How one variable is read: from its raw value to the setting, or a plain Error saying what is wrong. */
type Rule<T> = (raw: string | undefined) => T;
type Rules = Readonly<Record<string, Rule<unknown>>>;
type Values<R extends Rules> = { readonly [K in keyof R]: ReturnType<R[K]> };

/**
 * A variable's rule: unset or blank gives `fallback` ("is required" when there is none); otherwise `parse` reads
 * the trimmed text, throwing a plain Error whose message reads after the variable's name.
 */
export function variable<T>(parse: (text: string) => T): Rule<T>;
export function variable<T, const F>(parse: (text: string) => T, fallback: F): Rule<T | F>;
export function variable(parse: (text: string) => unknown, ...fallback: unknown[]): Rule<unknown> {
  return (raw) => {
    const text = raw?.trim();
    if (text) return parse(text);
    if (fallback.length === 0) throw new Error('is required');
    return fallback[0];
  };
}

/** A whole number from `min` to `max`; required unless a fallback is given. */
export function wholeNumber(min: number, max: number): Rule<number>;
export function wholeNumber<const F extends number | undefined>(
  min: number,
  max: number,
  fallback: F,
): Rule<number | F>;
export function wholeNumber(min: number, max: number, ...fallback: unknown[]): Rule<unknown> {
  const parse = (text: string) => parseWholeNumber(text, { min, max });
  return fallback.length === 0 ? variable(parse) : variable(parse, fallback[0]);
}

const choice = <T extends string>(choices: readonly T[], fallback: T) =>
  variable((text) => choiceOf(choices, text), fallback);

const closingReadSeconds = (setting: keyof typeof CLOSING_READ_LIMITS) =>
  wholeNumber(
    CLOSING_READ_LIMITS[setting].min,
    CLOSING_READ_LIMITS[setting].max,
    CLOSING_READ_DEFAULTS[setting],
  );

/**
 * Every variable the functions share or the core owns, with its rule and default. The wallboard adds its own two
 * (WALLBOARD_THRESHOLDS, WALLBOARD_MAX_ROWS) where its grammar lives, so that the other functions' bundles do not
 * carry it.
 */
const ENVIRONMENT = {
  LOG_LEVEL: variable((text) => choiceOf(LOG_LEVELS, text.toUpperCase()), 'INFO'),
  CMS_TARGETS: variable(parseTargetsJson, undefined),
  CC_ID: wholeNumber(CMS_LIMITS.ccId.min, CMS_LIMITS.ccId.max, undefined),
  VDN: wholeNumber(CMS_LIMITS.vdn.min, CMS_LIMITS.vdn.max, undefined),
  SKILL_IDS: variable(parseSkillList, undefined),
  METRIC_NAMESPACE: variable(parseNamespace, DEFAULT_NAMESPACE),
  // Unset: DEFAULT_METRICS.skill, or none when OTLP_ENDPOINT carries every skill's counters (loadCollectorConfig).
  SKILL_METRICS: variable(parseMetricSelection, undefined),
  VDN_METRICS: variable(parseMetricSelection, DEFAULT_METRICS.vdn),
  METRICS_SINK: choice(SINK_KINDS, 'cloudwatch'),
  CLOSING_READ_GUARD_SECONDS: closingReadSeconds('guardSeconds'),
  CLOSING_READ_REACH_SECONDS: closingReadSeconds('reachSeconds'),
  QUERY_MAX_SKILLS: wholeNumber(1, CMS_LIMITS.skillId.max, 1_000),
  QUERY_CACHE_SECONDS: wholeNumber(0, 300, 5),
  QUERY_TIMEOUT_MS: wholeNumber(100, 900_000, 20_000),
  CMS_BASE_URL: variable(parseCmsBaseUrl, undefined),
  CMS_CONCURRENCY: wholeNumber(1, 64, 4),
  CMS_CA_FILE: variable(readCaFile, undefined),
  CMS_TIMEOUT_MS: wholeNumber(100, 60_000, 5_000),
  CMS_MAX_ATTEMPTS: wholeNumber(1, 10, 3),
  CMS_SIGNATURE: choice(SIGNATURE_SETTINGS, 'auto'),
  /** Four is one try of each signature layout; CMS's own threshold is not published. */
  CMS_REFUSAL_LIMIT: wholeNumber(1, 100, 4),
  CMS_REFUSAL_PERIOD_SECONDS: wholeNumber(60, 86_400, 900),
  /** Set by Lambda; unset elsewhere (the CLI, local runs). Lambda's own limits bound it. */
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: wholeNumber(128, 10_240, undefined),
  CMS_SECRET_ID: variable((text) => text, undefined),
  SECRET_TTL_SECONDS: wholeNumber(0, 86_400, 300),
  CMS_ACCESS_KEY: variable((text) => text),
  CMS_SECRET_KEY: variable((text) => text),
  /** The contact centre's IANA time zone: where "today" starts (the wallboard; the stack's `timeZone`). */
  TIME_ZONE: variable(parseTimeZone, DEFAULT_TIME_ZONE),
};

type Variable = keyof typeof ENVIRONMENT;

/** A variable's rule, for reading a value of it under another name (the stack's stage parameters). */
export function ruleOf<K extends Variable>(name: K): (typeof ENVIRONMENT)[K] {
  return ENVIRONMENT[name];
}

/** The rules of the named variables, in the order given: the order their problems are reported in. */
export function rulesOf<K extends Variable>(...names: K[]): Pick<typeof ENVIRONMENT, K> {
  return Object.fromEntries(names.map((name) => [name, ENVIRONMENT[name]])) as Pick<typeof ENVIRONMENT, K>;
}

/**
 * One setting by its rule, under `name`: a variable, or a stage parameter the stack checks with the functions'
 * rules. A problem is a ConfigError naming it.
 */
export function readSetting<T>(values: Env, name: string, rule: Rule<T>): T {
  try {
    return rule(values[name]);
  } catch (error) {
    // The thresholds' grammar already names its variable.
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(name, (error as Error).message);
  }
}

/** A setting whose rule allows it to be unset, where it is needed. */
function requiredSetting<T>(values: Env, name: string, rule: Rule<T | undefined>): T {
  const value = readSetting(values, name, rule);
  if (value === undefined) throw new ConfigError(name, 'is required');
  return value;
}

/** Each variable by its rule, in order; the first problem is thrown. */
function read<R extends Rules>(env: Env, rules: R): Values<R> {
  const values: Record<string, unknown> = {};
  for (const [name, rule] of Object.entries(rules)) values[name] = readSetting(env, name, rule);
  return values as Values<R>;
}

/** Configuration objects are shared by every invocation of a container: frozen, so that none can alter them. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    if (Array.isArray(value) || Object.getPrototypeOf(value) === Object.prototype)
      for (const item of Object.values(value)) deepFreeze(item);
  }
  return value;
}

// --- sections shared by several functions ---------------------------------------------------------------------

const CMS_VARIABLES = [
  'CMS_BASE_URL',
  'CMS_CONCURRENCY',
  'CMS_CA_FILE',
  'CMS_TIMEOUT_MS',
  'CMS_MAX_ATTEMPTS',
  'CMS_SIGNATURE',
  'CMS_REFUSAL_LIMIT',
  'CMS_REFUSAL_PERIOD_SECONDS',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
] as const;

function cmsSettingsOf(
  values: Values<Pick<typeof ENVIRONMENT, (typeof CMS_VARIABLES)[number]>>,
  baseUrl: string,
): CmsSettings {
  return {
    baseUrl,
    caCertificate: values.CMS_CA_FILE,
    requestTimeoutMs: values.CMS_TIMEOUT_MS,
    maxAttempts: values.CMS_MAX_ATTEMPTS,
    maxConcurrency: values.CMS_CONCURRENCY,
    maxResponseBytes: responseCap(values.AWS_LAMBDA_FUNCTION_MEMORY_SIZE, values.CMS_CONCURRENCY),
    signature: values.CMS_SIGNATURE,
    refusals: { limit: values.CMS_REFUSAL_LIMIT, periodMs: values.CMS_REFUSAL_PERIOD_SECONDS * 1_000 },
  };
}

/** The CMS settings, CMS_BASE_URL required. */
export function loadCmsSettings(env: Env): CmsSettings {
  const values = read(env, rulesOf(...CMS_VARIABLES));
  if (values.CMS_BASE_URL === undefined) throw new ConfigError('CMS_BASE_URL', 'is required');
  return cmsSettingsOf(values, values.CMS_BASE_URL);
}

/**
 * What a Lambda function knows of CMS. Each part is undefined when its variable is unset: tests and local runs
 * hand in a CMS client or a key pair instead, and the function factory says so when neither is there.
 */
export interface CmsAccess {
  readonly cms: CmsSettings | undefined;
  readonly secret: SecretSettings | undefined;
}

function loadCmsAccess(env: Env): CmsAccess {
  const values = read(env, rulesOf(...CMS_VARIABLES, 'CMS_SECRET_ID', 'SECRET_TTL_SECONDS'));
  return {
    cms: values.CMS_BASE_URL === undefined ? undefined : cmsSettingsOf(values, values.CMS_BASE_URL),
    secret:
      values.CMS_SECRET_ID === undefined
        ? undefined
        : { secretId: values.CMS_SECRET_ID, ttlMs: values.SECRET_TTL_SECONDS * 1_000 },
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
  const single = [names.ccId, names.vdn, names.skillIds].filter((name) => env[name]?.trim());
  if (env[names.json]?.trim() && single.length > 0) {
    throw new ConfigError(
      names.json,
      `set either ${names.json} or ${names.ccId}/${names.vdn}/${names.skillIds}, not both (${single.join(', ')} also set)`,
    );
  }
  const json = readSetting(env, names.json, ENVIRONMENT.CMS_TARGETS);
  if (json !== undefined) return json;
  return [
    {
      ccId: requiredSetting(env, names.ccId, ENVIRONMENT.CC_ID),
      vdn: requiredSetting(env, names.vdn, ENVIRONMENT.VDN),
      skillIds: requiredSetting(env, names.skillIds, ENVIRONMENT.SKILL_IDS),
    },
  ];
}

// --- one configuration object per function ---------------------------------------------------------------------

/** What every Lambda function's configuration holds besides its own settings. */
export interface FunctionConfig extends CmsAccess {
  readonly logLevel: LogLevel;
  readonly targets: readonly Target[];
}

/**
 * A Lambda function's configuration object, frozen: targets first, then LOG_LEVEL, then the function's own
 * `rules`, then CMS, which is the order problems are reported in.
 */
export function loadFunctionConfig<R extends Rules, T>(
  env: Env,
  rules: R,
  build: (values: Values<R>) => T,
): FunctionConfig & T {
  const targets = loadTargets(env);
  const logLevel = readSetting(env, 'LOG_LEVEL', ENVIRONMENT.LOG_LEVEL);
  return deepFreeze({ logLevel, targets, ...build(read(env, rules)), ...loadCmsAccess(env) });
}

export interface CollectorConfig extends FunctionConfig {
  readonly namespace: string;
  readonly selection: MetricSelection;
  readonly closing: ClosingReadSettings;
  readonly sink: SinkKind;
  /** OTLP_ENDPOINT and OTLP_AUTH: the OpenTelemetry export of every skill's counters; undefined when off. */
  readonly otlp: OtlpSettings | undefined;
}

/**
 * OTLP_ENDPOINT and OTLP_AUTH, the collector's own (the stack reads its stage parameters with them): made when
 * asked for, so that the other functions' bundles do not carry their grammar.
 */
export function otlpRules() {
  return {
    OTLP_ENDPOINT: variable(parseOtlpEndpoint, undefined),
    OTLP_AUTH: variable(parseOtlpAuth, undefined),
  };
}

export function loadCollectorConfig(env: Env): CollectorConfig {
  const rules = {
    ...rulesOf('METRIC_NAMESPACE', 'SKILL_METRICS', 'VDN_METRICS', 'METRICS_SINK'),
    ...otlpRules(),
    ...rulesOf('CLOSING_READ_GUARD_SECONDS', 'CLOSING_READ_REACH_SECONDS'),
  };
  return loadFunctionConfig(env, rules, (values) => {
    const otlp = otlpSettings(values.OTLP_ENDPOINT, values.OTLP_AUTH);
    return {
      namespace: values.METRIC_NAMESPACE,
      // With OTLP on, every counter of every skill goes there, priced by the byte: classic per-skill metrics,
      // priced by the metric, are then published only when SKILL_METRICS names them.
      selection: {
        skill: values.SKILL_METRICS ?? (otlp === undefined ? DEFAULT_METRICS.skill : new Set()),
        vdn: values.VDN_METRICS,
      },
      otlp,
      closing: {
        guardMs: values.CLOSING_READ_GUARD_SECONDS * 1_000,
        reachMs: values.CLOSING_READ_REACH_SECONDS * 1_000,
      },
      sink: values.METRICS_SINK,
    };
  });
}

/** How long a warm container reuses an answer, and the most one request spends on CMS. */
export interface CmsReadLimits {
  readonly cacheTtlMs: number;
  readonly timeoutMs: number;
}

/**
 * The query API's CMS read limits, which the wallboard shares so that it reads CMS under the same ones:
 * - QUERY_CACHE_SECONDS (default 5, 0–300; 0 disables);
 * - QUERY_TIMEOUT_MS (default 20000), further capped by Lambda's remaining time. API Gateway gives up after 30 s,
 *   so more than that only helps direct invocations.
 */
export const CMS_READ_VARIABLES = ['QUERY_CACHE_SECONDS', 'QUERY_TIMEOUT_MS'] as const;

export function cmsReadLimits(values: {
  readonly QUERY_CACHE_SECONDS: number;
  readonly QUERY_TIMEOUT_MS: number;
}): CmsReadLimits {
  return { cacheTtlMs: values.QUERY_CACHE_SECONDS * 1_000, timeoutMs: values.QUERY_TIMEOUT_MS };
}

export interface QueryConfig extends FunctionConfig, CmsReadLimits {
  /** QUERY_MAX_SKILLS (default 1000, at most 5000): distinct skills one query may name. */
  readonly maxSkills: number;
}

export function loadQueryConfig(env: Env): QueryConfig {
  return loadFunctionConfig(env, rulesOf(...CMS_READ_VARIABLES, 'QUERY_MAX_SKILLS'), (values) => ({
    maxSkills: values.QUERY_MAX_SKILLS,
    ...cmsReadLimits(values),
  }));
}

/** The CLI's flags that stand in for a variable: given, the flag wins and its problems name the flag. */
interface CliFlags {
  readonly skills?: string | undefined;
  readonly 'cc-id'?: string | undefined;
  readonly vdn?: string | undefined;
}

export interface CliConfig {
  readonly cms: CmsSettings;
  readonly accessKey: string;
  readonly secretKey: string;
  readonly query: { readonly ccId: number; readonly vdn: number; readonly skillIds: readonly number[] };
}

/** The CLI's configuration: CMS settings and key pair from the environment, the VDN and skills from flags or it. */
export function loadCliConfig(flags: CliFlags, env: Env, defaultSkills?: string): CliConfig {
  const { skills } = flags;
  const skillIds =
    skills === undefined
      ? (readSetting(env, 'SKILL_IDS', ENVIRONMENT.SKILL_IDS) ??
        (defaultSkills && parseSkillList(defaultSkills)))
      : fromFlag('--skills', () => parseSkillList(skills));
  if (!skillIds) throw new ValidationError('--skills', 'is required (e.g. --skills 1-20,35)');
  const cms = loadCmsSettings(env);
  const keys = read(env, rulesOf('CMS_ACCESS_KEY', 'CMS_SECRET_KEY'));
  const id = (flag: string, text: string | undefined, name: 'CC_ID' | 'VDN', range: Range): number => {
    if (text !== undefined) return fromFlag(flag, () => parseWholeNumber(text, range));
    const value = readSetting(env, name, ENVIRONMENT[name]);
    if (value === undefined) throw new ConfigError(name, `is required (${flag} or ${name})`);
    return value;
  };
  return deepFreeze({
    cms,
    accessKey: keys.CMS_ACCESS_KEY,
    secretKey: keys.CMS_SECRET_KEY,
    query: {
      ccId: id('--cc-id', flags['cc-id'], 'CC_ID', CMS_LIMITS.ccId),
      vdn: id('--vdn', flags.vdn, 'VDN', CMS_LIMITS.vdn),
      skillIds,
    },
  });
}

type Range = { readonly min: number; readonly max: number };

/** A flag's value, its problem reported under the flag's name. */
function fromFlag<T>(flag: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new ValidationError(flag, (error as Error).message);
  }
}
