import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCollectorHandler } from '../lib/lambda/collector.js';
import type { Log } from '../lib/log.js';
import { WINDOW_MS } from '../lib/model.js';
import {
  type AlarmProperties,
  type AlarmState,
  type Evaluation,
  evaluateEveryMinute,
  MetricStore,
  type StoredDatapoint,
} from './support/alarm-evaluation.js';
import { jumpingClock } from './support/jumping-clock.js';
import {
  type DeployedResource,
  type Deployment,
  deploy,
  resource,
  resourcesOfType,
} from './support/stack-cfn.js';
import { readDashboard } from './support/stack-dashboard.js';
import { generatedStack, generatorRefusal, stageParams } from './support/stack-generator.js';
import { evaluateMetricMath } from './support/stack-math.js';
import { packagedTemplate } from './support/stack-packaged.js';
import { startWorld, type World, worldCloudWatch, worldCredentials } from './support/world.js';

// The KPI alarms as `npm run package -- --param=timeZone=Europe/Madrid …` ships them, judged by a model of
// CloudWatch's alarm evaluation (test/support/alarm-evaluation.ts) on the datapoints the real collector publishes:
// the collector handler runs every simulated minute against the CMS simulator over TLS, with its closing reads,
// and publishes through the real CloudWatch client to the fake endpoint, which notes when each call arrived.

const NAMESPACE = 'HuaweiCEC/SkillQueues';
const SKILLS = '1-6';
/** Tuned to the simulator's traffic for these skills: some windows breach, some do not, some are too quiet. */
const ALARM_PARAMS = {
  alarmMinCallsOffered: '80',
  abandonmentRateThreshold: '24',
  serviceLevelThreshold: '55',
};
const TARGET = { ccId: '1', vdn: '170', skillIds: SKILLS };

/** The generator's share of the stack (per-VDN alarms, dashboard) with these parameters. */
let stack: Deployment;
/** The suite's packaged stack, also set to Europe/Madrid: functions and stack-wide alarms. */
let packaged: Deployment;
let marsFailure: Error | undefined;
let offsetFailure: Error | undefined;

// --- the simulated minutes ---------------------------------------------------------------------------------

/** Our (and CloudWatch's) clock: set to each scheduled run, moved on by the collector's sleeps. */
const clock = jumpingClock();
/** How far CMS's clock is from ours. */
let cmsOffsetMs = 0;

let world: World;
const silentLog: Log = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

/** A Monday morning, simulated: the traffic model draws the same calls for it on every run. */
const START = Date.UTC(2026, 10, 30, 8, 0);
const WINDOWS = 14;
/** EventBridge fires each minute's run a little after the minute. */
const SCHEDULE_DELAY_MS = 200;

/**
 * Runs the collector every minute of `WINDOWS` windows from START (and the first minute after them), CMS's clock
 * `offsetMs` from ours; returns every datapoint CloudWatch received, readable from when its call arrived.
 */
async function collectWindows(offsetMs: number): Promise<StoredDatapoint[]> {
  cmsOffsetMs = offsetMs;
  world.aws.clearRecords();
  const handler = createCollectorHandler(
    {
      CMS_BASE_URL: world.simulator.url,
      ...{ CC_ID: TARGET.ccId, VDN: TARGET.vdn, SKILL_IDS: TARGET.skillIds },
      METRIC_NAMESPACE: NAMESPACE,
      CMS_TIMEOUT_MS: '2000',
    },
    { credentials: worldCredentials(world), cloudWatch: worldCloudWatch(world), log: silentLog, clock },
  );
  for (let minute = 0; minute <= WINDOWS * 5; minute += 1) {
    clock.set(START + minute * 60_000 + SCHEDULE_DELAY_MS);
    await handler({}, { getRemainingTimeInMillis: () => 100_000 });
  }
  return world.aws.putMetricDataCalls.flatMap((call) =>
    call.datums.map((datum) => ({
      namespace: call.namespace,
      name: datum.name,
      dimensions: datum.dimensions,
      timestamp: datum.timestamp,
      value: datum.value,
      visibleAt: call.receivedAt,
    })),
  );
}

/** CMS on time: its windows begin on the 5-minute boundaries. */
let onTime: StoredDatapoint[];
/** CMS 2 s behind: its windows begin 2 s after each boundary, as its startTime often shows. */
let trailing: StoredDatapoint[];

beforeAll(async () => {
  stack = await generatedStack(stageParams({ ...TARGET, ...ALARM_PARAMS, timeZone: 'Europe/Madrid' }));
  packaged = deploy(await packagedTemplate());
  marsFailure = await generatorRefusal(stageParams({ ...TARGET, timeZone: 'Mars/Olympus' }));
  offsetFailure = await generatorRefusal(stageParams({ ...TARGET, todayUtcOffsetMinutes: '60' }));
  world = await startWorld({
    simulator: { now: () => clock.now() + cmsOffsetMs },
    aws: { now: () => clock.now() },
  });
  onTime = await collectWindows(0);
  trailing = await collectWindows(-2_000);
}, 240_000);

afterAll(async () => {
  await world?.close();
});

// --- what the stack ships ------------------------------------------------------------------------------------

const alarmsOf = (deployment: Deployment) => resourcesOfType(deployment, 'AWS::CloudWatch::Alarm');
const KPI_ALARMS = ['AbandonmentRateAlarmCc1Vdn170', 'ServiceLevelAlarmCc1Vdn170'];
/** The alarms about the present: the collector's health, and the live queue's longest wait. */
const PRESENT_ALARMS = [
  'CollectorDeadAlarmCc1Vdn170',
  'StaleDataAlarmCc1Vdn170',
  'ClosingReadsMissingAlarmCc1Vdn170',
  'LongestWaitAlarmCc1Vdn170',
];
/** The stack-wide alarms serverless.yml declares. */
const STACK_ALARMS = ['CollectorErrorsAlarm', 'QueryErrorsAlarm'];
const propertiesOf = (alarm: DeployedResource) => alarm.Properties as unknown as AlarmProperties;

describe('the alarms packaged with timeZone=Europe/Madrid', () => {
  it('the KPI alarms judge complete 5-minute windows on the clock of Europe/Madrid', () => {
    for (const id of KPI_ALARMS) {
      const properties = resource(stack, id).Properties;
      expect(properties.EvaluationWindow).toEqual({ WallClockWindow: { Timezone: 'Europe/Madrid' } });
      for (const query of propertiesOf(resource(stack, id)).Metrics ?? []) {
        if (query.MetricStat) expect(query.MetricStat.Period).toBe(300);
      }
      expect(String(properties.AlarmDescription)).toContain('judged on complete 5-minute windows');
      expect(String(properties.AlarmDescription)).toContain('Europe/Madrid');
    }
  });

  it('the KPI alarms keep their volume guard and their 2 bad windows out of 3', () => {
    for (const id of KPI_ALARMS) {
      const alarm = propertiesOf(resource(stack, id));
      expect(alarm).toMatchObject({
        EvaluationPeriods: 3,
        DatapointsToAlarm: 2,
        TreatMissingData: 'notBreaching',
      });
      const rate = alarm.Metrics?.find((query) => query.ReturnData);
      const part = alarm.Metrics?.find((query) => query.MetricStat && query.Id !== 'offered')?.Id ?? '';
      const guard = Number(ALARM_PARAMS.alarmMinCallsOffered);
      expect(evaluateMetricMath(rate?.Expression ?? '', { offered: guard - 1, [part]: 8 })).toBeUndefined();
      expect(evaluateMetricMath(rate?.Expression ?? '', { offered: guard, [part]: guard / 10 })).toBe(10);
    }
  });

  it('the alarms on the collector’s health and the longest wait keep the sliding window: they watch the present', () => {
    const alarms = alarmsOf(stack).map(([id]) => id);
    expect(alarms.sort()).toEqual([...KPI_ALARMS, ...PRESENT_ALARMS].sort());
    const withWindow = alarmsOf(stack)
      .filter(([, alarm]) => alarm.Properties.EvaluationWindow !== undefined)
      .map(([id]) => id);
    expect(withWindow.sort()).toEqual(KPI_ALARMS);
    for (const id of PRESENT_ALARMS)
      expect(resource(stack, id).Properties).not.toHaveProperty('EvaluationWindow');
    for (const id of STACK_ALARMS)
      expect(resource(packaged, id).Properties).not.toHaveProperty('EvaluationWindow');
  });

  it('the longest-wait alarm looks at each minute: 3 of the last 5 above 120 s, not breaching when missing', () => {
    expect(propertiesOf(resource(stack, 'LongestWaitAlarmCc1Vdn170'))).toMatchObject({
      MetricName: 'LongestWaitTime',
      Period: 60,
      Statistic: 'Maximum',
      Threshold: 120,
      EvaluationPeriods: 5,
      DatapointsToAlarm: 3,
      TreatMissingData: 'notBreaching',
    });
  });

  it('the wallboard and the dashboard start today at midnight in Europe/Madrid', () => {
    const variables = (
      resource(packaged, 'WallboardCc1Vdn170LambdaFunction').Properties.Environment as {
        Variables: Record<string, unknown>;
      }
    ).Variables;
    expect(variables.TIME_ZONE).toBe('Europe/Madrid');
    const titles = readDashboard(String(resource(stack, 'Dashboard').Properties.DashboardBody)).map(
      (w) => w.title,
    );
    expect(titles).toContain('VDN 170 (call center 1): today so far (since 00:00 Europe/Madrid)');
  });

  it('an unknown time zone fails packaging, naming timeZone', () => {
    expect(marsFailure?.message).toContain('timeZone: "Mars/Olympus" is not an IANA time zone Node.js knows');
  });

  it('a stage still passing todayUtcOffsetMinutes is told to set timeZone', () => {
    expect(offsetFailure?.message).toContain(
      'todayUtcOffsetMinutes: is no longer read: "today" starts at midnight of timeZone',
    );
  });
});

// --- judged on the collector's datapoints ----------------------------------------------------------------------

type Verdict = 'breach' | 'within' | 'quiet';

/** A window's count of a VDN roll-up metric as CloudWatch holds it at `asOf`: the Maximum of its reads in by then. */
function windowCount(
  datapoints: readonly StoredDatapoint[],
  name: string,
  windowStart: number,
  asOf: number,
): number | undefined {
  const values = datapoints
    .filter(
      (point) =>
        point.name === name &&
        point.dimensions.SkillId === undefined &&
        point.timestamp >= windowStart &&
        point.timestamp < windowStart + WINDOW_MS &&
        point.visibleAt <= asOf,
    )
    .map((point) => point.value);
  return values.length === 0 ? undefined : Math.max(...values);
}

/** Whether a window's counts as of `asOf` breach the alarm's threshold; quiet below the volume guard. */
function verdict(
  datapoints: readonly StoredDatapoint[],
  id: string,
  windowStart: number,
  asOf: number,
): Verdict {
  const alarm = propertiesOf(resource(stack, id));
  const offered = windowCount(datapoints, 'CallsOffered', windowStart, asOf);
  if (offered === undefined || offered < Number(ALARM_PARAMS.alarmMinCallsOffered)) return 'quiet';
  const partName = id.startsWith('Abandonment') ? 'CallsAbandoned' : 'CallsAnsweredIn20s';
  const rate = (100 * (windowCount(datapoints, partName, windowStart, asOf) ?? 0)) / offered;
  const above = alarm.ComparisonOperator === 'GreaterThanThreshold';
  return (above ? rate > alarm.Threshold : rate < alarm.Threshold) ? 'breach' : 'within';
}

/**
 * The state the alarm should hold at `at`, stated in windows: of the last 5 windows that have ended (the
 * evaluation range), the 3 most recent with enough calls to be judged (fewer count as within the threshold), each
 * with its counts as of `asOf`; ALARM when 2 of them breach.
 */
function expectedState(
  datapoints: readonly StoredDatapoint[],
  id: string,
  at: number,
  asOf: number,
): AlarmState {
  const lastEnded = Math.floor(at / WINDOW_MS) * WINDOW_MS - WINDOW_MS;
  const judged = [4, 3, 2, 1, 0]
    .map((back) => verdict(datapoints, id, lastEnded - back * WINDOW_MS, asOf))
    .filter((windowVerdict) => windowVerdict !== 'quiet');
  return judged.slice(-3).filter((windowVerdict) => windowVerdict === 'breach').length >= 2 ? 'ALARM' : 'OK';
}

/** Every minute from the end of the first window to the end of the last. */
const evaluate = (alarm: AlarmProperties, datapoints: readonly StoredDatapoint[]): Evaluation[] =>
  evaluateEveryMinute(
    alarm,
    new MetricStore(datapoints),
    START + WINDOW_MS,
    START + (WINDOWS + 1) * WINDOW_MS,
  );

/** The same alarm with CloudWatch's default, sliding window. */
const sliding = (alarm: AlarmProperties): AlarmProperties => {
  const { EvaluationWindow: _wallClock, ...rest } = alarm;
  return rest;
};

const minute = (at: number) => new Date(at).toISOString().slice(11, 16);
const FINAL = Number.POSITIVE_INFINITY;

/** The evaluations whose state is not the one the windows' final counts call for, as `hh:mm STATE`. */
const againstFinalCounts = (datapoints: readonly StoredDatapoint[], id: string, evaluations: Evaluation[]) =>
  evaluations
    .filter((evaluation) => evaluation.state !== expectedState(datapoints, id, evaluation.at, FINAL))
    .map((evaluation) => `${minute(evaluation.at)} ${evaluation.state}`);

/** Reads of a window that reached CloudWatch only after the window's period had ended. */
const lateReads = (datapoints: readonly StoredDatapoint[]) =>
  datapoints.filter(
    (point) =>
      point.name === 'CallsOffered' &&
      point.dimensions.SkillId === undefined &&
      point.visibleAt >= Math.floor(point.timestamp / WINDOW_MS) * WINDOW_MS + WINDOW_MS,
  );

describe('the KPI alarms judged on what the collector publishes', () => {
  it('the simulated windows hold breaching, good and too quiet windows for both alarms', () => {
    for (const id of KPI_ALARMS) {
      const verdicts = Array.from({ length: WINDOWS }, (_, index) =>
        verdict(onTime, id, START + index * WINDOW_MS, FINAL),
      );
      expect(new Set(verdicts)).toEqual(new Set(['breach', 'within', 'quiet']));
      const states = evaluate(propertiesOf(resource(stack, id)), onTime).map(
        (evaluation) => evaluation.state,
      );
      expect(new Set(states)).toEqual(new Set(['ALARM', 'OK']));
    }
  });

  it('with CMS on time, every read of a window reaches CloudWatch before the window’s period ends', () => {
    expect(lateReads(onTime)).toEqual([]);
  });

  it('with CMS on time, the shipped KPI alarms are in ALARM exactly while 2 of the last 3 judged windows’ final counts breach', () => {
    for (const id of KPI_ALARMS) {
      expect(againstFinalCounts(onTime, id, evaluate(propertiesOf(resource(stack, id)), onTime))).toEqual([]);
    }
  });

  it('a sliding window on the same datapoints judges a window still being counted at four evaluations in five', () => {
    const evaluations = evaluate(sliding(propertiesOf(resource(stack, KPI_ALARMS[0] ?? ''))), onTime);
    const unfinished = evaluations.filter((evaluation) => {
      const newest = evaluation.periods.at(-1);
      // The window whose reads the newest period holds: the one starting inside it.
      const windowStart = Math.ceil((newest?.start ?? 0) / WINDOW_MS) * WINDOW_MS;
      return windowStart + WINDOW_MS > evaluation.at;
    });
    expect(unfinished.length / evaluations.length).toBe(4 / 5);
  });

  it('a sliding window on the same datapoints would have alarmed on other minutes than the final counts call for', () => {
    const wrong = KPI_ALARMS.flatMap((id) =>
      againstFinalCounts(onTime, id, evaluate(sliding(propertiesOf(resource(stack, id))), onTime)).map(
        (evaluation) => `${id} ${evaluation}`,
      ),
    );
    // Partial windows: early in a window, abandonments and answers lag the calls offered.
    expect(wrong.length).toBeGreaterThan(0);
  });

  it('with CMS 2 s behind, the first run after each boundary still reads the window that ended, late', () => {
    const windowsWithLateReads = new Set(lateReads(trailing).map((point) => point.timestamp));
    expect(windowsWithLateReads.size).toBe(WINDOWS + 1);
  });

  it('with CMS 2 s behind, each evaluation judges the windows as they stood then, and one minute later the late read is in', () => {
    for (const id of KPI_ALARMS) {
      const evaluations = evaluate(propertiesOf(resource(stack, id)), trailing);
      for (const evaluation of evaluations) {
        expect(evaluation.state).toBe(expectedState(trailing, id, evaluation.at, evaluation.at));
      }
      const afterFirstMinute = evaluations.filter((evaluation) => evaluation.at % WINDOW_MS !== 0);
      expect(againstFinalCounts(trailing, id, afterFirstMinute)).toEqual([]);
    }
  });
});
