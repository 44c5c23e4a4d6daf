import {
  loadTargets,
  parseNamespace,
  parseTargets,
  readSetting,
  ruleOf,
  type TargetVariables,
  variable,
  wholeNumber,
} from '../lib/config.js';
import { ConfigError, ValidationError } from '../lib/errors.js';
import { type Target, WINDOW_MS } from '../lib/model.js';

// The stage parameters the stack is generated from, checked with the rules the functions apply at cold start
// (lib/), so that a deployment the collector would refuse is refused while packaging, in the same words, naming
// the stage parameter instead of the environment variable serverless.yml fills from it.

export type Vdn = Pick<Target, 'ccId' | 'vdn'>;

/** Stage parameters as the osls entry points hand them on: trimmed text, whether they came as strings or YAML numbers. */
export type StageValues = Readonly<Record<string, string>>;

export interface MonitoringSettings {
  readonly service: string;
  readonly stage: string;
  readonly namespace: string;
  readonly minCallsOffered: number;
  readonly abandonmentRateThreshold: number;
  readonly serviceLevelThreshold: number;
  readonly kpiEvaluationPeriods: number;
  readonly kpiDatapointsToAlarm: number;
  readonly collectorEvaluationPeriods: number;
  readonly dataAgeThresholdSeconds: number;
  readonly windowCoverageThreshold: number;
  /** The live queue's alarm: a caller waiting longer than this, in seconds, ... */
  readonly longestWaitThresholdSeconds: number;
  /** ... in `longestWaitDatapointsToAlarm` of the last `longestWaitEvaluationPeriods` minutes. */
  readonly longestWaitEvaluationPeriods: number;
  readonly longestWaitDatapointsToAlarm: number;
  /** Fixed UTC offset, in minutes, of the midnight "today" starts at. */
  readonly todayUtcOffsetMinutes: number;
}

/** One CMS statistics window, in seconds as CloudWatch periods are given: the period of every VDN alarm and graph. */
export const WINDOW_SECONDS = WINDOW_MS / 1_000;

/** The alarms each watched VDN gets (alarmLogicalIds). */
const ALARMS_PER_VDN = 6;

/**
 * A stack holds at most 500 resources and each watched VDN adds ALARMS_PER_VDN alarms; the VDN alarms get 400 of
 * them, and the functions, roles, API and two resources per schedule take the rest. Beyond this the deployment
 * would fail in CloudFormation, late and less clearly, so packaging refuses it and points at alarmVdns.
 */
export const MAX_WATCHED_VDNS = Math.floor(400 / ALARMS_PER_VDN);

/** UTC offsets that exist, in minutes (UTC−12:00 to UTC+14:00), for the start of "today". */
const UTC_OFFSET_MINUTES = { min: -720, max: 840 };

const EXAMPLE_TARGETS = '[{"ccId":1,"vdn":170,"skillIds":"1-20"}]';

/** The stage parameters serverless.yml passes to CMS_TARGETS, CC_ID, VDN and SKILL_IDS. */
const TARGET_PARAMETERS: TargetVariables = {
  json: 'cmsTargets',
  ccId: 'ccId',
  vdn: 'vdn',
  skillIds: 'skillIds',
};

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const vdnKey = ({ ccId, vdn }: Vdn) => `${ccId}/${vdn}`;
const vdnOf = ({ ccId, vdn }: Vdn): Vdn => ({ ccId, vdn });

/**
 * The VDNs of the functions' own targets, as the collector reads them. A stack without any is refused: its
 * collector would fail every cold start and its query API answer nothing.
 */
export function configuredVdns(values: StageValues): Vdn[] {
  if (Object.values(TARGET_PARAMETERS).every((name) => !values[name])) {
    throw new ConfigError(
      'cmsTargets',
      'is required when ccId, vdn and skillIds are not set (e.g. --param="ccId=1" --param="vdn=170" ' +
        `--param="skillIds=1-20", or --param='cmsTargets=${EXAMPLE_TARGETS}')`,
    );
  }
  return loadTargets(values, TARGET_PARAMETERS).map(vdnOf);
}

/**
 * The VDNs the collector's schedules carry in their `input.targets` (the fleet file), as the collector reads an
 * event's targets. A schedule without `input.targets` collects the functions' own targets (configuredVdns).
 */
export function scheduledVdns(events: unknown): Vdn[] {
  return (Array.isArray(events) ? events : []).flatMap((event: unknown, index) => {
    const schedule = isRecord(event) ? event.schedule : undefined;
    if (!isRecord(schedule) || schedule.input === undefined) return [];
    const name = `collector schedule ${index + 1}${schedule.name ? ` (${String(schedule.name)})` : ''}`;
    let input = schedule.input;
    // EventBridge hands a string input to the function as the JSON it holds.
    if (typeof input === 'string') {
      try {
        input = JSON.parse(input);
      } catch {
        throw new ConfigError(`${name} input`, 'is not valid JSON');
      }
    }
    if (!isRecord(input) || !('targets' in input)) return [];
    try {
      return parseTargets(input.targets, `${name} input.targets`).map(vdnOf);
    } catch (error) {
      if (error instanceof ValidationError) throw new ConfigError(error.field, error.detail);
      throw error;
    }
  });
}

/** Every VDN of the lists once, by call center and VDN, so that the stack does not depend on list order. */
export function collectedVdns(...lists: readonly (readonly Vdn[])[]): Vdn[] {
  const unique = new Map(lists.flat().map((item) => [vdnKey(item), vdnOf(item)]));
  return [...unique.values()].sort((a, b) => a.ccId - b.ccId || a.vdn - b.vdn);
}

/**
 * The VDNs that get alarms and dashboard graphs: all collected ones, `none`, or those `alarmVdns` lists as
 * `ccId/vdn` (e.g. `1/170,1/171`). Naming a VDN the deployment does not collect is refused: its collection
 * alarm would never see a datapoint and stay in ALARM.
 */
export function watchedVdns(vdns: readonly Vdn[], alarmVdns: string): Vdn[] {
  const text = alarmVdns.trim();
  let watched = [...vdns];
  if (text === 'none') watched = [];
  else if (text !== '') {
    const wanted = new Set(
      text.split(',').map((part) => {
        const match = /^\s*(\d{1,9})\s*\/\s*(\d{1,9})\s*$/.exec(part);
        if (!match) {
          throw new ConfigError(
            'alarmVdns',
            `has "${part.trim()}", which is not a call center/VDN like 1/170`,
          );
        }
        return vdnKey({ ccId: Number(match[1]), vdn: Number(match[2]) });
      }),
    );
    const collected = vdns.map(vdnKey);
    const foreign = [...wanted].filter((key) => !collected.includes(key));
    if (foreign.length > 0) {
      throw new ConfigError(
        'alarmVdns',
        `names ${foreign.join(', ')}, which this deployment does not collect (it collects: ${
          collected.join(', ') || 'nothing'
        })`,
      );
    }
    watched = vdns.filter((item) => wanted.has(vdnKey(item)));
  }
  if (watched.length > MAX_WATCHED_VDNS) {
    throw new ConfigError(
      'alarmVdns',
      `must leave at most ${MAX_WATCHED_VDNS} VDNs with alarms (as 1/170,1/171,…), not ${watched.length}: ` +
        `their ${ALARMS_PER_VDN * watched.length} alarms would not fit in one stack (500 CloudFormation resources at ` +
        'most); or split the fleet into stages',
    );
  }
  return watched;
}

/**
 * A threshold (any number from `min` up) or the day's UTC offset (a signed integer): signed and fractional values
 * are why this is not lib's whole-number reading, which the counts use.
 */
function numberSetting(
  values: StageValues,
  name: string,
  { integer = false, min = Number.NEGATIVE_INFINITY } = {},
): number {
  const text = values[name] ?? '';
  const value = Number(text);
  const valid = /^-?\d+(\.\d+)?$/.test(text) && (!integer || Number.isInteger(value)) && value >= min;
  if (!valid) {
    const kind = integer ? 'a whole number' : 'a number';
    throw new ConfigError(
      name,
      `must be ${kind}${min > Number.NEGATIVE_INFINITY ? ` ≥ ${min}` : ''}, got "${text}"`,
    );
  }
  return value;
}

/**
 * The functions' settings that would otherwise only fail at their first cold start, checked while packaging
 * with the functions' own rules.
 */
export function checkFunctionSettings(values: StageValues): void {
  readSetting(values, 'cmsSignature', ruleOf('CMS_SIGNATURE'));
}

/** CloudWatch evaluates at most one day of 5-minute periods. */
const ALARM_PERIODS = wholeNumber(1, 288);
/** ... or of 1-minute periods (the live queue's alarm). */
const MINUTE_ALARM_PERIODS = wholeNumber(1, 1_440);
/** A volume guard beyond any queue's 5-minute window is a typo, not a setting. */
const MAX_MIN_CALLS = 1_000_000;

/** Alarm and dashboard settings from the stage parameters. */
export function monitoringSettings(values: StageValues): MonitoringSettings {
  const settings: MonitoringSettings = {
    service: values.service ?? '',
    stage: values.stage ?? '',
    // Required here, though the collector falls back to its default namespace: the collector role's
    // PutMetricData condition names the parameter as it is.
    namespace: readSetting(values, 'metricNamespace', variable(parseNamespace)),
    minCallsOffered: readSetting(values, 'alarmMinCallsOffered', wholeNumber(1, MAX_MIN_CALLS)),
    abandonmentRateThreshold: numberSetting(values, 'abandonmentRateThreshold', { min: 0 }),
    serviceLevelThreshold: numberSetting(values, 'serviceLevelThreshold', { min: 0 }),
    kpiEvaluationPeriods: readSetting(values, 'kpiAlarmEvaluationPeriods', ALARM_PERIODS),
    kpiDatapointsToAlarm: readSetting(values, 'kpiAlarmDatapointsToAlarm', ALARM_PERIODS),
    collectorEvaluationPeriods: readSetting(values, 'collectorAlarmEvaluationPeriods', ALARM_PERIODS),
    dataAgeThresholdSeconds: numberSetting(values, 'dataAgeThresholdSeconds', { min: 0 }),
    windowCoverageThreshold: numberSetting(values, 'windowCoverageThreshold', { min: 0 }),
    longestWaitThresholdSeconds: numberSetting(values, 'longestWaitThresholdSeconds', { min: 0 }),
    longestWaitEvaluationPeriods: readSetting(
      values,
      'longestWaitAlarmEvaluationPeriods',
      MINUTE_ALARM_PERIODS,
    ),
    longestWaitDatapointsToAlarm: readSetting(
      values,
      'longestWaitAlarmDatapointsToAlarm',
      MINUTE_ALARM_PERIODS,
    ),
    todayUtcOffsetMinutes: numberSetting(values, 'todayUtcOffsetMinutes', {
      integer: true,
      min: UTC_OFFSET_MINUTES.min,
    }),
  };
  if (settings.windowCoverageThreshold > 100) {
    throw new ConfigError(
      'windowCoverageThreshold',
      `must be a percentage up to 100, got ${settings.windowCoverageThreshold}`,
    );
  }
  if (settings.todayUtcOffsetMinutes > UTC_OFFSET_MINUTES.max) {
    throw new ConfigError(
      'todayUtcOffsetMinutes',
      `must be a UTC offset from ${UTC_OFFSET_MINUTES.min} to ${UTC_OFFSET_MINUTES.max} minutes, got ${settings.todayUtcOffsetMinutes}`,
    );
  }
  if (settings.kpiDatapointsToAlarm > settings.kpiEvaluationPeriods) {
    throw new ConfigError(
      'kpiAlarmDatapointsToAlarm',
      `must not exceed kpiAlarmEvaluationPeriods (${settings.kpiEvaluationPeriods})`,
    );
  }
  if (settings.longestWaitDatapointsToAlarm > settings.longestWaitEvaluationPeriods) {
    throw new ConfigError(
      'longestWaitAlarmDatapointsToAlarm',
      `must not exceed longestWaitAlarmEvaluationPeriods (${settings.longestWaitEvaluationPeriods})`,
    );
  }
  return settings;
}

/** What a collector run needs on top of its closing wait: CMS, publishing, and Lambda's own margin. */
const RUN_SECONDS = 30;

/** Lambda's timeout range, in seconds. */
const LAMBDA_TIMEOUT_SECONDS = { min: 1, max: 900 };

/**
 * The closing-read settings, read as the collector reads them, and the timeout they need: a run that waits up
 * to `closingReadReachSeconds` for its closing read must still have RUN_SECONDS left, or it would never take
 * the read (and the closing-reads alarm would go off for good).
 */
export function closingReadTiming(values: StageValues) {
  const guardSeconds = readSetting(values, 'closingReadGuardSeconds', ruleOf('CLOSING_READ_GUARD_SECONDS'));
  const reachSeconds = readSetting(values, 'closingReadReachSeconds', ruleOf('CLOSING_READ_REACH_SECONDS'));
  const { min, max } = LAMBDA_TIMEOUT_SECONDS;
  const timeoutSeconds = readSetting(values, 'collectorTimeoutSeconds', wholeNumber(min, max));
  if (reachSeconds > 0 && timeoutSeconds < reachSeconds + RUN_SECONDS) {
    throw new ConfigError(
      'collectorTimeoutSeconds',
      `must be at least ${reachSeconds + RUN_SECONDS} (closingReadReachSeconds ${reachSeconds} + ${RUN_SECONDS} s ` +
        `for the run itself), got ${timeoutSeconds}; or lower closingReadReachSeconds (0 turns closing reads off)`,
    );
  }
  return { guardSeconds, reachSeconds, timeoutSeconds };
}
