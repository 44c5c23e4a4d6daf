'use strict';

/**
 * Per-VDN monitoring, generated from the deployment's own configuration: one set of VDN alarms (abandonment
 * rate, service level, collection failing, stale data, closing reads missing) and one row of dashboard graphs
 * (with the day so far) for every VDN the
 * collector reads, so that adding a VDN to `ccId`/`vdn`, `cmsTargets` or a fleet schedule is all it takes to
 * watch it.
 *
 * serverless.yml reads `resources` and `dashboardBody` through osls' file variable source
 * (`${file(./stack/vdn-monitoring.cjs):resources}`). osls 4.3 calls each with `{ options,
 * resolveConfigurationProperty, resolveVariable }` (no `params`), so stage parameters are read with
 * `resolveVariable('param:…')`. Everything above the entry points is pure and exported for the tests.
 *
 * CommonJS because osls loads the file with require(), and Node.js before 20.19 cannot require() an ES
 * module.
 */

/** CMS_LIMITS of lib/model.ts, repeated because osls cannot load the TypeScript sources. */
const LIMITS = {
  ccId: { min: 1, max: 65_535 },
  vdn: { min: 1, max: 5_000 },
  skillId: { min: 1, max: 5_000 },
};

/** One CMS statistics window: the period of every VDN alarm and graph. */
const WINDOW_SECONDS = 300;

/** The alarms each watched VDN gets (alarmLogicalIds). */
const ALARMS_PER_VDN = 5;

/**
 * A stack holds at most 500 resources and each watched VDN adds ALARMS_PER_VDN alarms; the functions, roles,
 * API and two resources per schedule take the rest. Beyond this the deployment would fail in CloudFormation,
 * late and less clearly, so packaging refuses it and points at alarmVdns.
 */
const MAX_WATCHED_VDNS = 80;

/** UTC offsets that exist, in minutes (UTC−12:00 to UTC+14:00), for the start of "today". */
const UTC_OFFSET_MINUTES = { min: -720, max: 840 };

const EXAMPLE_TARGETS = '[{"ccId":1,"vdn":170,"skillIds":"1-20"}]';

/**
 * A configuration mistake, named by its stage parameter. osls prints the stack of the error it is given; this
 * one's trace would only point into this file, so the stack is the message alone.
 */
class StackConfigError extends Error {
  constructor(field, problem) {
    super(`${field} ${problem}`);
    this.name = 'StackConfigError';
    this.field = field;
    this.stack = `${this.name}: ${this.message}`;
  }
}

const isRecord = (value) => typeof value === 'object' && value !== null && !Array.isArray(value);
const inRange = (value, { min, max }) => Number.isInteger(value) && value >= min && value <= max;
const vdnKey = ({ ccId, vdn }) => `${ccId}/${vdn}`;

// --- targets, checked as the collector checks them at cold start (lib/config.ts, lib/skills.ts) ------------

/** The problem with a skill list such as `1-20,35`, or undefined when the collector would accept it. */
function skillListProblem(text) {
  const parts = text.split(',').map((part) => part.trim());
  if (parts.length === 1 && parts[0] === '') return 'the skill list is empty';
  const { min, max } = LIMITS.skillId;
  for (const part of parts) {
    const match = /^(\d{1,5})(?:\s*-\s*(\d{1,5}))?$/.exec(part);
    if (!match) return `"${part}" is neither a skill id nor a range like 1-20`;
    const first = Number(match[1]);
    const last = match[2] === undefined ? first : Number(match[2]);
    for (const id of [first, last]) {
      if (!inRange(id, LIMITS.skillId)) return `skill id ${id} is outside ${min}-${max}`;
    }
    if (last < first) return `the range "${part}" runs backwards`;
  }
  return undefined;
}

function checkId(value, field, limits) {
  if (!inRange(value, limits)) {
    const got = JSON.stringify(value) ?? String(value);
    throw new StackConfigError(field, `must be an integer from ${limits.min} to ${limits.max}, got ${got}`);
  }
  return value;
}

function checkSkillIds(value, field) {
  if (typeof value === 'string') {
    const problem = skillListProblem(value);
    if (problem) throw new StackConfigError(field, problem);
    return;
  }
  if (!Array.isArray(value)) {
    throw new StackConfigError(field, 'must be a skill list like "1-20,35" or an array of skill ids');
  }
  if (value.length === 0) throw new StackConfigError(field, 'must name at least one skill');
  value.forEach((id, index) => {
    checkId(id, `${field}[${index}]`, LIMITS.skillId);
  });
}

const TARGET_FIELDS = ['ccId', 'vdn', 'skillIds'];

/** The VDNs of a target list (JSON `[{ccId, vdn, skillIds}]`); a StackConfigError names `field[i].key`. */
function validateTargets(input, field) {
  if (!Array.isArray(input))
    throw new StackConfigError(field, `must be a list of targets like ${EXAMPLE_TARGETS}`);
  if (input.length === 0) throw new StackConfigError(field, 'must hold at least one target');
  const seen = new Set();
  return input.map((target, index) => {
    const at = `${field}[${index}]`;
    if (!isRecord(target)) throw new StackConfigError(at, 'must be an object {ccId, vdn, skillIds}');
    const unknown = Object.keys(target).find((key) => !TARGET_FIELDS.includes(key));
    if (unknown !== undefined) {
      throw new StackConfigError(`${at}.${unknown}`, 'is not a target field (ccId, vdn, skillIds)');
    }
    const ccId = checkId(target.ccId, `${at}.ccId`, LIMITS.ccId);
    const vdn = checkId(target.vdn, `${at}.vdn`, LIMITS.vdn);
    checkSkillIds(target.skillIds, `${at}.skillIds`);
    const key = vdnKey({ ccId, vdn });
    if (seen.has(key)) throw new StackConfigError(at, `VDN ${vdn} of call center ${ccId} is listed twice`);
    seen.add(key);
    return { ccId, vdn };
  });
}

function wholeNumber(text, field, { min, max }) {
  if (text === '') throw new StackConfigError(field, 'is required');
  if (!/^\d+$/.test(text)) throw new StackConfigError(field, `must be a whole number, got "${text}"`);
  const value = Number(text);
  if (value < min || value > max) {
    throw new StackConfigError(field, `must be between ${min} and ${max}, got ${value}`);
  }
  return value;
}

/**
 * The VDNs of the functions' own targets: `ccId` + `vdn` + `skillIds`, or `cmsTargets`, never both. A stack
 * without any is refused: its collector would fail every cold start and its query API answer nothing.
 */
function configuredVdns({ ccId = '', vdn = '', skillIds = '', cmsTargets = '' }) {
  const single = Object.entries({ ccId, vdn, skillIds })
    .filter(([, value]) => value !== '')
    .map(([name]) => name);
  if (cmsTargets !== '') {
    if (single.length > 0) {
      throw new StackConfigError(
        'cmsTargets',
        `and ${single.join(', ')} are both set: set either cmsTargets or ccId/vdn/skillIds`,
      );
    }
    let parsed;
    try {
      parsed = JSON.parse(cmsTargets);
    } catch {
      throw new StackConfigError('cmsTargets', `is not valid JSON (expected ${EXAMPLE_TARGETS})`);
    }
    return validateTargets(parsed, 'cmsTargets');
  }
  if (single.length === 0) {
    throw new StackConfigError(
      'targets',
      'are missing: set ccId, vdn and skillIds, or cmsTargets (e.g. ' +
        `--param="ccId=1" --param="vdn=170" --param="skillIds=1-20", or --param='cmsTargets=${EXAMPLE_TARGETS}')`,
    );
  }
  const target = {
    ccId: wholeNumber(ccId, 'ccId', LIMITS.ccId),
    vdn: wholeNumber(vdn, 'vdn', LIMITS.vdn),
  };
  if (skillIds === '') throw new StackConfigError('skillIds', 'is required');
  const problem = skillListProblem(skillIds);
  if (problem) throw new StackConfigError('skillIds', problem);
  return [target];
}

/**
 * The VDNs the collector's schedules carry in their `input.targets` (the fleet file). A schedule without
 * `input.targets` collects the functions' own targets, which configuredVdns covers.
 */
function scheduledVdns(events) {
  return (Array.isArray(events) ? events : []).flatMap((event, index) => {
    const schedule = isRecord(event) ? event.schedule : undefined;
    if (!isRecord(schedule) || schedule.input === undefined) return [];
    const name = `collector schedule ${index + 1}${schedule.name ? ` (${schedule.name})` : ''}`;
    let input = schedule.input;
    // EventBridge hands a string input to the function as the JSON it holds.
    if (typeof input === 'string') {
      try {
        input = JSON.parse(input);
      } catch {
        throw new StackConfigError(`${name} input`, 'is not valid JSON');
      }
    }
    if (!isRecord(input) || !('targets' in input)) return [];
    return validateTargets(input.targets, `${name} input.targets`);
  });
}

/** Every VDN of the lists once, by call center and VDN, so that the stack does not depend on list order. */
function collectedVdns(...lists) {
  const unique = new Map(lists.flat().map((item) => [vdnKey(item), { ccId: item.ccId, vdn: item.vdn }]));
  return [...unique.values()].sort((a, b) => a.ccId - b.ccId || a.vdn - b.vdn);
}

/**
 * The VDNs that get alarms and dashboard graphs: all collected ones, `none`, or those `alarmVdns` lists as
 * `ccId/vdn` (e.g. `1/170,1/171`). Naming a VDN the deployment does not collect is refused: its collection
 * alarm would never see a datapoint and stay in ALARM.
 */
function watchedVdns(vdns, alarmVdns) {
  const text = alarmVdns.trim();
  let watched = vdns;
  if (text === 'none') watched = [];
  else if (text !== '') {
    const wanted = new Set(
      text.split(',').map((part) => {
        const match = /^\s*(\d{1,9})\s*\/\s*(\d{1,9})\s*$/.exec(part);
        if (!match) {
          throw new StackConfigError(
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
      throw new StackConfigError(
        'alarmVdns',
        `names ${foreign.join(', ')}, which this deployment does not collect (it collects: ${
          collected.join(', ') || 'nothing'
        })`,
      );
    }
    watched = vdns.filter((item) => wanted.has(vdnKey(item)));
  }
  if (watched.length > MAX_WATCHED_VDNS) {
    throw new StackConfigError(
      'alarmVdns',
      `must leave at most ${MAX_WATCHED_VDNS} VDNs with alarms (as 1/170,1/171,…), not ${watched.length}: ` +
        `their ${ALARMS_PER_VDN * watched.length} alarms would not fit in one stack (500 CloudFormation resources at ` +
        'most); or split the fleet into stages',
    );
  }
  return watched;
}

// --- settings ------------------------------------------------------------------------------------------

function numberSetting(values, name, { integer = false, min = Number.NEGATIVE_INFINITY } = {}) {
  const text = String(values[name] ?? '').trim();
  const value = Number(text);
  const valid = /^-?\d+(\.\d+)?$/.test(text) && (!integer || Number.isInteger(value)) && value >= min;
  if (!valid) {
    const kind = integer ? 'a whole number' : 'a number';
    throw new StackConfigError(
      name,
      `must be ${kind}${min > Number.NEGATIVE_INFINITY ? ` ≥ ${min}` : ''}, got "${text}"`,
    );
  }
  return value;
}

/** Alarm and dashboard settings from stage parameters (strings from the command line, numbers from YAML). */
function monitoringSettings(values) {
  const namespace = String(values.metricNamespace ?? '').trim();
  // The collector's own rule (lib/lambda/collector.ts); it also keeps `${` out of the dashboard's Fn::Sub.
  if (namespace.startsWith('AWS/') || !/^[\w.\-/#:]{1,255}$/.test(namespace)) {
    throw new StackConfigError('metricNamespace', `"${namespace}" is not a valid custom namespace`);
  }
  const settings = {
    service: String(values.service),
    stage: String(values.stage),
    namespace,
    minCallsOffered: numberSetting(values, 'alarmMinCallsOffered', { integer: true, min: 1 }),
    abandonmentRateThreshold: numberSetting(values, 'abandonmentRateThreshold', { min: 0 }),
    serviceLevelThreshold: numberSetting(values, 'serviceLevelThreshold', { min: 0 }),
    kpiEvaluationPeriods: numberSetting(values, 'kpiAlarmEvaluationPeriods', { integer: true, min: 1 }),
    kpiDatapointsToAlarm: numberSetting(values, 'kpiAlarmDatapointsToAlarm', { integer: true, min: 1 }),
    collectorEvaluationPeriods: numberSetting(values, 'collectorAlarmEvaluationPeriods', {
      integer: true,
      min: 1,
    }),
    dataAgeThresholdSeconds: numberSetting(values, 'dataAgeThresholdSeconds', { min: 0 }),
    windowCoverageThreshold: numberSetting(values, 'windowCoverageThreshold', { min: 0 }),
    todayUtcOffsetMinutes: numberSetting(values, 'todayUtcOffsetMinutes', {
      integer: true,
      min: UTC_OFFSET_MINUTES.min,
    }),
  };
  if (settings.windowCoverageThreshold > 100) {
    throw new StackConfigError(
      'windowCoverageThreshold',
      `must be a percentage up to 100, got ${settings.windowCoverageThreshold}`,
    );
  }
  if (settings.todayUtcOffsetMinutes > UTC_OFFSET_MINUTES.max) {
    throw new StackConfigError(
      'todayUtcOffsetMinutes',
      `must be a UTC offset from ${UTC_OFFSET_MINUTES.min} to ${UTC_OFFSET_MINUTES.max} minutes, got ${settings.todayUtcOffsetMinutes}`,
    );
  }
  if (settings.kpiDatapointsToAlarm > settings.kpiEvaluationPeriods) {
    throw new StackConfigError(
      'kpiAlarmDatapointsToAlarm',
      `must not exceed kpiAlarmEvaluationPeriods (${settings.kpiEvaluationPeriods})`,
    );
  }
  return settings;
}

// --- the collector's closing wait -------------------------------------------------------------------------

/** What a collector run needs on top of its closing wait: CMS, publishing, and Lambda's own margin. */
const RUN_SECONDS = 30;

/**
 * The closing-read settings, checked as the collector checks them at cold start (lib/lambda/collector.ts), and
 * the timeout they need: a run that waits up to `closingReadReachSeconds` for its closing read must still have
 * RUN_SECONDS left, or it would never take the read (and the closing-reads alarm would go off for good).
 */
function closingReadTiming(values) {
  const setting = (name, limits) => wholeNumber(text(values[name]), name, limits);
  const guard = setting('closingReadGuardSeconds', { min: 1, max: 60 });
  const reach = setting('closingReadReachSeconds', { min: 0, max: 240 });
  const timeout = setting('collectorTimeoutSeconds', { min: 1, max: 900 });
  if (reach > 0 && timeout < reach + RUN_SECONDS) {
    throw new StackConfigError(
      'collectorTimeoutSeconds',
      `must be at least ${reach + RUN_SECONDS} (closingReadReachSeconds ${reach} + ${RUN_SECONDS} s for the run ` +
        `itself), got ${timeout}; or lower closingReadReachSeconds (0 turns closing reads off)`,
    );
  }
  return { guardSeconds: guard, reachSeconds: reach, timeoutSeconds: timeout };
}

// --- alarms --------------------------------------------------------------------------------------------

/** Logical ids of a VDN's alarms: letters and digits only, as CloudFormation requires; one set per VDN. */
function alarmLogicalIds({ ccId, vdn }) {
  const suffix = `Cc${ccId}Vdn${vdn}`;
  return {
    abandonmentRate: `AbandonmentRateAlarm${suffix}`,
    serviceLevel: `ServiceLevelAlarm${suffix}`,
    collectorDead: `CollectorDeadAlarm${suffix}`,
    staleData: `StaleDataAlarm${suffix}`,
    closingReads: `ClosingReadsMissingAlarm${suffix}`,
  };
}

const notifyTopic = () => ({
  'Fn::If': ['HasAlarmTopic', [{ Ref: 'AlarmTopicArn' }], { Ref: 'AWS::NoValue' }],
});

/** The four alarms of each VDN, keyed by logical id. */
function buildAlarms(vdns, settings) {
  const s = settings;
  const resources = {};
  for (const item of vdns) {
    const { ccId, vdn } = item;
    const ids = alarmLogicalIds(item);
    // The VDN first, so the console lists a VDN's alarms together.
    const alarmName = (kind) => `${s.service}-${s.stage}-cc${ccId}-vdn${vdn}-${kind}`;
    const dimensions = () => [
      { Name: 'CcId', Value: String(ccId) },
      { Name: 'Vdn', Value: String(vdn) },
    ];
    const common = (evaluationPeriods, datapointsToAlarm) => ({
      EvaluationPeriods: evaluationPeriods,
      DatapointsToAlarm: datapointsToAlarm,
      AlarmActions: notifyTopic(),
      OKActions: notifyTopic(),
    });
    // Rates are recomputed from the window's counters (Maximum = the last poll's value, period 300 = one CMS
    // window), so a quiet window cannot alarm on 1 abandoned call out of 1.
    const counter = (id, metricName) => ({
      Id: id,
      ReturnData: false,
      MetricStat: {
        Period: WINDOW_SECONDS,
        Stat: 'Maximum',
        Metric: { Namespace: s.namespace, MetricName: metricName, Dimensions: dimensions() },
      },
    });
    const ignored = `windows with fewer than ${s.minCallsOffered} offered calls are ignored`;

    resources[ids.abandonmentRate] = {
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        AlarmName: alarmName('abandonment-rate'),
        AlarmDescription:
          `More than ${s.abandonmentRateThreshold}% of the calls offered to VDN ${vdn} of call center ` +
          `${ccId} were abandoned in a 5-minute window (${ignored}).`,
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: s.abandonmentRateThreshold,
        ...common(s.kpiEvaluationPeriods, s.kpiDatapointsToAlarm),
        // No datapoint = a window below the minimum volume (or no calls): not a reason to alarm.
        TreatMissingData: 'notBreaching',
        Metrics: [
          counter('offered', 'CallsOffered'),
          counter('abandoned', 'CallsAbandoned'),
          {
            Id: 'rate',
            Label: 'Abandonment rate (%)',
            ReturnData: true,
            Expression: `IF(offered >= ${s.minCallsOffered}, 100 * abandoned / offered)`,
          },
        ],
      },
    };

    resources[ids.serviceLevel] = {
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        AlarmName: alarmName('service-level'),
        AlarmDescription:
          `Fewer than ${s.serviceLevelThreshold}% of the calls offered to VDN ${vdn} of call center ` +
          `${ccId} were answered within 20 seconds in a 5-minute window (${ignored}).`,
        ComparisonOperator: 'LessThanThreshold',
        Threshold: s.serviceLevelThreshold,
        ...common(s.kpiEvaluationPeriods, s.kpiDatapointsToAlarm),
        TreatMissingData: 'notBreaching',
        Metrics: [
          counter('offered', 'CallsOffered'),
          counter('answered20s', 'CallsAnsweredIn20s'),
          {
            Id: 'level',
            Label: 'Service level 20 s (%)',
            ReturnData: true,
            Expression: `IF(offered >= ${s.minCallsOffered}, 100 * answered20s / offered)`,
          },
        ],
      },
    };

    resources[ids.collectorDead] = {
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        AlarmName: alarmName('collection-failing'),
        AlarmDescription:
          `The collector failed to read VDN ${vdn} of call center ${ccId} from CMS, or did not run at all ` +
          '(no CollectionSuccess datapoint), in every 5-minute period of the evaluation range.',
        Namespace: s.namespace,
        MetricName: 'CollectionSuccess',
        Dimensions: dimensions(),
        Statistic: 'Minimum',
        Period: WINDOW_SECONDS,
        ComparisonOperator: 'LessThanThreshold',
        Threshold: 1,
        ...common(s.collectorEvaluationPeriods, s.collectorEvaluationPeriods),
        // A collector that stopped running publishes nothing: silence is the failure.
        TreatMissingData: 'breaching',
      },
    };

    resources[ids.staleData] = {
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        AlarmName: alarmName('stale-data'),
        AlarmDescription:
          `CMS answers for VDN ${vdn} of call center ${ccId}, but its freshest statistics window started ` +
          `more than ${s.dataAgeThresholdSeconds} seconds ago.`,
        Namespace: s.namespace,
        MetricName: 'DataAge',
        Dimensions: dimensions(),
        Statistic: 'Maximum',
        Period: WINDOW_SECONDS,
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: s.dataAgeThresholdSeconds,
        ...common(s.collectorEvaluationPeriods, s.collectorEvaluationPeriods),
        // Missing DataAge means no collection at all, which the collection-failing alarm reports.
        TreatMissingData: 'notBreaching',
      },
    };

    resources[ids.closingReads] = {
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        AlarmName: alarmName('closing-reads-missing'),
        AlarmDescription:
          `The last read of VDN ${vdn} of call center ${ccId} covered less than ` +
          `${s.windowCoverageThreshold}% of its 5-minute windows, or no closing read was published: the ` +
          "windows' totals miss their last minute (check the collector's timeout and closingReadReachSeconds).",
        Namespace: s.namespace,
        MetricName: 'WindowCoverage',
        Dimensions: dimensions(),
        Statistic: 'Maximum',
        Period: WINDOW_SECONDS,
        ComparisonOperator: 'LessThanThreshold',
        Threshold: s.windowCoverageThreshold,
        ...common(s.kpiEvaluationPeriods, s.kpiDatapointsToAlarm),
        // Each window's coverage is published with its closing read, just before the window ends: a window
        // without one is a closing read that did not happen.
        TreatMissingData: 'breaching',
      },
    };
  }
  return resources;
}

// --- dashboard -----------------------------------------------------------------------------------------

const ROW_HEIGHT = 6;

/** A Fn::Sub placeholder: CloudFormation writes in the deployed value (region, function name, API id). */
const placeholder = (name) => `\${${name}}`;
const REGION = placeholder('AWS::Region');
const COLLECTOR = placeholder('CollectorLambdaFunction');
const QUERY = placeholder('QueryLambdaFunction');
const HTTP_API = placeholder('HttpApi');
const WALLBOARD_ARN = placeholder('WallboardLambdaFunction.Arn');

/** Rows of a wallboard widget: a table header, the VDN total, the health line and about 12 skills. */
const WALLBOARD_HEIGHT = 9;

const search = (namespace, dimensions, metricName, stat, period) =>
  `SEARCH('{"${namespace}",${dimensions}} MetricName="${metricName}"', '${stat}', ${period})`;

const graph = (x, y, width, properties) => ({
  type: 'metric',
  x,
  y,
  width,
  height: ROW_HEIGHT,
  properties: { view: 'timeSeries', region: REGION, ...properties },
});

const DAY_SECONDS = 86_400;

/**
 * "Today so far" of a VDN: calls offered, answered and abandoned since midnight (at a fixed UTC offset), with
 * the day's abandonment rate and service level. Each 5-minute window counts once, with its final value: the
 * Maximum of a 300 s period is the window's last read however often it was read (runs, closing reads, an
 * overlapping or retried invocation), where a Sum would add every read up. RUNNING_SUM adds the windows of
 * the widget's last 24 hours whose day (EPOCH of the window start plus the offset, in whole days) is the day of
 * the newest one. Metric math has no time zones: the offset is fixed, so daylight saving time is not followed,
 * and a window is counted on the day it started.
 */
function todayWidget({ ccId, vdn }, x, y, s) {
  const metric = (name, id) => [
    s.namespace,
    name,
    'CcId',
    String(ccId),
    'Vdn',
    String(vdn),
    { id, visible: false },
  ];
  const offsetSeconds = s.todayUtcOffsetMinutes * 60;
  const day = `FLOOR((EPOCH(offered) + ${offsetSeconds}) / ${DAY_SECONDS})`;
  const today = (id) => `RUNNING_SUM(IF(${day} == MAX(${day}), ${id}, 0))`;
  const offset = s.todayUtcOffsetMinutes;
  const zone =
    offset === 0
      ? 'UTC'
      : `UTC${offset < 0 ? '−' : '+'}${Math.floor(Math.abs(offset) / 60)}:${String(Math.abs(offset) % 60).padStart(2, '0')}`;
  return graph(x, y, 6, {
    title: `VDN ${vdn} (call center ${ccId}): today so far (since 00:00 ${zone})`,
    view: 'singleValue',
    // Its own time range, whatever the dashboard shows: enough to hold the whole of today.
    start: '-PT24H',
    period: WINDOW_SECONDS,
    stat: 'Maximum',
    setPeriodToTimeRange: false,
    sparkline: true,
    metrics: [
      metric('CallsOffered', 'offered'),
      metric('CallsAnswered', 'answered'),
      metric('CallsAbandoned', 'abandoned'),
      metric('CallsAnsweredIn20s', 'answered20s'),
      [{ expression: today('offered'), label: 'Offered today', id: 'offeredToday' }],
      [{ expression: today('answered'), label: 'Answered today', id: 'answeredToday' }],
      [{ expression: today('abandoned'), label: 'Abandoned today', id: 'abandonedToday' }],
      [{ expression: today('answered20s'), id: 'answered20sToday', visible: false }],
      [
        {
          expression: 'IF(offeredToday > 0, 100 * abandonedToday / offeredToday)',
          label: 'Abandonment today %',
          id: 'abandonmentToday',
        },
      ],
      [
        {
          expression: 'IF(offeredToday > 0, 100 * answered20sToday / offeredToday)',
          label: 'Service level 20 s today %',
          id: 'serviceLevelToday',
        },
      ],
    ],
  });
}

/**
 * A VDN's calls, KPIs, wrap-up time and day so far, recomputed from its counters, side by side on one row. Exact rates
 * need each VDN's own counters paired in one expression, which a SEARCH across VDNs cannot do; the fleet-wide
 * SEARCH graphs below still show every VDN, watched or not.
 */
function vdnRow({ ccId, vdn }, y, s) {
  const title = `VDN ${vdn} (call center ${ccId})`;
  const metric = (name, options) => [s.namespace, name, 'CcId', String(ccId), 'Vdn', String(vdn), options];
  const window = { period: WINDOW_SECONDS, stat: 'Maximum' };
  return [
    graph(0, y, 6, {
      title: `${title}: calls per 5-minute window`,
      ...window,
      metrics: [
        metric('CallsOffered', { label: 'Offered' }),
        metric('CallsAnswered', { label: 'Answered' }),
        metric('CallsAbandoned', { label: 'Abandoned' }),
        metric('CallsAnsweredIn20s', { label: 'Answered in 20 s' }),
      ],
    }),
    graph(6, y, 6, {
      title: `${title}: KPIs of each window, from its counters`,
      ...window,
      yAxis: { left: { min: 0, max: 100, label: '%', showUnits: false } },
      metrics: [
        metric('CallsOffered', { id: 'offered', visible: false }),
        metric('CallsAnswered', { id: 'answered', visible: false }),
        metric('CallsAbandoned', { id: 'abandoned', visible: false }),
        metric('CallsAnsweredIn20s', { id: 'answered20s', visible: false }),
        [
          {
            expression: 'IF(offered > 0, 100 * abandoned / offered)',
            label: 'Abandonment rate %',
            id: 'abandonment',
          },
        ],
        [{ expression: 'IF(offered > 0, 100 * answered / offered)', label: 'Answer rate %', id: 'answer' }],
        [
          {
            expression: 'IF(offered > 0, 100 * answered20s / offered)',
            label: 'Service level 20 s %',
            id: 'serviceLevel',
          },
        ],
      ],
      annotations: {
        horizontal: [
          { label: 'Abandonment alarm', value: s.abandonmentRateThreshold },
          { label: 'Service level alarm', value: s.serviceLevelThreshold },
        ],
      },
    }),
    graph(12, y, 6, {
      title: `${title}: average wrap-up time (s)`,
      ...window,
      metrics: [
        metric('WrapUps', { id: 'wrapUps', visible: false }),
        metric('WrapUpTime', { id: 'wrapUpTime', visible: false }),
        [
          {
            expression: 'IF(wrapUps > 0, wrapUpTime / wrapUps)',
            label: 'Average wrap-up time',
            id: 'averageWrapUp',
          },
        ],
      ],
    }),
    todayWidget({ ccId, vdn }, 18, y, s),
  ];
}

/**
 * The live per-skill wallboard of a VDN: a custom widget, which the dashboard fills by invoking the wallboard
 * function with the widget's params on every refresh (never for a zoom or a resize: it shows "now").
 */
function wallboardWidget({ ccId, vdn }, y) {
  return {
    type: 'custom',
    x: 0,
    y,
    width: 24,
    height: WALLBOARD_HEIGHT,
    properties: {
      endpoint: WALLBOARD_ARN,
      params: { ccId, vdn },
      updateOn: { refresh: true, resize: false, timeRange: false },
      title: `VDN ${vdn} (call center ${ccId}): every skill now, worst first`,
    },
  };
}

/** Graphs of the whole fleet and of the stack itself from row `y` down; SEARCH finds VDNs added later too. */
function fleetRows(y, s) {
  const ns = s.namespace;
  const vdns = 'CcId,Vdn';
  const skillSearch = search(ns, 'CcId,Vdn,SkillId', 'CallsAbandoned', 'Maximum', WINDOW_SECONDS);
  return [
    graph(0, y, 12, {
      title: 'Top 10 skills by abandoned calls (per 5-minute window)',
      period: WINDOW_SECONDS,
      stat: 'Maximum',
      metrics: [
        [
          {
            // Idle skills publish nothing: their gaps are zero calls, not missing data.
            expression: `SORT(FILL(${skillSearch}, 0), MAX, DESC, 10)`,
            id: 'topAbandoned',
          },
        ],
      ],
    }),
    graph(12, y, 12, {
      title: 'All VDNs: calls offered and abandoned per 5-minute window',
      period: WINDOW_SECONDS,
      stat: 'Maximum',
      metrics: [
        [
          {
            expression: search(ns, vdns, 'CallsOffered', 'Maximum', WINDOW_SECONDS),
            label: 'Offered',
            id: 'allOffered',
          },
        ],
        [
          {
            expression: search(ns, vdns, 'CallsAbandoned', 'Maximum', WINDOW_SECONDS),
            label: 'Abandoned',
            id: 'allAbandoned',
          },
        ],
      ],
    }),
    graph(0, y + ROW_HEIGHT, 6, {
      title: 'Collector health: collection success (1 = every batch read)',
      period: 60,
      stat: 'Minimum',
      yAxis: { left: { min: 0, max: 1 } },
      metrics: [[{ expression: search(ns, vdns, 'CollectionSuccess', 'Minimum', 60), id: 'success' }]],
    }),
    graph(6, y + ROW_HEIGHT, 6, {
      title: 'Collector health: CMS latency, slowest batch (ms)',
      period: 60,
      stat: 'Maximum',
      metrics: [[{ expression: search(ns, vdns, 'CmsLatency', 'Maximum', 60), id: 'latency' }]],
    }),
    graph(12, y + ROW_HEIGHT, 6, {
      title: 'Collector health: data age (s)',
      period: 60,
      stat: 'Maximum',
      metrics: [[{ expression: search(ns, vdns, 'DataAge', 'Maximum', 60), id: 'age' }]],
      annotations: { horizontal: [{ label: 'Stale', value: s.dataAgeThresholdSeconds }] },
    }),
    graph(18, y + ROW_HEIGHT, 6, {
      title: 'Collector health: configured skills CMS did not return',
      period: 60,
      stat: 'Maximum',
      metrics: [[{ expression: search(ns, vdns, 'SkillsMissing', 'Maximum', 60), id: 'missing' }]],
    }),
    graph(0, y + 2 * ROW_HEIGHT, 8, {
      title: 'Functions: errors and duration',
      period: WINDOW_SECONDS,
      metrics: [
        ['AWS/Lambda', 'Errors', 'FunctionName', COLLECTOR, { stat: 'Sum', label: 'Collector errors' }],
        ['AWS/Lambda', 'Errors', 'FunctionName', QUERY, { stat: 'Sum', label: 'Query errors' }],
        [
          'AWS/Lambda',
          'Duration',
          'FunctionName',
          COLLECTOR,
          { stat: 'Maximum', label: 'Collector duration (max, ms)', yAxis: 'right' },
        ],
      ],
    }),
    graph(8, y + 2 * ROW_HEIGHT, 8, {
      title: 'Query API: requests and errors',
      period: WINDOW_SECONDS,
      stat: 'Sum',
      metrics: [
        ['AWS/ApiGateway', 'Count', 'ApiId', HTTP_API, { label: 'Requests' }],
        ['AWS/ApiGateway', '4xx', 'ApiId', HTTP_API, { label: '4xx' }],
        ['AWS/ApiGateway', '5xx', 'ApiId', HTTP_API, { label: '5xx' }],
      ],
    }),
    graph(16, y + 2 * ROW_HEIGHT, 8, {
      title: 'Collector health: window coverage of the last read (%)',
      period: WINDOW_SECONDS,
      stat: 'Maximum',
      yAxis: { left: { min: 0, max: 100 } },
      metrics: [
        [
          {
            expression: search(ns, vdns, 'WindowCoverage', 'Maximum', WINDOW_SECONDS),
            id: 'coverage',
          },
        ],
      ],
      annotations: { horizontal: [{ label: 'Closing reads missing', value: s.windowCoverageThreshold }] },
    }),
  ];
}

/**
 * The dashboard body: a row per watched VDN on top (where an operator looks first), then each watched VDN's
 * live wallboard, the fleet-wide graphs below. A Fn::Sub, so that the region, function names and ARNs and the
 * API id of the deployed stack fill the `${…}` placeholders; nothing else in the body can hold `${` (the
 * namespace is checked above).
 */
function buildDashboardBody(vdns, settings) {
  const graphsEnd = vdns.length * ROW_HEIGHT;
  const widgets = [
    ...vdns.flatMap((item, index) => vdnRow(item, index * ROW_HEIGHT, settings)),
    ...vdns.map((item, index) => wallboardWidget(item, graphsEnd + index * WALLBOARD_HEIGHT)),
    ...fleetRows(graphsEnd + vdns.length * WALLBOARD_HEIGHT, settings),
  ];
  return { 'Fn::Sub': JSON.stringify({ start: '-PT6H', periodOverride: 'inherit', widgets }) };
}

// --- query ARNs ------------------------------------------------------------------------------------------

/** The query API's route below the stage, as lib/api/route.ts serves it. */
const STATS_ROUTE = 'call-centers/{ccId}/vdns/{vdn}/skills/current-stats';
/** CloudFormation allows 200 outputs; the stack has two of its own. */
const MAX_QUERY_ARN_OUTPUTS = 150;

/**
 * The invoke ARN of one VDN's query routes, any method: what a caller's IAM policy grants to let it read that
 * VDN and no other. The `*` stands for the method; IAM's `*` would match a `/` too, but a method never holds
 * one, and the rest of the ARN is literal up to its end, so no other VDN's route ARN matches it.
 */
function queryArn({ ccId, vdn }) {
  const route = STATS_ROUTE.replace('{ccId}', String(ccId)).replace('{vdn}', String(vdn));
  return {
    'Fn::Sub': `arn:\${AWS::Partition}:execute-api:\${AWS::Region}:\${AWS::AccountId}:\${HttpApi}/$default/*/${route}`,
  };
}

/** One output per VDN the query API serves (the functions' own targets), named `QueryArnCc<ccId>Vdn<vdn>`. */
function buildQueryArnOutputs(vdns) {
  if (vdns.length > MAX_QUERY_ARN_OUTPUTS) {
    throw new StackConfigError(
      'cmsTargets',
      `names ${vdns.length} VDNs; the stack outputs a query ARN per VDN and holds at most ${MAX_QUERY_ARN_OUTPUTS}: ` +
        'split the VDNs over several stages',
    );
  }
  return Object.fromEntries(
    vdns.map((target) => [
      `QueryArnCc${target.ccId}Vdn${target.vdn}`,
      {
        Description: `Invoke ARN of the query API for VDN ${target.vdn} of call center ${target.ccId} (any method), for callers' IAM policies.`,
        Value: queryArn(target),
      },
    ]),
  );
}

// --- osls entry points ---------------------------------------------------------------------------------

const PARAMETERS = [
  'ccId',
  'vdn',
  'skillIds',
  'cmsTargets',
  'alarmVdns',
  'metricNamespace',
  'alarmMinCallsOffered',
  'abandonmentRateThreshold',
  'serviceLevelThreshold',
  'kpiAlarmEvaluationPeriods',
  'kpiAlarmDatapointsToAlarm',
  'collectorAlarmEvaluationPeriods',
  'dataAgeThresholdSeconds',
  'windowCoverageThreshold',
  'todayUtcOffsetMinutes',
];

/** The collector's timing, checked while packaging (closingReadTiming). */
const TIMING_PARAMETERS = ['closingReadGuardSeconds', 'closingReadReachSeconds', 'collectorTimeoutSeconds'];

/** Stage parameters that chose the one alarmed VDN; passing them now would change the alarms unnoticed. */
const RETIRED_PARAMETERS = { alarmCcId: 'alarmVdns', alarmVdn: 'alarmVdns' };

const text = (value) => (value === null || value === undefined ? '' : String(value).trim());

async function readConfiguration(resolveVariable) {
  const values = {};
  for (const name of PARAMETERS) values[name] = text(await resolveVariable(`param:${name}`));
  for (const [name, successor] of Object.entries(RETIRED_PARAMETERS)) {
    if (text(await resolveVariable(`param:${name}, null`)) !== '') {
      throw new StackConfigError(
        name,
        `is no longer read: every collected VDN gets alarms; choose them with ${successor} ` +
          '(e.g. 1/170,1/171)',
      );
    }
  }
  values.service = await resolveVariable('self:service');
  values.stage = await resolveVariable('sls:stage');
  const vdns = collectedVdns(
    configuredVdns(values),
    scheduledVdns(await resolveVariable('self:functions.collector.events')),
  );
  return {
    watched: watchedVdns(vdns, values.alarmVdns),
    served: configuredVdns(values),
    settings: monitoringSettings(values),
  };
}

/** `${file(./stack/vdn-monitoring.cjs):resources}`: the per-VDN alarms and query ARNs, as a `resources` fragment. */
async function resources({ resolveVariable }) {
  const timing = {};
  for (const name of TIMING_PARAMETERS) timing[name] = text(await resolveVariable(`param:${name}`));
  closingReadTiming(timing);
  const { watched, served, settings } = await readConfiguration(resolveVariable);
  return { Resources: buildAlarms(watched, settings), Outputs: buildQueryArnOutputs(served) };
}

/** `${file(./stack/vdn-monitoring.cjs):dashboardBody}`: the Dashboard's DashboardBody. */
async function dashboardBody({ resolveVariable }) {
  const { watched, settings } = await readConfiguration(resolveVariable);
  return buildDashboardBody(watched, settings);
}

module.exports = {
  MAX_WATCHED_VDNS,
  StackConfigError,
  validateTargets,
  configuredVdns,
  scheduledVdns,
  collectedVdns,
  watchedVdns,
  monitoringSettings,
  closingReadTiming,
  alarmLogicalIds,
  buildAlarms,
  buildDashboardBody,
  queryArn,
  buildQueryArnOutputs,
  resources,
  dashboardBody,
};
