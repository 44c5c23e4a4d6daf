import * as v from 'valibot';

/** An integer within an inclusive range, with messages that read after a field name. */
export const integerIn = ({ min, max }: { readonly min: number; readonly max: number }) =>
  v.pipe(
    v.number('must be an integer'),
    v.integer('must be an integer'),
    v.minValue(min, `must be between ${min} and ${max}`),
    v.maxValue(max, `must be between ${min} and ${max}`),
  );

/**
 * Reads text as a whole number within an inclusive range: digits only (no sign, no decimals, no exponent), so
 * `1e3` or `-1` in a setting is refused rather than read as something else. Throws a plain Error whose message
 * reads after the name of the variable or flag the text came from.
 */
export function parseWholeNumber(
  text: string,
  { min, max }: { readonly min: number; readonly max: number },
): number {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed)) throw new Error(`must be a whole number, got "${trimmed}"`);
  const value = Number(trimmed);
  if (value < min || value > max) throw new Error(`must be between ${min} and ${max}, got ${value}`);
  return value;
}

/** The field an issue is about, as `root[1].skillIds[3]` (without a root: `skillIds[3]`). */
export function issueField(issue: v.BaseIssue<unknown> | undefined, root = ''): string {
  const path = (issue?.path ?? [])
    .map((item) => (typeof item.key === 'number' ? `[${item.key}]` : `.${String(item.key)}`))
    .join('');
  return `${root}${path}`.replace(/^\./, '');
}
