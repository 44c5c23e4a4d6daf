import { CMS_LIMITS } from '../../lib/model.js';

/** The request body rules of the CMS API (cms-api.md, "Request"), with the offending field named on failure. */

export interface SkillQuery {
  readonly ccId: number;
  readonly vdn: number;
  readonly skillIds: readonly number[];
}

export type QueryValidation =
  | { readonly ok: true; readonly query: SkillQuery }
  | { readonly ok: false; readonly field: string; readonly message: string };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function inRange(value: unknown, limits: { readonly min: number; readonly max: number }): value is number {
  return Number.isInteger(value) && (value as number) >= limits.min && (value as number) <= limits.max;
}

function failure(field: string, message: string): QueryValidation {
  return { ok: false, field, message: `${field} ${message}` };
}

export function validateQuery(body: string): QueryValidation {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return failure('body', 'is not valid JSON');
  }
  if (!isObject(parsed)) return failure('body', 'must be a JSON object');

  const { ccId, vdn, skillIds } = parsed;
  if (!inRange(ccId, CMS_LIMITS.ccId)) {
    return failure('ccId', `must be an integer from ${CMS_LIMITS.ccId.min} to ${CMS_LIMITS.ccId.max}`);
  }
  if (!inRange(vdn, CMS_LIMITS.vdn)) {
    return failure('vdn', `must be an integer from ${CMS_LIMITS.vdn.min} to ${CMS_LIMITS.vdn.max}`);
  }
  if (!Array.isArray(skillIds) || skillIds.length === 0) {
    return failure('skillIds', 'must be a non-empty array of skill ids');
  }
  if (skillIds.length > CMS_LIMITS.skillsPerRequest) {
    return failure('skillIds', `must hold at most ${CMS_LIMITS.skillsPerRequest} skill ids`);
  }
  const badIndex = skillIds.findIndex((skillId) => !inRange(skillId, CMS_LIMITS.skillId));
  if (badIndex >= 0) {
    return failure(
      `skillIds[${badIndex}]`,
      `must be an integer from ${CMS_LIMITS.skillId.min} to ${CMS_LIMITS.skillId.max}`,
    );
  }
  return { ok: true, query: { ccId, vdn, skillIds: skillIds as number[] } };
}

/** What can be read from a body that failed validation, for the request log. */
export function bestEffortQuery(body: string): {
  ccId: number | undefined;
  vdn: number | undefined;
  skillIds: number[];
} {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = undefined;
  }
  const fields = isObject(parsed) ? parsed : {};
  const integer = (value: unknown) => (Number.isInteger(value) ? (value as number) : undefined);
  const skillIds = Array.isArray(fields.skillIds)
    ? fields.skillIds.filter((value): value is number => Number.isInteger(value))
    : [];
  return { ccId: integer(fields.ccId), vdn: integer(fields.vdn), skillIds };
}
