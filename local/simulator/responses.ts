import { SUCCESS_RESULT_CODE } from '../../lib/cms/result-codes.js';
import type { CmsSkillRecord } from './traffic.js';

/** Response bodies of the simulated endpoint, normal and deliberately broken. */

/** Which statistics arrays a success carries: CMS 8.14+ sends both, older versions only `resultDatas`. */
export type ResponseFields = 'both' | 'resultDesc' | 'resultDatas';

/** A success body from already serialized statistics objects (joined, not re-serialized, for large batches). */
export function successBody(recordTexts: readonly string[], fields: ResponseFields): string {
  const list = `[${recordTexts.join(',')}]`;
  const datas = fields === 'resultDesc' ? '' : `,"resultDatas":${list}`;
  const desc = fields === 'resultDatas' ? '' : `,"resultDesc":${list}`;
  return `{"result":"0","resultCode":"${SUCCESS_RESULT_CODE}"${datas}${desc}}`;
}

export function failureBody(code: string, text: string): string {
  return JSON.stringify({
    result: code === SUCCESS_RESULT_CODE ? '0' : '1',
    resultCode: code,
    resultDesc: text,
  });
}

/** A short JSON body for answers that carry no CMS result (401, 404, 405, 413, injected statuses). */
export function errorBody(message: string): string {
  return JSON.stringify({ message });
}

/** The documented shape of CMS's 403 once it has locked the caller's IP. */
export function ipLockedBody(): string {
  return JSON.stringify({
    status: 403,
    error: 'Forbidden',
    message: 'the IP address is locked after too many authentication failures',
  });
}

/** What a misconfigured proxy in front of CMS answers: a page, not JSON. */
export const MALFORMED_BODY = '<html><body><h1>502 Bad Gateway</h1></body></html>';

/**
 * The first half of a body. A proper prefix of a JSON object text is never valid JSON (its closing brace is the
 * last character), so the result always fails to parse.
 */
export function truncate(body: string): string {
  return body.slice(0, Math.max(1, Math.floor(body.length / 2)));
}

/**
 * A success whose first item has one count (`asText`) as a non-numeric string and another (`asObject`) as an
 * object.
 */
export function wrongTypesBody<T extends object>(
  records: readonly T[],
  fields: ResponseFields,
  [asText, asObject]: readonly [keyof T & string, keyof T & string],
): string {
  const texts = records.map((record, index) =>
    index === 0
      ? JSON.stringify({ ...record, [asText]: 'n/a', [asObject]: { value: record[asObject] } })
      : JSON.stringify(record),
  );
  return successBody(texts, fields);
}

/** A success whose first item carries `changes` instead of its own values of those fields. */
export function changedFirstBody<T extends object>(
  records: readonly T[],
  fields: ResponseFields,
  changes: Partial<T>,
): string {
  return successBody(
    records.map((record, index) => JSON.stringify(index === 0 ? { ...record, ...changes } : record)),
    fields,
  );
}

/**
 * A valid success of exactly `bytes` bytes, grown with an unknown field of blanks (JSON readers must ignore
 * unknown fields); a body already that large is returned as it is.
 */
export function padBody(body: string, bytes: number): string {
  const opening = ',"padding":"';
  const closing = '"}';
  const fill = bytes - (Buffer.byteLength(body, 'utf8') - 1 + opening.length + closing.length);
  if (fill < 0) return body;
  return `${body.slice(0, -1)}${opening}${' '.repeat(fill)}${closing}`;
}

/** A success where one record (that of `skillId`, or the first) carries `startTime` instead of its own. */
export function startTimeBody(
  records: readonly CmsSkillRecord[],
  fields: ResponseFields,
  startTime: number,
  skillId?: number,
): string {
  const target = skillId ?? records[0]?.id;
  const texts = records.map((record) =>
    JSON.stringify(record.id === target ? { ...record, startTime } : record),
  );
  return successBody(texts, fields);
}
