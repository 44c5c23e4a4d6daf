import { ConfigError, ValidationError } from '../errors.js';
import { CMS_LIMITS, type Target } from '../model.js';
import { normalizeSkillIds, parseSkillList } from '../skills.js';
import { checkIntegerIn, checkSkillIdArray, isJsonObject } from '../validation.js';
import { type Env, readSetting, variable, wholeNumber } from './rules.js';

// The targets a deployment serves (the VDNs, their skills, their tenants): one grammar for every function's
// configuration, a schedule's own targets and the stack generator, which reads its stage parameters through
// loadTargets as an environment.

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

/** The variables a deployment's targets are read from. */
const TARGET_RULES = {
  CMS_TARGETS: variable(parseTargetsJson),
  CC_ID: wholeNumber(CMS_LIMITS.ccId.min, CMS_LIMITS.ccId.max),
  VDN: wholeNumber(CMS_LIMITS.vdn.min, CMS_LIMITS.vdn.max),
  SKILL_IDS: variable(parseSkillList),
};

/** The VDNs this deployment serves: `CC_ID` + `VDN` + `SKILL_IDS`, or `CMS_TARGETS` (JSON), never both. */
export function loadTargets(env: Env): Target[] {
  const single = (['CC_ID', 'VDN', 'SKILL_IDS'] as const).filter((name) => env[name]?.trim());
  if (!env.CMS_TARGETS?.trim()) {
    return [
      {
        ccId: readSetting(env, 'CC_ID', TARGET_RULES.CC_ID),
        vdn: readSetting(env, 'VDN', TARGET_RULES.VDN),
        skillIds: readSetting(env, 'SKILL_IDS', TARGET_RULES.SKILL_IDS),
      },
    ];
  }
  if (single.length > 0) {
    throw new ConfigError(
      'CMS_TARGETS',
      `set either CMS_TARGETS or CC_ID/VDN/SKILL_IDS, not both (${single.join(', ')} also set)`,
    );
  }
  return readSetting(env, 'CMS_TARGETS', TARGET_RULES.CMS_TARGETS);
}
