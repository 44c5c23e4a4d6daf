import * as v from 'valibot';
import { ValidationError } from './errors.js';
import { quoted } from './text.js';

type Range = { readonly min: number; readonly max: number };

// The wording of the integer rule, shared by the hand-written checks and the wallboard's schemas.
const NOT_AN_INTEGER = 'must be an integer';
const outside = ({ min, max }: Range): string => `must be between ${min} and ${max}`;

/** An integer within an inclusive range, as a schema for the wallboard's richer inputs. */
export const integerIn = (range: Range) =>
  v.pipe(
    v.number(NOT_AN_INTEGER),
    v.integer(NOT_AN_INTEGER),
    v.minValue(range.min, outside(range)),
    v.maxValue(range.max, outside(range)),
  );

/**
 * `value` as an integer within an inclusive range, or a ValidationError naming `field`. Written by hand rather
 * than with a schema: the collector and query bundles then carry no schema library (their size and cold start
 * are benchmarked).
 */
export function checkIntegerIn(value: unknown, field: string, range: Range): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new ValidationError(field, NOT_AN_INTEGER);
  if (value < range.min || value > range.max) throw new ValidationError(field, outside(range));
  return value;
}

/**
 * A non-empty JSON array of skill ids, each within the CMS limits, or a ValidationError naming the field or the
 * entry (`skillIds[3]`); `notAnArray` says what was expected instead.
 */
export function checkSkillIdArray(value: unknown, field: string, range: Range, notAnArray: string): number[] {
  if (!Array.isArray(value)) throw new ValidationError(field, notAnArray);
  if (value.length === 0) throw new ValidationError(field, 'must name at least one skill');
  // An index loop, not for-of: a sparse array's holes must be reported, not skipped.
  const ids: number[] = [];
  for (let index = 0; index < value.length; index += 1) {
    ids.push(checkIntegerIn(value[index], `${field}[${index}]`, range));
  }
  return ids;
}

/**
 * The whole-number rule: text of digits only, blanks around them aside (no sign, no decimals, no exponent), so
 * that `1e3` or `-1` is refused rather than read as something else. Undefined for any other text.
 */
export function wholeNumberOf(text: string): number | undefined {
  const trimmed = text.trim();
  return /^\d+$/.test(trimmed) ? Number(trimmed) : undefined;
}

/**
 * Reads text as a whole number within an inclusive range. Throws a plain Error whose message reads after the
 * name of the variable or flag the text came from.
 */
export function parseWholeNumber(
  text: string,
  { min, max }: { readonly min: number; readonly max: number },
): number {
  const value = wholeNumberOf(text);
  if (value === undefined) throw new Error(`must be a whole number, got ${quoted(text.trim())}`);
  if (value < min || value > max) throw new Error(`must be between ${min} and ${max}, got ${value}`);
  return value;
}

/** A JSON object: not null, not an array. */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Text read as a JSON object, or what is wrong with it: not JSON at all, or JSON of another kind (with the
 * value, so that the caller can say which). Callers word the problem for where the text came from; none echoes
 * the text itself, which may be a secret.
 */
export type JsonObjectReading =
  | { readonly problem: undefined; readonly object: Record<string, unknown> }
  | { readonly problem: 'not JSON' }
  | { readonly problem: 'not an object'; readonly value: unknown };

export function readJsonObject(text: string): JsonObjectReading {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { problem: 'not JSON' };
  }
  return isJsonObject(value) ? { problem: undefined, object: value } : { problem: 'not an object', value };
}

/** The field an issue is about, as `root[1].skillIds[3]` (without a root: `skillIds[3]`). */
export function issueField(issue: v.BaseIssue<unknown> | undefined, root = ''): string {
  const path = (issue?.path ?? [])
    .map((item) => (typeof item.key === 'number' ? `[${item.key}]` : `.${String(item.key)}`))
    .join('');
  return `${root}${path}`.replace(/^\./, '');
}
