import { CmsProtocolError } from '../errors.js';
import { CMS_LIMITS, COUNTERS, type CounterName, type SkillStats } from '../model.js';
import { cleanText } from '../text.js';
import { isJsonObject, readJsonObject } from '../validation.js';
import { describeValue } from './request.js';
import { CmsResultError, SUCCESS_RESULT_CODE } from './result-codes.js';
import { alignedWindowStart } from './window.js';

/** Result codes are seven digits; a server that sends them as JSON numbers loses the leading zero. */
const RESULT_CODE_DIGITS = 7;
/** The older `result` field, which servers of 8.13 and earlier send without `resultCode`. */
const LEGACY_SUCCESS_RESULT = '0';
const MAX_RESULT_CODE_CHARS = 20;
const MAX_RESULT_TEXT_CHARS = 300;
const MAX_EXCERPT_CHARS = 60;

/**
 * Parses a response body strictly. Returns the records (SkillStats from lib/model.ts, each with the start of the
 * aligned window its `startTime` belongs to), one per skill id (a duplicate keeps the first), sorted by skill id,
 * or throws CmsResultError / CmsProtocolError.
 * Counters and startTime are Java longs on the server; a string of digits is accepted for them because some
 * serializers write longs as strings. Anything else is refused rather than guessed: a wrong number published
 * as a KPI is worse than a gap.
 */
export function parseCallStatsResponse(body: string): SkillStats[] {
  return parseRecords(body, parseRecord);
}

/**
 * The envelope every interface of this family answers in (`result`, `resultCode`, the items in `resultDesc` or
 * its compatibility twin `resultDatas`): each item read by `parseItem`, one per skill id (a duplicate keeps the
 * first), sorted by skill id. Throws CmsResultError for a failure code, CmsProtocolError for anything else.
 */
export function parseRecords<R extends { readonly skillId: number }>(
  body: string,
  parseItem: (item: unknown, index: number) => R,
): R[] {
  const reading = readJsonObject(body);
  if (reading.problem === 'not JSON') {
    // The parser's own message quotes the body; the excerpt below is the redacted version of that.
    throw new CmsProtocolError(
      `CMS answered a body that is not valid JSON (${body.length} characters, starting ${describeValue(
        redact(body.slice(0, MAX_EXCERPT_CHARS)),
      )})`,
    );
  }
  if (reading.problem === 'not an object') {
    throw new CmsProtocolError(
      `CMS answered ${describeValue(reading.value)} where a JSON object was expected`,
    );
  }
  const fields = reading.object;
  if (fields.resultCode === undefined && fields.result !== undefined)
    checkLegacyResult(fields.result, fields.resultDesc);
  else checkResultCode(fields.resultCode, fields.resultDesc);

  const records = Array.isArray(fields.resultDesc)
    ? fields.resultDesc
    : Array.isArray(fields.resultDatas)
      ? fields.resultDatas
      : undefined;
  if (records === undefined) {
    throw new CmsProtocolError('CMS reported success without a statistics array (resultDesc or resultDatas)');
  }

  const bySkill = new Map<number, R>();
  records.forEach((record, index) => {
    const parsed = parseItem(record, index);
    if (!bySkill.has(parsed.skillId)) bySkill.set(parsed.skillId, parsed);
  });
  return [...bySkill.values()].sort((a, b) => a.skillId - b.skillId);
}

/**
 * On failure `resultDesc` is the server's text: shown cleaned of control characters, clipped and redacted, or
 * not at all. A result code gets the same treatment: a server's text in that field must not reach a terminal
 * or make every message as long as it is.
 */
function failureText(desc: unknown, max = MAX_RESULT_TEXT_CHARS): string {
  return typeof desc === 'string' ? cleanText(redact(desc), max).trim() : '';
}

function checkLegacyResult(result: unknown, desc: unknown): void {
  if (result === LEGACY_SUCCESS_RESULT || result === Number(LEGACY_SUCCESS_RESULT)) return;
  if ((typeof result === 'string' && result.trim() !== '') || typeof result === 'number') {
    throw new CmsResultError(failureText(String(result), MAX_RESULT_CODE_CHARS), failureText(desc));
  }
  throw new CmsProtocolError(`CMS answered result ${describeValue(result)}, expected "0" or a failure code`);
}

function checkResultCode(code: unknown, desc: unknown): void {
  if (code === SUCCESS_RESULT_CODE || code === Number(SUCCESS_RESULT_CODE)) return;
  const text = failureText(desc);
  const codeText = failureText(code, MAX_RESULT_CODE_CHARS);
  if (codeText !== '') throw new CmsResultError(codeText, text);
  if (typeof code === 'number' && Number.isSafeInteger(code) && code >= 0) {
    throw new CmsResultError(String(code).padStart(RESULT_CODE_DIGITS, '0'), text);
  }
  throw new CmsProtocolError(
    `CMS answered resultCode ${describeValue(code)}, expected a code such as "0100000"`,
  );
}

function parseRecord(record: unknown, index: number): SkillStats {
  const fields = recordFields(record, index);
  const id = skillIdOf(fields, 'id', index);
  const field = (name: string): number => countOf(fields, name, id);
  // Aligned here, where the data enters: everything downstream compares and stamps aligned window starts.
  const windowStart = alignedWindowStart(field('startTime'));
  const counters = {} as Record<CounterName, number>;
  for (const counter of COUNTERS) counters[counter.name] = field(counter.cmsField);
  return { skillId: id, windowStart, counters };
}

/** An item of the statistics array, which must be a JSON object. */
export function recordFields(record: unknown, index: number): Record<string, unknown> {
  if (!isJsonObject(record)) {
    throw new CmsProtocolError(`statistics record ${index} is ${describeValue(record)}, expected an object`);
  }
  return record;
}

/** The skill id an item carries in `name`: a JSON integer within the product's skill id range. */
export function skillIdOf(fields: Record<string, unknown>, name: string, index: number): number {
  const id = fields[name];
  if (
    typeof id !== 'number' ||
    !Number.isInteger(id) ||
    id < CMS_LIMITS.skillId.min ||
    id > CMS_LIMITS.skillId.max
  ) {
    throw new CmsProtocolError(
      `statistics record ${index}: ${name} is ${describeValue(id)}, expected a skill id from ${CMS_LIMITS.skillId.min} to ${CMS_LIMITS.skillId.max}`,
    );
  }
  return id;
}

/** A count or a time of skill `skillId`: a non-negative Java long, as a number or a string of digits. */
export function countOf(fields: Record<string, unknown>, name: string, skillId: number): number {
  const value = nonNegativeInteger(fields[name]);
  if (value === undefined) {
    throw new CmsProtocolError(
      `skill ${skillId}: ${name} is ${describeValue(fields[name])}, expected a non-negative integer`,
    );
  }
  return value;
}

function nonNegativeInteger(value: unknown): number | undefined {
  if (typeof value === 'number') {
    // `+ 0` turns a JSON -0 into 0, so that it cannot surface as "-0" downstream.
    return Number.isSafeInteger(value) && value >= 0 ? value + 0 : undefined;
  }
  if (typeof value === 'string' && /^\d{1,16}$/.test(value)) {
    const parsed = Number(value);
    return Number.isSafeInteger(parsed) ? parsed : undefined;
  }
  return undefined;
}

/**
 * Server text ends up in error messages and logs. A proxy or a debugging server may echo request headers, so
 * anything shaped like a C2 Authorization value is blanked out before it can reach them; and a caller's call id
 * (the live queue's `callId`), even cut short at the end of an excerpt.
 */
export function redact(text: string): string {
  return text
    .replace(/auth-v2\/[^\s"'\\<>]*/gi, 'auth-v2/[redacted]')
    .replace(/"callId"\s*:\s*(?:"[^"]*"?|\d+)/gi, '"callId":"[redacted]"');
}
