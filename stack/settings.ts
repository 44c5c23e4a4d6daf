import { CMS_RULES } from '../lib/cms/settings.js';
import { CLOSING_READ_RULES } from '../lib/collector/closing-read.js';
import { parseNamespace, readSetting, variable, wholeNumber } from '../lib/config/rules.js';
import { loadTargets, parseTargets, tenantOf } from '../lib/config/targets.js';
import { ConfigError, ValidationError } from '../lib/errors.js';
import { SINK_RULE } from '../lib/metrics/sinks.js';
import { type Target, WINDOW_MS } from '../lib/model.js';
import { cleanText, quoted } from '../lib/text.js';
import { isJsonObject, readJsonObject, wholeNumberOf } from '../lib/validation.js';
import { TIME_ZONE_RULE } from '../lib/wallboard/time-zone.js';

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
  /**
   * The contact centre's IANA time zone: the KPI alarms' 5-minute windows follow its clock, and "today" starts
   * at its midnight, daylight saving time included.
   */
  readonly timeZone: string;
  /** From when the dashboard knows the zone's clock changes (lib/wallboard/time-zone.ts, `clockChanges`), epoch ms. */
  readonly clockChangesFrom: number;
}

/** One CMS statistics window, in seconds as CloudWatch periods are given: the period of every VDN alarm and graph. */
export const WINDOW_SECONDS = WINDOW_MS / 1_000;

const EXAMPLE_TARGETS = '[{"ccId":1,"vdn":170,"skillIds":"1-20"}]';

/** The variables serverless.yml fills from the target stage parameters, and those parameters. */
const TARGET_PARAMETERS = {
  CMS_TARGETS: 'cmsTargets',
  CC_ID: 'ccId',
  VDN: 'vdn',
  SKILL_IDS: 'skillIds',
} as const;

/** A variable's name in a message, as a stage parameter; `VDN 9 of call center 1` is a VDN, not the variable. */
const TARGET_VARIABLE_NAME = /\b(CMS_TARGETS|CC_ID|VDN|SKILL_IDS)\b(?! \d)/g;

/**
 * The targets as the functions read them: the stage parameters handed to the functions' own loader as the
 * environment serverless.yml makes of them, its problems worded with the parameters' names.
 */
function loadStageTargets(values: StageValues): Target[] {
  const env = Object.fromEntries(
    Object.entries(TARGET_PARAMETERS).map(([variable, parameter]) => [variable, values[parameter]]),
  );
  try {
    return loadTargets(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const inStageWords = (text: string) =>
      text.replace(TARGET_VARIABLE_NAME, (name) => TARGET_PARAMETERS[name as keyof typeof TARGET_PARAMETERS]);
    throw new ConfigError(
      inStageWords(error.variable),
      inStageWords(error.message.slice(error.variable.length + 2)),
    );
  }
}

const vdnKey = ({ ccId, vdn }: Vdn) => `${ccId}/${vdn}`;
const vdnName = ({ ccId, vdn }: Vdn) => `VDN ${vdn} of call center ${ccId}`;

/** A target and where the stage parameters list it, so that a conflict can name both places. */
export interface ListedTarget {
  readonly target: Target;
  /** The parameter and entry: `cmsTargets[1]`, `vdn`, `collector schedule 2 (cc1-b) input.targets[0]`. */
  readonly where: string;
}

/**
 * The functions' own targets, as the collector reads them. A stack without any is refused: its collector would
 * fail every cold start and its query API answer nothing.
 */
export function configuredTargets(values: StageValues): ListedTarget[] {
  if (Object.values(TARGET_PARAMETERS).every((name) => !values[name])) {
    throw new ConfigError(
      'cmsTargets',
      'is required when ccId, vdn and skillIds are not set (e.g. --param="ccId=1" --param="vdn=170" ' +
        `--param="skillIds=1-20", or --param='cmsTargets=${EXAMPLE_TARGETS}')`,
    );
  }
  const json = Boolean(values[TARGET_PARAMETERS.CMS_TARGETS]);
  return loadStageTargets(values).map((target, index) => ({
    target,
    where: json ? `${TARGET_PARAMETERS.CMS_TARGETS}[${index}]` : TARGET_PARAMETERS.VDN,
  }));
}

/**
 * The targets the collector's schedules carry in their `input.targets` (the fleet file), as the collector reads
 * an event's targets. A schedule without `input.targets` collects the functions' own targets (configuredTargets).
 * A VDN in two schedules is refused: each run publishes the roll-up of the skills it read under the window's
 * timestamp, so two partial roll-ups would meet there and CloudWatch's Maximum would keep the larger part.
 */
export function scheduledTargets(events: unknown): ListedTarget[] {
  const listed = (Array.isArray(events) ? events : []).flatMap((event: unknown, index) => {
    const schedule = isJsonObject(event) ? event.schedule : undefined;
    if (!isJsonObject(schedule) || schedule.input === undefined) return [];
    const name = `collector schedule ${index + 1}${schedule.name ? ` (${cleanText(String(schedule.name), 60)})` : ''}`;
    let input: unknown = schedule.input;
    // EventBridge hands a string input to the function as the JSON it holds.
    if (typeof input === 'string') {
      const reading = readJsonObject(input);
      if (reading.problem === 'not JSON') throw new ConfigError(`${name} input`, 'is not valid JSON');
      input = reading.problem === undefined ? reading.object : reading.value;
    }
    if (!isJsonObject(input) || !('targets' in input)) return [];
    try {
      return parseTargets(input.targets, `${name} input.targets`).map((target, position) => ({
        target,
        where: `${name} input.targets[${position}]`,
      }));
    } catch (error) {
      if (error instanceof ValidationError) throw new ConfigError(error.field, error.detail);
      throw error;
    }
  });
  const first = new Map<string, ListedTarget>();
  for (const item of listed) {
    const earlier = first.get(vdnKey(item.target));
    if (earlier) {
      throw new ConfigError(
        item.where,
        `${vdnName(item.target)} is in ${earlier.where} already: keep each VDN in one schedule, since each ` +
          "run publishes the VDN's roll-up of the skills it read and two partial roll-ups would mix",
      );
    }
    first.set(vdnKey(item.target), item);
  }
  return listed;
}

/**
 * Every collected VDN once, by call center and VDN, so that the stack does not depend on list order; the first
 * listing gives its skills (the functions' own targets come first). A VDN belongs to one tenant: listed in
 * several places, it must name the same tenant in each (or none in each), else packaging is refused.
 */
export function collectedTargets(...lists: readonly (readonly ListedTarget[])[]): Target[] {
  const unique = new Map<string, ListedTarget>();
  for (const item of lists.flat()) {
    const key = vdnKey(item.target);
    const earlier = unique.get(key);
    if (!earlier) unique.set(key, item);
    else if (tenantOf(earlier.target) !== tenantOf(item.target)) {
      const tenant = (target: Target) => (target.tenant ? `tenant "${target.tenant}"` : 'no tenant');
      throw new ConfigError(
        item.where,
        `puts ${vdnName(item.target)} in ${tenant(item.target)}, ${earlier.where} in ${tenant(earlier.target)}: ` +
          'a VDN belongs to one tenant, so name the same tenant wherever it is listed',
      );
    }
  }
  return [...unique.values()].map((item) => item.target).sort((a, b) => a.ccId - b.ccId || a.vdn - b.vdn);
}

/**
 * The VDNs that get alarms and graphs on the stack's dashboard: all collected ones, `none`, or those `alarmVdns`
 * lists as `ccId/vdn` (e.g. `1/170,1/171`). Naming a VDN the deployment does not collect is refused: its
 * collection alarm would never see a datapoint and stay in ALARM.
 */
export function watchedVdns<T extends Vdn>(vdns: readonly T[], alarmVdns: string): T[] {
  const text = alarmVdns.trim();
  if (text === 'none') return [];
  if (text === '') return [...vdns];
  const wanted = new Set(
    text.split(',').map((part) => {
      const [ccId, vdn, ...rest] = part.split('/').map(wholeNumberOf);
      if (ccId === undefined || vdn === undefined || rest.length > 0) {
        throw new ConfigError(
          'alarmVdns',
          `has ${quoted(part.trim())}, which is not a call center/VDN like 1/170`,
        );
      }
      return vdnKey({ ccId, vdn });
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
  return vdns.filter((item) => wanted.has(vdnKey(item)));
}

/** A threshold: any number from `min` up; fractional values are why this is not lib's whole-number reading. */
function numberSetting(values: StageValues, name: string, { min = Number.NEGATIVE_INFINITY } = {}): number {
  const text = values[name] ?? '';
  const value = Number(text);
  if (!(/^-?\d+(\.\d+)?$/.test(text) && value >= min)) {
    throw new ConfigError(
      name,
      `must be a number${min > Number.NEGATIVE_INFINITY ? ` ≥ ${min}` : ''}, got ${quoted(text)}`,
    );
  }
  return value;
}

/**
 * The functions' settings that would otherwise only fail at their first cold start, checked while packaging
 * with the functions' own rules. The CMS address is written into the template as its parameter's default, so a
 * URL with credentials in it, or one CMS would be spoken to in the clear, must not get that far; it may be left
 * empty, which CloudFormation refuses at deploy time.
 */
export function checkFunctionSettings(values: StageValues): void {
  readSetting(values, 'cmsSignature', CMS_RULES.CMS_SIGNATURE);
  readSetting(values, 'cmsRefusalLimit', CMS_RULES.CMS_REFUSAL_LIMIT);
  readSetting(values, 'cmsRefusalPeriodSeconds', CMS_RULES.CMS_REFUSAL_PERIOD_SECONDS);
  if (values.cmsBaseUrl) readSetting(values, 'cmsBaseUrl', CMS_RULES.CMS_BASE_URL);
  readSetting(values, 'metricsSink', SINK_RULE);
}

/** CloudWatch evaluates at most one day of 5-minute periods. */
const ALARM_PERIODS = wholeNumber(1, 288);
/** ... or of 1-minute periods (the live queue's alarm). */
const MINUTE_ALARM_PERIODS = wholeNumber(1, 1_440);
/** A volume guard beyond any queue's 5-minute window is a typo, not a setting. */
const MAX_MIN_CALLS = 1_000_000;

/** The dashboard knows the zone's clock changes from two days before the start of the packaging year. */
function clockChangesFrom(now: number): number {
  return Date.UTC(new Date(now).getUTCFullYear(), 0, 1) - 2 * 86_400_000;
}

/** Alarm and dashboard settings from the stage parameters, packaged at `now`. */
export function monitoringSettings(values: StageValues, now = Date.now()): MonitoringSettings {
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
    timeZone: readSetting(values, 'timeZone', TIME_ZONE_RULE),
    clockChangesFrom: clockChangesFrom(now),
  };
  if (settings.windowCoverageThreshold > 100) {
    throw new ConfigError(
      'windowCoverageThreshold',
      `must be a percentage up to 100, got ${settings.windowCoverageThreshold}`,
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
  const guardSeconds = readSetting(
    values,
    'closingReadGuardSeconds',
    CLOSING_READ_RULES.CLOSING_READ_GUARD_SECONDS,
  );
  const reachSeconds = readSetting(
    values,
    'closingReadReachSeconds',
    CLOSING_READ_RULES.CLOSING_READ_REACH_SECONDS,
  );
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
