/**
 * The fault suite's instruments find what they claim to: a secret in any kind of evidence, and any difference
 * between the datums received and the datums a collection should publish. Without this, a passing leak check
 * or datum comparison elsewhere could mean a blind instrument.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretError } from '../../lib/errors.js';
import { createLogger } from '../../lib/log.js';
import { CloudWatchSink } from '../../lib/metrics/cloudwatch.js';
import type { Datum } from '../../lib/metrics/datum.js';
import type { CmsSkillRecord } from '../../local/simulator/index.js';
import { type FakeAws, type ReceivedDatum, startFakeAws } from '../support/fake-aws.js';
import {
  captureOutput,
  datumKey,
  Evidence,
  exchange,
  expectedVdn,
  failedVdnMismatches,
  fileMetricBody,
  healthyVdnMismatches,
  leaksIn,
  SECRET_KEY,
  type TargetSpec,
} from './harness.js';

const SIGNATURE = `auth-v2/some-access-key/2025-01-02T03:04:05.678Z/content-length;content-type;host/${'ab'.repeat(32)}`;

describe('the leak check', () => {
  it('finds the secret key, a clipped echo of it and an Authorization value', () => {
    expect(leaksIn(`refused key ${SECRET_KEY}`)).toEqual(['the secret key']);
    expect(leaksIn(`starting "${SECRET_KEY.slice(0, 20)}…"`)).toEqual(['the secret key']);
    expect(leaksIn(`header ${SIGNATURE}`)).toEqual(['an Authorization value']);
  });

  it('passes a redacted Authorization value and text without secrets', () => {
    expect(leaksIn('CMS said: bad header auth-v2/[redacted]')).toEqual([]);
    expect(leaksIn('CMS answered HTTP 503 for fault-suite-access-key')).toEqual([]);
  });

  it('sees the secret wherever an error carries it', () => {
    const evidence = new Evidence();
    const deepCause = new Error('outer', { cause: new Error('middle', { cause: new Error(SECRET_KEY) }) });
    const hiddenField = new SecretError('secret unreadable');
    Object.defineProperty(hiddenField, 'request', { value: { secretKey: SECRET_KEY }, enumerable: false });
    const aggregate = new AggregateError([new Error(SIGNATURE)], 'several failures');
    const plainObject = { code: 'X', detail: { nested: [SECRET_KEY] } };

    evidence.addError('deep cause', deepCause);
    evidence.addError('hidden field', hiddenField);
    evidence.addError('aggregate', aggregate);
    evidence.addError('plain object', plainObject);
    evidence.addError('clean', new Error('CMS answered HTTP 503'));

    expect(evidence.leaks()).toEqual([
      'deep cause: the secret key',
      'hidden field: the secret key',
      'aggregate: an Authorization value',
      'plain object: the secret key',
    ]);
  });

  it('sees what the real logger writes, and gives the streams back afterwards', () => {
    const originalWrite = process.stdout.write;
    const output = captureOutput();
    try {
      createLogger().error('credentials refused', { detail: SECRET_KEY });
    } finally {
      output.restore();
    }
    expect(output.records()).toContainEqual(
      expect.objectContaining({ level: 'ERROR', message: 'credentials refused' }),
    );
    expect(output.lines.flatMap(leaksIn)).toEqual(['the secret key']);
    expect(process.stdout.write).toBe(originalWrite);
  });
});

describe('the wire recorders', () => {
  let aws: FakeAws;

  beforeAll(async () => {
    aws = await startFakeAws();
  });

  afterAll(async () => {
    await aws?.close();
  });

  it('keep PutMetricData bodies readable even when the SDK gzips them', async () => {
    const client = new CloudWatchClient({
      region: 'eu-west-1',
      endpoint: aws.url,
      credentials: { accessKeyId: 'dummy', secretAccessKey: 'dummy' },
    });
    const datums: Datum[] = Array.from({ length: 300 }, (_, index) => ({
      name: 'CallsOffered',
      unit: 'Count',
      value: index,
      timestamp: Date.now() - 60_000,
      dimensions: { CcId: '1', Vdn: SECRET_KEY, SkillId: String(index + 1) },
    }));
    try {
      const report = await new CloudWatchSink({ client, namespace: 'FaultSuite/Check' }).publish(datums);
      expect(report.published).toBe(300);
    } finally {
      client.destroy();
    }
    expect(aws.putMetricDataCalls.map((call) => call.gzipped)).toEqual([true]);
    const evidence = new Evidence();
    for (const attempt of aws.attempts) fileMetricBody(evidence, attempt);
    expect(evidence.leaks()).toEqual(['PutMetricData body #0: the secret key']);
  });

  it('file every HTTP answer, headers included', async () => {
    const server = createServer((_, response) => {
      response.writeHead(502, { 'x-debug': SIGNATURE, 'content-type': 'application/json' });
      response.end('{"error":{"code":"X"}}');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const evidence = new Evidence();
    try {
      const answer = await exchange(evidence, `http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      expect(answer.status).toBe(502);
    } finally {
      server.close();
    }
    expect(evidence.leaks()).toEqual([
      expect.stringMatching(/^HTTP GET http:\/\/127\.0\.0\.1:\d+\/: an Authorization value$/),
    ]);
  });
});

// --- the datum comparison ------------------------------------------------------------------------------------

const WINDOW_START = Date.UTC(2025, 4, 6, 10, 5);
const RUN_TIME = WINDOW_START + 250_000;
const TARGET: TargetSpec = { ccId: 1, vdn: 170, skillList: '1-3', skillIds: [1, 2, 3] };

/** Skill 3 is absent; skill 2 takes no calls, so it publishes nothing. */
const served = {
  statsAt: (_ccId: number, _vdn: number, skillId: number): CmsSkillRecord | undefined =>
    skillId === 3
      ? undefined
      : {
          id: skillId,
          startTime: WINDOW_START,
          allCallCount: skillId === 1 ? 30 : 0,
          cnnedCallCount: skillId === 1 ? 25 : 0,
          abanCallCount: skillId === 1 ? 3 : 0,
          callEndCount: skillId === 1 ? 20 : 0,
          talkTimeOnIvr: skillId === 1 ? 400 : 0,
          cnnedIn20sCallCount: skillId === 1 ? 21 : 0,
          clearUpCallCount: skillId === 1 ? 18 : 0,
          clearUpTime: skillId === 1 ? 541 : 0,
        },
};

function health(name: string, value: number, unit: string): ReceivedDatum {
  return { name, unit, value, timestamp: RUN_TIME, dimensions: { CcId: '1', Vdn: '170' } };
}

function perfectRun(): ReceivedDatum[] {
  return [
    ...expectedVdn(served, TARGET, RUN_TIME).stats.map((datum) => ({ ...datum })),
    health('CollectionSuccess', 1, 'Count'),
    health('CmsLatency', 12, 'Milliseconds'),
    health('SkillsMissing', 1, 'Count'),
    health('DataAge', 250, 'Seconds'),
  ];
}

function mismatchesOf(received: ReceivedDatum[]): string[] {
  return healthyVdnMismatches(received, expectedVdn(served, TARGET, RUN_TIME), TARGET);
}

describe('the datum comparison', () => {
  it('computes counters, rates from the sums, and no rate without calls', () => {
    const byKey = new Map(perfectRun().map((datum) => [datumKey(datum), datum.value]));
    expect(byKey.get('CallsOffered CcId=1 Vdn=170')).toBe(30);
    expect(byKey.get('AbandonmentRate CcId=1 Vdn=170')).toBe(10);
    expect(byKey.get('AverageWrapUpTime CcId=1 Vdn=170 SkillId=1')).toBe(541 / 18);
    expect(byKey.has('AnswerRate CcId=1 Vdn=170 SkillId=2')).toBe(false);
    expect(byKey.has('CallsOffered CcId=1 Vdn=170 SkillId=3')).toBe(false);
  });

  it('accepts exactly what a successful collection publishes', () => {
    expect(mismatchesOf(perfectRun())).toEqual([]);
  });

  it('reports a wrong value, a missing datum, a duplicate and a stranger', () => {
    const run = perfectRun();
    const wrong = run.findIndex((datum) => datumKey(datum) === 'CallsAbandoned CcId=1 Vdn=170 SkillId=1');
    run[wrong] = { ...(run[wrong] as ReceivedDatum), value: 4 };
    const dropped = run.findIndex((datum) => datumKey(datum) === 'ServiceLevel20s CcId=1 Vdn=170');
    run.splice(dropped, 1);
    run.push({ ...(run[0] as ReceivedDatum) });
    run.push({ ...(run[0] as ReceivedDatum), dimensions: { CcId: '1', Vdn: '170', SkillId: '99' } });

    expect(mismatchesOf(run)).toEqual([
      expect.stringMatching(/^CallsOffered CcId=1 Vdn=170: received 2 times/),
      'ServiceLevel20s CcId=1 Vdn=170: missing',
      expect.stringMatching(/^CallsAbandoned CcId=1 Vdn=170 SkillId=1: got .*"value":4/),
      'CallsOffered CcId=1 Vdn=170 SkillId=99: not expected',
    ]);
  });

  it('reports a failed collection, a wrong window stamp and a DataAge of another time', () => {
    const run = perfectRun().map((datum) => {
      if (datum.name === 'CollectionSuccess') return { ...datum, value: 0 };
      if (datum.name === 'DataAge') return { ...datum, value: 100 };
      if (datumKey(datum) === 'WrapUps CcId=1 Vdn=170 SkillId=1') return { ...datum, timestamp: RUN_TIME };
      return datum;
    });
    expect(mismatchesOf(run)).toEqual([
      expect.stringMatching(/^WrapUps CcId=1 Vdn=170 SkillId=1: got/),
      expect.stringMatching(/^CollectionSuccess:/),
      expect.stringMatching(/^DataAge:/),
    ]);
  });

  it('tells a failed VDN from one that published statistics or claimed success', () => {
    const failed = [
      health('CollectionSuccess', 0, 'Count'),
      health('CmsLatency', 1000, 'Milliseconds'),
      health('SkillsMissing', 0, 'Count'),
    ];
    expect(failedVdnMismatches(failed, TARGET)).toEqual([]);
    expect(failedVdnMismatches(perfectRun(), TARGET)).not.toEqual([]);
    expect(
      failedVdnMismatches([health('CollectionSuccess', 1, 'Count'), ...failed.slice(1)], TARGET),
    ).toEqual(['CollectionSuccess is not 0']);
  });
});
