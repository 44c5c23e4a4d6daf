import { CMS_LIMITS } from './model.js';
import { quoted } from './text.js';

/** The largest list an operator may write by ranges: every skill id the API knows. */
const MAX_ID = CMS_LIMITS.skillId.max;

/**
 * Parses a skill list such as `1-20,35,40-42` into sorted, de-duplicated ids. Throws a plain Error whose message
 * says which part is wrong; callers wrap it into the error type of their layer with the field or variable name.
 */
export function parseSkillList(text: string): number[] {
  const ids = new Set<number>();
  const parts = text.split(',').map((part) => part.trim());
  if (parts.length === 1 && parts[0] === '') throw new Error('the skill list is empty');
  for (const part of parts) {
    const match = /^(\d{1,5})(?:\s*-\s*(\d{1,5}))?$/.exec(part);
    if (!match) throw new Error(`${quoted(part)} is neither a skill id nor a range like 1-20`);
    const first = Number(match[1]);
    const last = match[2] === undefined ? first : Number(match[2]);
    for (const id of [first, last]) {
      if (id < CMS_LIMITS.skillId.min || id > MAX_ID) {
        throw new Error(`skill id ${id} is outside ${CMS_LIMITS.skillId.min}-${MAX_ID}`);
      }
    }
    if (last < first) throw new Error(`the range ${quoted(part)} runs backwards`);
    for (let id = first; id <= last; id += 1) ids.add(id);
  }
  return normalizeSkillIds(ids);
}

/** Skill ids as every layer keeps them: each once, ascending, so equal lists compare and cache alike. */
export function normalizeSkillIds(ids: Iterable<number>): number[] {
  return [...new Set(ids)].sort((a, b) => a - b);
}

/** The shortest range notation of a set of ids, for logs and tables (`1-20,35`). */
export function formatSkillList(ids: Iterable<number>): string {
  const sorted = normalizeSkillIds(ids);
  const ranges: string[] = [];
  for (let start = 0; start < sorted.length; ) {
    let end = start;
    while (end + 1 < sorted.length && sorted[end + 1] === (sorted[end] ?? 0) + 1) end += 1;
    ranges.push(start === end ? `${sorted[start]}` : `${sorted[start]}-${sorted[end]}`);
    start = end + 1;
  }
  return ranges.join(',');
}
