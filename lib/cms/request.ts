import { ValidationError } from '../errors.js';
import { CMS_LIMITS } from '../model.js';
import { normalizeSkillIds } from '../skills.js';
import { isJsonObject } from '../validation.js';

export const CALL_STATS_PATH = '/rest/cmsapp/v1/openapi/skill/currentcallstateinfo';

/** Where the question is sent: the API path under `baseUrl`, a validated https:// URL (lib/config.ts). */
export function callStatsUrl(baseUrl: string): URL {
  return interfaceUrl(baseUrl, CALL_STATS_PATH);
}

/** The URL of one interface of the family: its `path` under `baseUrl`, as for the call statistics. */
export function interfaceUrl(baseUrl: string, path: string): URL {
  const base = new URL(baseUrl);
  return new URL(`${base.origin}${base.pathname.replace(/\/+$/, '')}${path}`);
}

/** One question to CC-CMS: the current window's statistics of these skills of one VDN. */
export interface CallStatsQuery {
  readonly ccId: number;
  readonly vdn: number;
  readonly skillIds: readonly number[];
}

interface Range {
  readonly min: number;
  readonly max: number;
}

/**
 * Validates per the spec (integers, ranges, non-empty) and returns ids de-duplicated and sorted. Throws
 * ValidationError naming the field, e.g. "skillIds[3]". No upper bound on count here (the client batches).
 * Numeric strings are refused: callers that read text (query strings, environment) convert it themselves,
 * so that a typo is reported where it was made.
 */
export function validateCallStatsQuery(input: unknown): CallStatsQuery {
  if (!isJsonObject(input)) {
    throw new ValidationError(
      'query',
      `expected an object with ccId, vdn and skillIds, got ${describeValue(input)}`,
    );
  }
  const fields = input;
  const ccId = integerIn(fields.ccId, 'ccId', CMS_LIMITS.ccId);
  const vdn = integerIn(fields.vdn, 'vdn', CMS_LIMITS.vdn);
  const skillIds = fields.skillIds;
  if (!Array.isArray(skillIds)) {
    throw new ValidationError('skillIds', `expected an array of skill ids, got ${describeValue(skillIds)}`);
  }
  if (skillIds.length === 0) throw new ValidationError('skillIds', 'expected at least one skill id');
  const unique = new Set<number>();
  // An index loop, not for-of: a sparse array's holes must be reported, not skipped.
  for (let index = 0; index < skillIds.length; index += 1) {
    unique.add(integerIn(skillIds[index], `skillIds[${index}]`, CMS_LIMITS.skillId));
  }
  return { ccId, vdn, skillIds: normalizeSkillIds(unique) };
}

/** Splits ids into consecutive batches of at most `size` (CMS accepts at most 1,000 per request). */
export function batchSkillIds(
  skillIds: readonly number[],
  size: number = CMS_LIMITS.skillsPerRequest,
): number[][] {
  if (!Number.isInteger(size) || size < 1 || size > CMS_LIMITS.skillsPerRequest) {
    throw new RangeError(`a batch holds 1 to ${CMS_LIMITS.skillsPerRequest} skill ids, not ${size}`);
  }
  const batches: number[][] = [];
  for (let start = 0; start < skillIds.length; start += size) {
    batches.push(skillIds.slice(start, start + size));
  }
  return batches;
}

function integerIn(value: unknown, field: string, range: Range): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= range.min && value <= range.max) {
    return value;
  }
  throw new ValidationError(
    field,
    `expected an integer from ${range.min} to ${range.max}, got ${describeValue(value)}`,
  );
}

const MAX_SHOWN_CHARS = 40;

/** A short, safe rendering of an offending value for an error message (long strings are cut). */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.length > MAX_SHOWN_CHARS ? `${value.slice(0, MAX_SHOWN_CHARS)}…` : value);
    case 'number':
    case 'boolean':
      return String(value);
    case 'bigint':
      return `${value}n`;
    case 'object':
      return 'an object';
    default:
      return `a ${typeof value}`;
  }
}
