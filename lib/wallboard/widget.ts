import * as v from 'valibot';
import { ValidationError } from '../errors.js';
import { CMS_LIMITS } from '../model.js';
import { integerIn, isJsonObject, issueField, wholeNumberOf } from '../validation.js';

// The CloudWatch dashboard custom-widget event: the widget's `params` arrive as top-level keys (and again under
// `widgetContext.params`), with the viewer's context (time zone, theme, size) in `widgetContext`; an event with
// `describe: true` asks for the widget's documentation, which the console shows when the widget is added.

/** Most skills a widget may list; beyond, a dashboard tile is no longer readable anyway. */
export const MAX_ROWS_LIMIT = 500;

interface WidgetParams {
  readonly ccId: number;
  readonly vdn: number;
  readonly maxRows?: number;
}

interface WidgetTimeZone {
  readonly offsetMinutes: number;
  readonly label: string;
}

export type WidgetRequest =
  | { readonly describe: true }
  | { readonly describe: false; readonly params: WidgetParams; readonly timeZone: WidgetTimeZone };

export const WIDGET_DOCS = `## Skill-queue wallboard (cms-skill-metrics)

Every configured skill queue of one VDN, live from Huawei CC-CMS: the calls waiting now, the longest current
wait and the agents available / logged on (when CMS offers the live queue), then offered, answered and abandoned
calls, calls answered within 20 s, abandonment rate, 20-second service level and average wrap-up time of the
current 5-minute window, worst first, coloured red/amber/green; the VDN total, the VDN's day so far (since
midnight in the function's \`TIME_ZONE\`, read back from the VDN's own CloudWatch counters, never per-skill
series) and the collector's health below.

Reads CMS through the same cache as the query API, so any number of viewers costs CMS one call per VDN per
cache period. Thresholds come from the function's \`WALLBOARD_THRESHOLDS\` setting.

### Parameters
\`\`\` yaml
ccId: 1        # call center
vdn: 170       # VDN; the two must name a VDN of this function's tenant
maxRows: 50    # skills listed at most (1-${MAX_ROWS_LIMIT}); the others are counted below the table
\`\`\`
`;

const required = <T extends v.GenericSchema>(schema: T) =>
  v.pipe(
    v.unknown(),
    v.check((value) => value !== undefined, 'is required in the widget params'),
    schema,
  );

const paramsSchema = v.object({
  ccId: required(integerIn(CMS_LIMITS.ccId)),
  vdn: required(integerIn(CMS_LIMITS.vdn)),
  maxRows: v.optional(integerIn({ min: 1, max: MAX_ROWS_LIMIT })),
});

/** Dashboard JSON may carry numbers as strings ("170"): whole-number strings are read as numbers. */
function numeric(value: unknown): unknown {
  return typeof value === 'string' ? (wholeNumberOf(value) ?? value) : value;
}

/** Real offsets lie within ±14 h; anything else is not a time zone. */
const MAX_OFFSET_MINUTES = 14 * 60;

/** `+05:30` → 330; undefined for anything else. */
function isoOffsetMinutes(text: unknown): number | undefined {
  const match = typeof text === 'string' ? /^([+-])(\d{2}):(\d{2})$/.exec(text) : null;
  if (!match) return undefined;
  const minutes = Number(match[2]) * 60 + Number(match[3]);
  return match[1] === '-' ? -minutes : minutes;
}

/**
 * The viewer's zone. `offsetISO` says east or west without ambiguity, so it rules; `offsetInMinutes` (east
 * positive, like the ISO form) is the fallback. Anything unusable falls back to UTC, labelled so.
 */
function timeZoneOf(context: Record<string, unknown>): WidgetTimeZone {
  const zone = isJsonObject(context.timezone) ? context.timezone : {};
  const offset = isoOffsetMinutes(zone.offsetISO) ?? zone.offsetInMinutes;
  const label = typeof zone.label === 'string' && zone.label.trim() !== '' ? zone.label.slice(0, 40) : 'UTC';
  return typeof offset === 'number' && Number.isInteger(offset) && Math.abs(offset) <= MAX_OFFSET_MINUTES
    ? { offsetMinutes: offset, label }
    : { offsetMinutes: 0, label: 'UTC' };
}

/** Reads a custom-widget event; throws ValidationError naming the parameter when one is malformed. */
export function widgetRequestOf(event: unknown): WidgetRequest {
  const record = isJsonObject(event) ? event : {};
  if (record.describe === true) return { describe: true };
  const context = isJsonObject(record.widgetContext) ? record.widgetContext : {};
  const nested = isJsonObject(context.params) ? context.params : {};
  const pick = (name: keyof WidgetParams) => numeric(record[name] ?? nested[name]);
  const result = v.safeParse(paramsSchema, {
    ccId: pick('ccId'),
    vdn: pick('vdn'),
    maxRows: pick('maxRows'),
  });
  if (!result.success) {
    const [issue] = result.issues;
    throw new ValidationError(issueField(issue) || 'params', issue?.message ?? 'is invalid');
  }
  const { ccId, vdn, maxRows } = result.output;
  const params: WidgetParams = { ccId, vdn, ...(maxRows === undefined ? {} : { maxRows }) };
  return { describe: false, params, timeZone: timeZoneOf(context) };
}
