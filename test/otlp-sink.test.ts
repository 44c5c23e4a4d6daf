import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';
import type { SkillRead } from '../lib/metrics/otlp-protobuf.js';
import { skillReads } from '../lib/metrics/otlp-report.js';
import { sigV4Signer } from '../lib/metrics/otlp-sigv4.js';
import { OtlpExporter, retryAfterMs } from '../lib/metrics/otlp-sink.js';
import { COUNTERS, type Counters, WINDOW_MS } from '../lib/model.js';
import { receiverOfTestFile, startOtlpReceiver } from './support/otlp-receiver.js';
import { readOf } from './support/vdn-read.js';

// The exporter against a local OTLP receiver on 127.0.0.1, which reads requests with the official schema.

const WINDOW = Date.UTC(2026, 10, 26, 9, 5);
const counters = (base: number): Counters =>
  Object.fromEntries(COUNTERS.map(({ name }, index) => [name, base + index])) as Counters;
const reads = (count: number): SkillRead[] =>
  Array.from({ length: count }, (_, index) => ({
    ccId: 1,
    vdn: 170,
    skillId: index + 1,
    windowStart: WINDOW,
    readAt: WINDOW + 61_000,
    counters: counters(index * 10),
  }));

const receiverNow = receiverOfTestFile();

/** An exporter whose waits are recorded and skipped, so that retries take no real time. */
function exporter(options: Partial<ConstructorParameters<typeof OtlpExporter>[0]> = {}) {
  const waits: number[] = [];
  const sink = new OtlpExporter({
    endpoint: new URL(receiverNow().url),
    sleep: async (ms) => {
      waits.push(ms);
    },
    ...options,
  });
  return { sink, waits };
}

const soon = () => Date.now() + 10_000;

describe('OTLP exporter', () => {
  it('POSTs gzip protobuf to the endpoint, and the receiver reads every datapoint', async () => {
    const { sink } = exporter();
    const report = await sink.export(reads(3), { deadline: soon() });
    expect(receiverNow().requests).toHaveLength(1);
    const [request] = receiverNow().requests;
    expect(request?.path).toBe('/v1/metrics');
    expect(request?.headers['content-type']).toBe('application/x-protobuf');
    expect(request?.headers['content-encoding']).toBe('gzip');
    expect(request?.points).toHaveLength(3 * COUNTERS.length);
    expect(report).toMatchObject({ points: 24, accepted: 24, rejected: 0, failed: 0, requests: 1 });
    expect(report.bytes).toBe(request?.payload.length);
    expect(report.wireBytes).toBe(request?.body.length);
  });

  it('splits a large export into requests within the byte and datapoint limits, each read sent once', async () => {
    const { sink } = exporter({ limits: { bytes: 4_000, points: 80 } });
    const report = await sink.export(reads(50), { deadline: soon() });
    expect(receiverNow().requests.length).toBeGreaterThan(1);
    for (const request of receiverNow().requests) {
      expect(request.payload.length).toBeLessThanOrEqual(4_000);
      expect(request.points.length).toBeLessThanOrEqual(80);
    }
    // Requests run concurrently, so they may arrive in any order.
    const skills = receiverNow().accepted.filter((point) => point.name === 'cec_calls_offered');
    expect(skills.map((point) => Number(point.attributes.skill_id)).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 50 }, (_, index) => index + 1),
    );
    expect(report).toMatchObject({ points: 400, accepted: 400, requests: receiverNow().requests.length });
  });

  it('counts and describes the datapoints a partial success rejects', async () => {
    receiverNow().answer({ kind: 'partial', rejected: 5, message: 'timestamps too old' });
    const { sink } = exporter();
    const report = await sink.export(reads(2), { deadline: soon() });
    expect(report).toMatchObject({ points: 16, accepted: 11, rejected: 5, failed: 0 });
    expect(report.problems).toEqual([
      { kind: 'rejected', points: 5, error: 'partial success, 5 datapoints rejected: timestamps too old' },
    ]);
  });

  it('never counts more rejected datapoints than the request carried', async () => {
    receiverNow().answer({ kind: 'partial', rejected: 1_000_000, message: '' });
    const { sink } = exporter();
    const report = await sink.export(reads(1), { deadline: soon() });
    expect(report).toMatchObject({ points: 8, accepted: 0, rejected: 8 });
  });

  it('retries a 503 after the Retry-After it was given', async () => {
    receiverNow().answer({ kind: 'status', status: 503, retryAfter: '2' });
    const { sink, waits } = exporter();
    const report = await sink.export(reads(1), { deadline: soon() });
    expect(waits).toEqual([2_000]);
    expect(receiverNow().requests).toHaveLength(2);
    expect(report).toMatchObject({ accepted: 8, failed: 0, requests: 2 });
  });

  it.each([429, 502, 504])('retries HTTP %i', async (status) => {
    receiverNow().answer({ kind: 'status', status });
    const { sink, waits } = exporter();
    const report = await sink.export(reads(1), { deadline: soon() });
    expect(waits).toHaveLength(1);
    expect(report).toMatchObject({ accepted: 8, requests: 2 });
  });

  it('does not wait for a Retry-After that would pass the deadline, and says so', async () => {
    receiverNow().answer({ kind: 'status', status: 429, retryAfter: '30' });
    const { sink, waits } = exporter();
    const report = await sink.export(reads(1), { deadline: soon() });
    expect(waits).toEqual([]);
    expect(receiverNow().requests).toHaveLength(1);
    expect(report).toMatchObject({ accepted: 0, failed: 8, requests: 1 });
    expect(report.problems[0]?.error).toBe("HTTP 429; a retry in 30 s would pass the run's deadline");
  });

  it('gives up after a few attempts at an endpoint that keeps answering 503', async () => {
    receiverNow().answer(...Array.from({ length: 10 }, () => ({ kind: 'status' as const, status: 503 })));
    const { sink } = exporter();
    const report = await sink.export(reads(1), { deadline: soon() });
    expect(report).toMatchObject({ failed: 8, requests: 4 });
  });

  it('does not retry a request the receiver refuses as bad, and reports its words', async () => {
    receiverNow().answer({ kind: 'status', status: 400, text: 'bad\u001b[31m metric' });
    const { sink, waits } = exporter();
    const report = await sink.export(reads(1), { deadline: soon() });
    expect(waits).toEqual([]);
    expect(report.problems).toEqual([{ kind: 'failed', points: 8, error: 'HTTP 400: bad [31m metric' }]);
  });

  it('stops waiting for an endpoint that never answers at the deadline', async () => {
    receiverNow().answer({ kind: 'hang' });
    const { sink } = exporter();
    const started = Date.now();
    const report = await sink.export(reads(1), { deadline: started + 300 });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(report).toMatchObject({ failed: 8, accepted: 0 });
    expect(report.problems[0]?.error).toMatch(/did not answer within|deadline/);
  });

  it('reports an endpoint nobody listens on, after retrying within the deadline', async () => {
    const gone = await startOtlpReceiver();
    await gone.close();
    const sink = new OtlpExporter({ endpoint: new URL(gone.url), sleep: async () => {} });
    const report = await sink.export(reads(1), { deadline: soon() });
    expect(report).toMatchObject({ failed: 8, requests: 4 });
    expect(report.problems[0]?.error).toMatch(/connection failed.*ECONNREFUSED/);
  });

  it('takes a deadline that is not a whole millisecond', async () => {
    const { sink } = exporter();
    const report = await sink.export(reads(1), { deadline: Date.now() + 5_000.25 });
    expect(report).toMatchObject({ accepted: 8, failed: 0 });
  });

  it('sends nothing once the deadline has passed', async () => {
    const { sink } = exporter();
    const report = await sink.export(reads(1), { deadline: Date.now() - 1 });
    expect(receiverNow().requests).toHaveLength(0);
    expect(report).toMatchObject({ failed: 8, requests: 0 });
  });
});

/** SHA-256 for the independent signer, straight from node:crypto. */
type SourceData = string | ArrayBuffer | ArrayBufferView;
const bytesOf = (data: SourceData): string | Uint8Array =>
  typeof data === 'string'
    ? data
    : data instanceof ArrayBuffer
      ? new Uint8Array(data)
      : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
class NodeSha256 {
  readonly #hash;
  constructor(secret?: SourceData) {
    this.#hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytesOf(secret));
  }
  update(data: SourceData): void {
    this.#hash.update(bytesOf(data));
  }
  async digest(): Promise<Uint8Array> {
    return this.#hash.digest();
  }
}

describe('OTLP SigV4', () => {
  const credentials = {
    accessKeyId: 'AKIDEXAMPLE',
    secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  };
  const signingTime = Date.UTC(2026, 10, 26, 9, 7, 12);

  it('signs for service monitoring; an independent signer computes the same Authorization', async () => {
    const sink = new OtlpExporter({
      endpoint: new URL(receiverNow().url),
      signer: sigV4Signer({ region: 'eu-west-1', credentials, now: () => signingTime }),
    });
    await sink.export(reads(2), { deadline: soon() });
    const [request] = receiverNow().requests;
    if (request === undefined) throw new Error('nothing was sent');
    const authorization = request.headers.authorization ?? '';
    expect(authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20261126\/eu-west-1\/monitoring\/aws4_request, SignedHeaders=\S+, Signature=[0-9a-f]{64}$/,
    );
    const signedHeaders = /SignedHeaders=([^,]+)/.exec(authorization)?.[1]?.split(';') ?? [];
    expect(signedHeaders).toEqual(
      expect.arrayContaining([
        'content-encoding',
        'content-type',
        'host',
        'x-amz-content-sha256',
        'x-amz-date',
      ]),
    );
    const url = new URL(receiverNow().url);
    const independent = new SignatureV4({
      service: 'monitoring',
      region: 'eu-west-1',
      credentials,
      sha256: NodeSha256,
    });
    const resigned = await independent.sign(
      {
        method: 'POST',
        protocol: 'http:',
        hostname: url.hostname,
        port: Number(url.port),
        path: request.path,
        query: {},
        headers: Object.fromEntries(
          signedHeaders
            .filter((name) => name !== 'x-amz-date')
            .map((name) => [name, request.headers[name] ?? '']),
        ),
        body: request.body,
      },
      { signingDate: new Date(signingTime) },
    );
    expect(resigned.headers.authorization).toBe(authorization);
  });

  it('carries a session token when the credentials have one', async () => {
    const sink = new OtlpExporter({
      endpoint: new URL(receiverNow().url),
      signer: sigV4Signer({
        region: 'us-east-1',
        credentials: { ...credentials, sessionToken: 'session-token' },
      }),
    });
    await sink.export(reads(1), { deadline: soon() });
    expect(receiverNow().requests[0]?.headers['x-amz-security-token']).toBe('session-token');
  });
});

describe('what is sent of a VDN answer', () => {
  const skill = (skillId: number, windowStart: number, values: Partial<Counters>) => ({
    skillId,
    windowStart,
    counters: { ...counters(0), ...Object.fromEntries(COUNTERS.map(({ name }) => [name, 0])), ...values },
  });
  const outcome = (skills: ReturnType<typeof skill>[]) =>
    readOf(
      { ccId: 1, vdn: 170, skillIds: skills.map((each) => each.skillId).sort((a, b) => a - b) },
      { skills },
    );

  it('sends busy skills by id, each from its aligned window start, and nothing for an idle one', () => {
    const sent = skillReads(
      outcome([
        skill(9, WINDOW + 2_000, { CallsOffered: 3 }),
        skill(4, WINDOW, {}),
        skill(2, WINDOW + 1, { WrapUps: 1 }),
      ]),
      WINDOW + 61_000,
    );
    expect(sent.map((read) => [read.skillId, read.windowStart, read.readAt])).toEqual([
      [2, WINDOW, WINDOW + 61_000],
      [9, WINDOW, WINDOW + 61_000],
    ]);
  });

  it('keeps the read time inside the window the answer belongs to', () => {
    const busy = [skill(1, WINDOW, { CallsOffered: 1 })];
    expect(skillReads(outcome(busy), WINDOW + WINDOW_MS + 700)[0]?.readAt).toBe(WINDOW + WINDOW_MS - 1);
    expect(skillReads(outcome(busy), WINDOW - 400)[0]?.readAt).toBe(WINDOW + 1);
  });
});

describe('Retry-After', () => {
  it('reads seconds and HTTP dates', () => {
    const now = Date.UTC(2026, 10, 26, 9, 0, 0);
    expect(retryAfterMs('7', now)).toBe(7_000);
    expect(retryAfterMs('Thu, 26 Nov 2026 09:00:05 GMT', now)).toBe(5_000);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs(undefined, now)).toBeUndefined();
  });
});
