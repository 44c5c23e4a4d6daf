import * as v from 'valibot';

/** An integer within an inclusive range, with messages that read after a field name. */
export const integerIn = ({ min, max }: { readonly min: number; readonly max: number }) =>
  v.pipe(
    v.number('must be an integer'),
    v.integer('must be an integer'),
    v.minValue(min, `must be between ${min} and ${max}`),
    v.maxValue(max, `must be between ${min} and ${max}`),
  );

/** The field an issue is about, as `root[1].skillIds[3]` (without a root: `skillIds[3]`). */
export function issueField(issue: v.BaseIssue<unknown> | undefined, root = ''): string {
  const path = (issue?.path ?? [])
    .map((item) => (typeof item.key === 'number' ? `[${item.key}]` : `.${String(item.key)}`))
    .join('');
  return `${root}${path}`.replace(/^\./, '');
}
