import { CMS_LIMITS } from '../../lib/model.js';
import { readJsonObject } from '../../lib/validation.js';

/** The request body rules of the CMS API (cms-api.md, "Request"), with the offending field named on failure. */

export interface SkillQuery {
  readonly ccId: number;
  readonly vdn: number;
  readonly skillIds: readonly number[];
}

export type QueryValidation =
  | { readonly ok: true; readonly query: SkillQuery }
  | { readonly ok: false; readonly field: string; readonly message: string };

function inRange(value: unknown, limits: { readonly min: number; readonly max: number }): value is number {
  return Number.isInteger(value) && (value as number) >= limits.min && (value as number) <= limits.max;
}

function failure(field: string, message: string): QueryValidation {
  return { ok: false, field, message: `${field} ${message}` };
}

export function validateQuery(body: string): QueryValidation {
  const reading = readJsonObject(body);
  if (reading.problem === 'not JSON') return failure('body', 'is not valid JSON');
  if (reading.problem === 'not an object') return failure('body', 'must be a JSON object');

  const { ccId, vdn, skillIds } = reading.object;
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
  const reading = readJsonObject(body);
  const fields = reading.problem === undefined ? reading.object : {};
  const integer = (value: unknown) => (Number.isInteger(value) ? (value as number) : undefined);
  const skillIds = Array.isArray(fields.skillIds)
    ? fields.skillIds.filter((value): value is number => Number.isInteger(value))
    : [];
  return { ccId: integer(fields.ccId), vdn: integer(fields.vdn), skillIds };
}
