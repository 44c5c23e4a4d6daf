/**
 * The fault suite's instruments find what they claim to: a secret in any kind of evidence. Without this, a
 * passing leak check elsewhere could mean a blind instrument.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretError } from '../../lib/errors.js';
import { createLogger } from '../../lib/log.js';
import { CloudWatchSink } from '../../lib/metrics/cloudwatch.js';
import type { Datum } from '../../lib/metrics/metric-sink.js';
import { type FakeAws, startFakeAws } from '../support/fake-aws.js';
import { captureOutput, Evidence, exchange, fileMetricBody, leaksIn, SECRET_KEY } from './harness.js';

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
