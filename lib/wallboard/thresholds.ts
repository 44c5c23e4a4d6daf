import * as v from 'valibot';
import { ConfigError } from '../errors.js';
import { CMS_LIMITS } from '../model.js';
import { parseSkillList } from '../skills.js';
import { integerIn, issueField } from '../validation.js';

// Red/amber/green thresholds of the wallboard: built-in defaults, per-VDN defaults and per-skill overrides from
// WALLBOARD_THRESHOLDS, a JSON list such as
//
//   [{"ccId":1,"vdn":170,"abandonmentRate":{"amber":5,"red":10}},
//    {"ccId":1,"vdn":170,"skillIds":"12,14","serviceLevel":{"amber":90,"red":85}}]
//
// An entry without `skillIds` sets the VDN's defaults, one with `skillIds` overrides them for those skills; every
// field is optional and falls back to the level above.

export type Level = 'red' | 'amber' | 'green';

/** Higher is worse (abandonment, wrap-up): beyond `amber` is amber, beyond `red` is red. */
export interface UpperBand {
  readonly amber: number;
  readonly red: number;
}

/** Lower is worse (service level): below `amber` is amber, below `red` is red. */
export interface LowerBand {
  readonly amber: number;
  readonly red: number;
}

export interface Thresholds {
  /** Percent of offered calls abandoned. */
  readonly abandonmentRate: UpperBand;
  /** Percent of offered calls answered within 20 s. */
  readonly serviceLevel: LowerBand;
  /** Seconds. */
  readonly averageWrapUp: UpperBand;
  /** Seconds the longest-waiting call has waited, now (the live queue). */
  readonly longestWait: UpperBand;
  /** Rates of a window with fewer offered calls (or wrap-ups) are shown but not judged: 1 of 1 is no trend. */
  readonly minCalls: number;
}

const DEFAULT_THRESHOLDS: Thresholds = {
  abandonmentRate: { amber: 5, red: 10 },
  serviceLevel: { amber: 80, red: 70 },
  averageWrapUp: { amber: 60, red: 120 },
  // A common wallboard rule: a caller waiting more than two minutes is an emergency.
  longestWait: { amber: 60, red: 120 },
  minCalls: 5,
};

export function upperLevel(value: number, band: UpperBand): Level {
  if (value > band.red) return 'red';
  if (value > band.amber) return 'amber';
  return 'green';
}

export function lowerLevel(value: number, band: LowerBand): Level {
  if (value < band.red) return 'red';
  if (value < band.amber) return 'amber';
  return 'green';
}

export interface ThresholdBook {
  forVdn(ccId: number, vdn: number): Thresholds;
  forSkill(ccId: number, vdn: number, skillId: number): Thresholds;
}

const percent = v.pipe(
  v.number('must be a number'),
  v.minValue(0, 'must be 0-100'),
  v.maxValue(100, 'must be 0-100'),
);
const seconds = v.pipe(v.number('must be a number'), v.minValue(0, 'must be ≥ 0'));

/**
 * An object of known fields whose problems read in plain words after the field's path: not an object, a field
 * missing, a field it does not know. The schema library's own wording ("Invalid key: Expected …") names types
 * and keys as a programmer would.
 */
function fieldsOf<T extends v.ObjectEntries>(entries: T, example: string) {
  const known = Object.keys(entries).join(', ');
  return v.strictObject(entries, (issue) => {
    if (issue.expected === 'never') return `is not a known field (expected ${known})`;
    if (issue.input === undefined && (issue.path?.length ?? 0) > 0) return 'is required';
    return `must be an object such as ${example}`;
  });
}

const BAND_EXAMPLE = '{"amber":5,"red":10}';

const upperBand = (value: typeof percent | typeof seconds) =>
  v.pipe(
    fieldsOf({ amber: value, red: value }, BAND_EXAMPLE),
    v.check((band) => band.amber <= band.red, 'amber must not be above red (higher is worse)'),
  );

const ENTRY_EXAMPLE = '{"ccId":1,"vdn":170,"abandonmentRate":{"amber":5,"red":10}}';

const entrySchema = fieldsOf(
  {
    ccId: integerIn(CMS_LIMITS.ccId),
    vdn: integerIn(CMS_LIMITS.vdn),
    skillIds: v.optional(v.string('must be a skill list like "1-20,35"')),
    abandonmentRate: v.optional(upperBand(percent)),
    serviceLevel: v.optional(
      v.pipe(
        fieldsOf({ amber: percent, red: percent }, '{"amber":80,"red":70}'),
        v.check((band) => band.amber >= band.red, 'amber must not be below red (lower is worse)'),
      ),
    ),
    averageWrapUp: v.optional(upperBand(seconds)),
    longestWait: v.optional(upperBand(seconds)),
    minCalls: v.optional(integerIn({ min: 1, max: 10_000 })),
  },
  ENTRY_EXAMPLE,
);

type Entry = v.InferOutput<typeof entrySchema>;
type Overrides = Partial<Thresholds>;

const VARIABLE = 'WALLBOARD_THRESHOLDS';

const THRESHOLD_FIELDS = [
  'abandonmentRate',
  'serviceLevel',
  'averageWrapUp',
  'longestWait',
  'minCalls',
] as const;

/** The fields an entry sets; absent ones are left out, so that they fall back instead of erasing. */
function overridesOf(entry: Entry): Overrides {
  return Object.fromEntries(
    THRESHOLD_FIELDS.filter((field) => entry[field] !== undefined).map((field) => [field, entry[field]]),
  ) as Overrides;
}

/** Reads WALLBOARD_THRESHOLDS (absent or blank: the built-in defaults everywhere); ConfigError names the field. */
export function parseThresholds(text: string | undefined): ThresholdBook {
  const trimmed = text?.trim() ?? '';
  const vdnDefaults = new Map<string, Thresholds>();
  const skillOverrides = new Map<string, Overrides>();
  if (trimmed !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      throw new ConfigError(VARIABLE, `is not valid JSON (expected [${ENTRY_EXAMPLE}])`);
    }
    const result = v.safeParse(v.array(entrySchema, 'must be a list of threshold entries'), parsed);
    if (!result.success) {
      const [issue] = result.issues;
      const field = issueField(issue);
      throw new ConfigError(VARIABLE, `${field ? `${field} ` : ''}${issue?.message ?? 'is invalid'}`);
    }
    // VDN entries first, so that skill overrides apply on top of their VDN's defaults whatever the order.
    for (const entry of result.output.filter((item) => item.skillIds === undefined)) {
      const key = `${entry.ccId}/${entry.vdn}`;
      vdnDefaults.set(key, { ...(vdnDefaults.get(key) ?? DEFAULT_THRESHOLDS), ...overridesOf(entry) });
    }
    result.output.forEach((entry, index) => {
      if (entry.skillIds === undefined) return;
      let ids: number[];
      try {
        ids = parseSkillList(entry.skillIds);
      } catch (error) {
        throw new ConfigError(VARIABLE, `[${index}].skillIds ${(error as Error).message}`);
      }
      for (const id of ids) {
        const key = `${entry.ccId}/${entry.vdn}/${id}`;
        skillOverrides.set(key, { ...skillOverrides.get(key), ...overridesOf(entry) });
      }
    });
  }
  const forVdn = (ccId: number, vdn: number) => vdnDefaults.get(`${ccId}/${vdn}`) ?? DEFAULT_THRESHOLDS;
  return {
    forVdn,
    forSkill: (ccId, vdn, skillId) => ({
      ...forVdn(ccId, vdn),
      ...skillOverrides.get(`${ccId}/${vdn}/${skillId}`),
    }),
  };
}
