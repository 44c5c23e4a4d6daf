import * as v from 'valibot';
import { ValidationError } from '../errors.js';
import { CMS_LIMITS } from '../model.js';
import { parseSkillList } from '../skills.js';
import { clip } from '../text.js';
import { integerIn, issueField } from '../validation.js';
import type { ApiRequest, StatsMethod } from './route.js';

/**
 * What a caller asked for, validated but not yet checked against the deployment's targets. A field the caller
 * left out stays undefined: the configured target fills it in (see target.ts).
 */
export interface StatsQuery {
  readonly ccId?: number;
  readonly vdn?: number;
  /** Sorted, without duplicates. */
  readonly skillIds?: readonly number[];
}

export interface QueryLimits {
  /** QUERY_MAX_SKILLS: the most distinct skills one query may name. */
  readonly maxSkills: number;
}

const FIELDS = ['ccId', 'vdn', 'skillIds'] as const;
type Field = (typeof FIELDS)[number];

function isField(name: string): name is Field {
  return (FIELDS as readonly string[]).includes(name);
}

function unknownField(name: string, where: 'parameter' | 'field'): ValidationError {
  return new ValidationError(clip(name, 60), `is not a known ${where} (expected ${FIELDS.join(', ')})`);
}

function tooManySkills(count: number, limits: QueryLimits): ValidationError {
  return new ValidationError(
    'skillIds',
    `names ${count} skills; a query may name at most ${limits.maxSkills}`,
  );
}

function checkSkillCount(skillIds: readonly number[], limits: QueryLimits): readonly number[] {
  if (skillIds.length > limits.maxSkills) throw tooManySkills(skillIds.length, limits);
  return skillIds;
}

function rangeOf(field: Exclude<Field, 'skillIds'>): { readonly min: number; readonly max: number } {
  return CMS_LIMITS[field];
}

// --- GET: query-string parameters -----------------------------------------------------------------------------

function parseIntParameter(field: Exclude<Field, 'skillIds'>, raw: string): number {
  const { min, max } = rangeOf(field);
  const text = raw.trim();
  if (!/^\d+$/.test(text)) throw new ValidationError(field, `must be a whole number, got "${clip(raw, 20)}"`);
  const value = Number(text);
  if (value < min || value > max) {
    throw new ValidationError(field, `must be between ${min} and ${max}, got ${clip(text, 20)}`);
  }
  return value;
}

/**
 * API Gateway joins repeated parameters with commas, so `skillIds=1&skillIds=5-7` arrives as `1,5-7` and reads
 * as one skill list, while a repeated ccId or vdn arrives as `1,2` and is refused as not a whole number.
 */
function parseQueryString(query: ApiRequest['query'], limits: QueryLimits): StatsQuery {
  const result: { ccId?: number; vdn?: number; skillIds?: readonly number[] } = {};
  for (const [name, raw] of Object.entries(query)) {
    if (!isField(name)) throw unknownField(name, 'parameter');
    const value = raw ?? '';
    if (name === 'skillIds') {
      let skillIds: number[];
      try {
        skillIds = parseSkillList(value);
      } catch (error) {
        throw new ValidationError('skillIds', `${(error as Error).message} (expected a list like 1-20,35)`);
      }
      result.skillIds = checkSkillCount(skillIds, limits);
    } else {
      result[name] = parseIntParameter(name, value);
    }
  }
  return result;
}

// --- POST: the CMS request body -------------------------------------------------------------------------------

const bodySchema = v.object({
  ccId: v.optional(integerIn(CMS_LIMITS.ccId)),
  vdn: v.optional(integerIn(CMS_LIMITS.vdn)),
  skillIds: v.optional(
    v.pipe(
      v.array(integerIn(CMS_LIMITS.skillId), 'must be an array of skill ids like [1,2]'),
      v.minLength(1, 'must name at least one skill'),
    ),
  ),
});

/** application/json, with or without a UTF-8 charset; a missing Content-Type is taken to be JSON. */
function checkContentType(contentType: string | undefined): void {
  if (contentType === undefined || contentType.trim() === '') return;
  const [mediaType = '', ...parameters] = contentType.split(';').map((part) => part.trim().toLowerCase());
  const charsets = parameters
    .filter((parameter) => parameter.startsWith('charset='))
    .map((parameter) => parameter.slice('charset='.length).replace(/^"|"$/g, ''));
  if (
    mediaType === 'application/json' &&
    charsets.every((charset) => charset === 'utf-8' || charset === 'utf8')
  ) {
    return;
  }
  throw new ValidationError(
    'content-type',
    `must be application/json (optionally with charset=utf-8), got "${clip(contentType, 60)}"`,
  );
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function bodyText(request: Pick<ApiRequest, 'body' | 'isBase64Encoded'>): string {
  const body = request.body ?? '';
  if (!request.isBase64Encoded) return body;
  try {
    return utf8.decode(Buffer.from(body, 'base64'));
  } catch {
    throw new ValidationError('body', 'is not valid UTF-8');
  }
}

function parseBody(request: ApiRequest, limits: QueryLimits): StatsQuery {
  checkContentType(request.headers['content-type']);
  const text = bodyText(request);
  if (text.trim() === '') {
    throw new ValidationError(
      'body',
      'is required: a JSON object such as {"ccId":1,"vdn":170,"skillIds":[1,2]}',
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ValidationError('body', 'is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ValidationError('body', 'must be a JSON object such as {"ccId":1,"vdn":170,"skillIds":[1,2]}');
  }
  const record = parsed as Record<string, unknown>;
  for (const name of Object.keys(record)) if (!isField(name)) throw unknownField(name, 'field');
  // Refused before validating each entry, so an oversized array costs no more than its length check.
  const rawSkills = record.skillIds;
  if (Array.isArray(rawSkills) && rawSkills.length > limits.maxSkills)
    throw tooManySkills(rawSkills.length, limits);

  const result = v.safeParse(bodySchema, record);
  if (!result.success) {
    const issue = result.issues[0];
    throw new ValidationError(issueField(issue) || 'body', issue?.message ?? 'is invalid');
  }
  const { ccId, vdn, skillIds } = result.output;
  return {
    ...(ccId === undefined ? {} : { ccId }),
    ...(vdn === undefined ? {} : { vdn }),
    ...(skillIds === undefined ? {} : { skillIds: [...new Set(skillIds)].sort((a, b) => a - b) }),
  };
}

/** Validates everything the caller sent for the stats route; throws ValidationError naming the field. */
export function parseStatsQuery(request: ApiRequest, method: StatsMethod, limits: QueryLimits): StatsQuery {
  if (method === 'GET') return parseQueryString(request.query, limits);
  const [parameter] = Object.keys(request.query);
  if (parameter !== undefined) {
    throw new ValidationError(
      clip(parameter, 60),
      'query parameters are not accepted with POST; send the fields in the JSON body',
    );
  }
  return parseBody(request, limits);
}
