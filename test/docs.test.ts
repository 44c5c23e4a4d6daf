import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COUNTERS, HEALTH_METRICS, KPIS } from '../lib/model.js';
import { alarmLogicalIds, buildAlarms } from '../stack/alarms.js';
import type { MonitoringSettings } from '../stack/settings.js';

// The numbers the guides and serverless.yml's comments state, against the code they describe: a change to the
// code that leaves a sentence behind fails here, naming the sentence.

const WORDS = [
  'zero',
  'one',
  'two',
  'three',
  'four',
  'five',
  'six',
  'seven',
  'eight',
  'nine',
  'ten',
  'eleven',
];
const inWords = (count: number): string => WORDS[count] ?? String(count);

/** A text file with its line breaks (and YAML comment markers) folded, so a sentence reads as one line. */
function prose(path: string): string {
  return readFileSync(new URL(`../${path}`, import.meta.url), 'utf8')
    .replace(/\n\s*#?\s*/g, ' ')
    .replace(/\s+/g, ' ');
}

const README = { name: 'README.md', text: prose('README.md') };
const DEPLOY = { name: 'docs/deploy.md', text: prose('docs/deploy.md') };
const SERVERLESS = { name: 'serverless.yml', text: prose('serverless.yml') };

/** A failure names the file and the words it lacks, not the whole file. */
function expectSays(file: { name: string; text: string }, words: string): void {
  expect(file.text.includes(words), `${file.name} says "${words}"`).toBe(true);
}

const VDN = { ccId: 1, vdn: 170 };
const SETTINGS: MonitoringSettings = {
  service: 'cms-skill-metrics',
  stage: 'docs',
  namespace: 'HuaweiCEC/SkillQueues',
  minCallsOffered: 20,
  abandonmentRateThreshold: 10,
  serviceLevelThreshold: 80,
  kpiEvaluationPeriods: 3,
  kpiDatapointsToAlarm: 2,
  collectorEvaluationPeriods: 2,
  dataAgeThresholdSeconds: 600,
  windowCoverageThreshold: 95,
  longestWaitThresholdSeconds: 120,
  longestWaitEvaluationPeriods: 5,
  longestWaitDatapointsToAlarm: 3,
  timeZone: 'UTC',
  clockChangesFrom: Date.UTC(2026, 0, 1),
};

const alarmsPerVdn = Object.keys(alarmLogicalIds(VDN)).length;

/** CloudWatch bills an alarm per metric it reads: a metric alarm one, a metric-math alarm each MetricStat. */
const alarmMetricsPerVdn = Object.values(buildAlarms([VDN], SETTINGS))
  .map(({ Properties }) =>
    Properties.MetricName === undefined
      ? (Properties.Metrics as { MetricStat?: unknown }[]).filter((query) => query.MetricStat).length
      : 1,
  )
  .reduce((sum, count) => sum + count, 0);
const ALARM_METRIC_USD = 0.1;
const usdPerVdn = (alarmMetricsPerVdn * ALARM_METRIC_USD).toFixed(2);

describe('the deploy guide and serverless.yml', () => {
  it('say how many alarms each VDN gets', () => {
    expect(Object.keys(buildAlarms([VDN], SETTINGS))).toHaveLength(alarmsPerVdn);
    expectSays(DEPLOY, `Every VDN the deployment collects gets ${inWords(alarmsPerVdn)} alarms`);
    expectSays(DEPLOY, `each VDN's ${inWords(alarmsPerVdn)} alarms cost about $${usdPerVdn} a month`);
    expectSays(SERVERLESS, `gets ${inWords(alarmsPerVdn)} alarms and a row of dashboard graphs`);
  });

  it('say what the alarms of a VDN cost', () => {
    expectSays(DEPLOY, `${alarmMetricsPerVdn} alarm metrics per watched VDN ($${usdPerVdn})`);
    expectSays(DEPLOY, `each watched VDN costs ${alarmMetricsPerVdn} alarm metrics, $${usdPerVdn} a month`);
    expectSays(SERVERLESS, `about ${usdPerVdn} USD a month per VDN`);
  });
});

describe('the README', () => {
  it('says how many counters, KPIs and health metrics are published', () => {
    expectSays(
      README,
      `the ${inWords(COUNTERS.length)} counters and ${inWords(KPIS.length)} KPIs; per VDN, ` +
        `${inWords(HEALTH_METRICS.length)} health metrics`,
    );
  });
});
