/**
 * A wire-level stand-in for CloudWatch PutMetricData and GetMetricData (answered from the datums it received) and
 * Secrets Manager GetSecretValue on 127.0.0.1, so the
 * real SDK clients (pointed at it with `endpoint` or AWS_ENDPOINT_URL) can be exercised end to end: request
 * serialization, gzip request compression, error deserialization and the SDK's own retries.
 *
 * Wire formats, as sent by @aws-sdk/client-cloudwatch and client-secrets-manager 3.1164:
 * - CloudWatch: awsJson1_0, `X-Amz-Target: GraniteServiceVersion20100801.PutMetricData`, query-compatible
 *   (`x-amzn-query-mode: true`), so errors carry `x-amzn-query-error: <Code>;Sender`, which the SDK prefers
 *   over `__type`; bodies of 10 KiB and more arrive gzip-compressed; timestamps are epoch seconds.
 * - Secrets Manager: awsJson1_1, `X-Amz-Target: secretsmanager.GetSecretValue`; errors are `__type`.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';

export interface ReceivedDatum {
  name: string;
  unit: string | undefined;
  value: number;
  /** Epoch milliseconds. */
  timestamp: number;
  dimensions: Record<string, string>;
}

interface PutMetricDataCall {
  namespace: string;
  datums: ReceivedDatum[];
  /** Size of the body as it came over the wire (compressed, when gzipped). */
  bodyBytes: number;
  gzipped: boolean;
  /** Size of the JSON payload after decompression: what the service's 1 MB limit is checked against. */
  payloadBytes: number;
  /** The service's clock when the call was accepted: from then on its datums can be read. */
  receivedAt: number;
}

type AwsOperation = 'PutMetricData' | 'GetMetricData' | 'GetSecretValue';

/** Every request that reached an operation, accepted or not, in arrival order. */
export interface AwsAttempt {
  operation: AwsOperation;
  /**
   * The request body as the service reads it (gunzipped when sent compressed; as received when that fails). Kept
   * whole, because a leak could hide in any part of a request that the parsed records leave out.
   */
  body: string;
  status: number;
  /** The error code answered, when the request was refused. */
  error?: string;
}

export type AwsFault =
  /** Delays every matching call while active; `times` counts calls. */
  | { kind: 'latency'; ms: number; operation?: AwsOperation }
  /** 400 Throttling (or HTTP 429 Too Many Requests), which the SDK retries. */
  | { kind: 'throttle'; operation: 'PutMetricData'; status?: 429 }
  /** HTTP 413 with a body that is not the service's JSON, as a front end answers a request too large. */
  | { kind: 'tooLarge'; operation: 'PutMetricData' }
  /** 400 InvalidParameterValue by default, which the SDK does not retry. */
  | { kind: 'fail'; operation: 'PutMetricData'; code?: string }
  | { kind: 'secretNotFound' }
  | { kind: 'accessDenied'; operation: AwsOperation };

export interface FakeAws {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  /** Stores a secret under a name, or under an ARN (then also answered by the name inside it). */
  setSecret(secretId: string, secretString: string): void;
  readonly putMetricDataCalls: readonly PutMetricDataCall[];
  readonly getSecretValueCalls: readonly { secretId: string }[];
  /** The metric queries of each GetMetricData call. */
  readonly getMetricDataCalls: readonly { queries: number }[];
  readonly attempts: readonly AwsAttempt[];
  /** `times` defaults to 1; Infinity keeps the fault until clearFaults(). */
  inject(fault: AwsFault, options?: { times?: number }): void;
  clearFaults(): void;
  /** Forgets recorded calls and attempts (in place), so one fake can serve a whole suite. */
  clearRecords(): void;
  close(): Promise<void>;
}

const FAKE_REGION = 'us-east-1';
const FAKE_ACCOUNT = '000000000000';

/** The limits the real service enforces, so a batching bug fails here rather than in production. */
const PUT_METRIC_DATA_MAX_DATUMS = 1_000;
const PUT_METRIC_DATA_MAX_BYTES = 1_048_576;
const MAX_DIMENSIONS = 30;
/** The service refuses the whole request for one timestamp older than two weeks or over two hours ahead. */
const TIMESTAMP_MAX_AGE_MS = 14 * 24 * 3_600_000;
const TIMESTAMP_MAX_AHEAD_MS = 2 * 3_600_000;

const TARGETS: Readonly<Record<string, AwsOperation>> = {
  'GraniteServiceVersion20100801.PutMetricData': 'PutMetricData',
  'GraniteServiceVersion20100801.GetMetricData': 'GetMetricData',
  'secretsmanager.GetSecretValue': 'GetSecretValue',
};

interface AwsErrorReply {
  status: number;
  /** The code the SDK turns into the exception's name. */
  code: string;
  /** The `__type` member. */
  type: string;
  message: string;
}

/** CloudWatch codes as the real service answers them; the SDK maps the query code to its exception class. */
const CLOUDWATCH_ERRORS: Readonly<Record<string, { type: string; status: number }>> = {
  InvalidParameterValue: { type: 'com.amazonaws.cloudwatch#InvalidParameterValueException', status: 400 },
  InvalidParameterCombination: {
    type: 'com.amazonaws.cloudwatch#InvalidParameterCombinationException',
    status: 400,
  },
  MissingParameter: { type: 'com.amazonaws.cloudwatch#MissingRequiredParameterException', status: 400 },
  InternalServiceError: { type: 'com.amazonaws.cloudwatch#InternalServiceFault', status: 500 },
  Throttling: { type: 'com.amazon.coral.availability#ThrottlingException', status: 400 },
  AccessDenied: { type: 'com.amazon.coral.service#AccessDeniedException', status: 400 },
};

function cloudWatchError(code: string, message: string): AwsErrorReply {
  const known = CLOUDWATCH_ERRORS[code];
  return {
    status: known?.status ?? 400,
    code,
    type: known?.type ?? `com.amazonaws.cloudwatch#${code}`,
    message,
  };
}

function secretsManagerError(code: string, message: string): AwsErrorReply {
  return { status: 400, code, type: code, message };
}

class RequestRejected extends Error {
  constructor(readonly reply: AwsErrorReply) {
    super(reply.message);
  }
}

interface StoredSecret {
  readonly name: string;
  readonly arn: string;
  readonly secretString: string;
  readonly versionId: string;
  readonly createdDate: number;
}

interface ActiveFault {
  readonly fault: AwsFault;
  remaining: number;
}

export interface FakeAwsOptions {
  /** Added to every call, as a real endpoint's round trip. */
  readonly latencyMs?: number;
  /** The service's clock, for the timestamp limits; default Date.now. */
  readonly now?: () => number;
  /** Sees every attempt as it is recorded: for a record that must outlive clearRecords (a whole-file audit). */
  readonly onAttempt?: (attempt: AwsAttempt) => void;
}

export async function startFakeAws(options: FakeAwsOptions = {}): Promise<FakeAws> {
  const baseLatencyMs = options.latencyMs ?? 0;
  const now = options.now ?? Date.now;
  const secrets = new Map<string, StoredSecret>();
  const putMetricDataCalls: PutMetricDataCall[] = [];
  const getSecretValueCalls: { secretId: string }[] = [];
  const getMetricDataCalls: { queries: number }[] = [];
  const attempts: AwsAttempt[] = [];
  let faults: ActiveFault[] = [];

  const takeLatency = (operation: AwsOperation): number => {
    let ms = baseLatencyMs;
    for (const active of faults) {
      const { fault } = active;
      if (fault.kind === 'latency' && (fault.operation === undefined || fault.operation === operation)) {
        ms += fault.ms;
        active.remaining -= 1;
      }
    }
    faults = faults.filter((active) => active.remaining > 0);
    return ms;
  };

  const takeErrorFault = (operation: AwsOperation): AwsErrorReply | undefined => {
    const active = faults.find(
      ({ fault }) => fault.kind !== 'latency' && faultOperation(fault) === operation,
    );
    if (active === undefined) return undefined;
    active.remaining -= 1;
    faults = faults.filter((candidate) => candidate.remaining > 0);
    return faultReply(active.fault);
  };

  const findSecret = (secretId: string): StoredSecret | undefined => {
    const byName = secrets.get(secretId);
    if (byName !== undefined) return byName;
    // Secrets Manager also answers to the full ARN and to the ARN without its random six-character suffix.
    for (const secret of secrets.values()) {
      if (secret.arn === secretId || secret.arn.slice(0, -7) === secretId) return secret;
    }
    return undefined;
  };

  const putMetricData = (
    body: unknown,
    wire: { bodyBytes: number; gzipped: boolean; payloadBytes: number },
    at: number,
  ) => {
    putMetricDataCalls.push({ ...parsePutMetricData(body, at), ...wire, receivedAt: at });
    return {};
  };

  const getMetricData = (body: unknown): object => {
    const queries = parseMetricQueries(body);
    getMetricDataCalls.push({ queries: queries.length });
    return {
      MetricDataResults: queries.map((query) => ({
        Id: query.id,
        Label: query.metricName,
        StatusCode: 'Complete',
        ...aggregate(query, putMetricDataCalls),
      })),
      Messages: [],
    };
  };

  const getSecretValue = (body: unknown): object => {
    const secretId = isRecord(body) && typeof body.SecretId === 'string' ? body.SecretId : undefined;
    if (secretId === undefined || secretId.length === 0) {
      throw new RequestRejected(secretsManagerError('InvalidParameterException', 'SecretId is required.'));
    }
    const secret = findSecret(secretId);
    if (secret === undefined) {
      throw new RequestRejected(
        secretsManagerError('ResourceNotFoundException', "Secrets Manager can't find the specified secret."),
      );
    }
    getSecretValueCalls.push({ secretId });
    return {
      ARN: secret.arn,
      Name: secret.name,
      VersionId: secret.versionId,
      SecretString: secret.secretString,
      VersionStages: ['AWSCURRENT'],
      CreatedDate: secret.createdDate / 1000,
    };
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const raw = await readBody(request);
    const operation = TARGETS[headerValue(request, 'x-amz-target') ?? ''];
    if (request.method !== 'POST' || operation === undefined) {
      reply(response, 'application/x-amz-json-1.1', {
        status: 400,
        code: 'UnknownOperationException',
        type: 'UnknownOperationException',
        message: `Unknown operation ${headerValue(request, 'x-amz-target') ?? '(no X-Amz-Target)'}`,
      });
      return;
    }
    const isCloudWatch = operation !== 'GetSecretValue';
    const contentType = isCloudWatch ? 'application/x-amz-json-1.0' : 'application/x-amz-json-1.1';
    const errorOf = isCloudWatch ? cloudWatchError : secretsManagerError;
    const gzipped = (headerValue(request, 'content-encoding') ?? '').includes('gzip');
    const payload = gzipped ? await gunzipAsync(raw).catch(() => undefined) : raw;
    const body = (payload ?? raw).toString('utf8');
    let outcome: { body: object } | { error: AwsErrorReply };
    try {
      const latency = takeLatency(operation);
      if (latency > 0) await sleep(latency);
      if (!(headerValue(request, 'authorization') ?? '').startsWith('AWS4-HMAC-SHA256 ')) {
        // The request's credentials are never echoed: only the fact that a signature is missing.
        throw new RequestRejected(
          errorOf('MissingAuthenticationToken', 'Request is missing a SigV4 Authorization header.'),
        );
      }
      const injected = takeErrorFault(operation);
      if (injected !== undefined) throw new RequestRejected(injected);
      if (payload === undefined) {
        throw new RequestRejected(errorOf('SerializationException', 'The request body is not valid gzip.'));
      }
      const payloadBytes = payload.length;
      if (operation === 'PutMetricData' && payloadBytes > PUT_METRIC_DATA_MAX_BYTES) {
        throw new RequestRejected(
          cloudWatchError(
            'InvalidParameterValue',
            `The request payload of ${payloadBytes} bytes exceeds the limit of ${PUT_METRIC_DATA_MAX_BYTES} bytes.`,
          ),
        );
      }
      const parsed = parseJson(body, errorOf);
      let answer: object;
      if (operation === 'PutMetricData')
        answer = putMetricData(parsed, { bodyBytes: raw.length, gzipped, payloadBytes }, now());
      else if (operation === 'GetMetricData') answer = getMetricData(parsed);
      else answer = getSecretValue(parsed);
      outcome = { body: answer };
    } catch (error) {
      if (!(error instanceof RequestRejected)) throw error;
      outcome = { error: error.reply };
    }
    const attempt: AwsAttempt =
      'error' in outcome
        ? { operation, body, status: outcome.error.status, error: outcome.error.code }
        : { operation, body, status: 200 };
    attempts.push(attempt);
    options.onAttempt?.(attempt);
    if ('error' in outcome) reply(response, contentType, outcome.error, isCloudWatch);
    else respond(response, 200, contentType, outcome.body);
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      respond(response, 500, 'application/x-amz-json-1.1', {
        __type: 'InternalFailure',
        message: error instanceof Error ? error.message : String(error),
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    setSecret(secretId, secretString) {
      const stored = storedSecret(secretId, secretString);
      secrets.set(stored.name, stored);
    },
    putMetricDataCalls,
    getSecretValueCalls,
    getMetricDataCalls,
    attempts,
    inject(fault, injectOptions = {}) {
      const times = injectOptions.times ?? 1;
      if (!(times > 0)) throw new RangeError(`times must be positive, got ${times}`);
      faults.push({ fault, remaining: times });
    },
    clearFaults() {
      faults = [];
    },
    clearRecords() {
      putMetricDataCalls.length = 0;
      getSecretValueCalls.length = 0;
      getMetricDataCalls.length = 0;
      attempts.length = 0;
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}

function faultOperation(fault: AwsFault): AwsOperation | undefined {
  return fault.kind === 'secretNotFound' ? 'GetSecretValue' : fault.operation;
}

function faultReply(fault: AwsFault): AwsErrorReply | undefined {
  switch (fault.kind) {
    case 'throttle':
      return fault.status === 429
        ? {
            status: 429,
            code: 'TooManyRequestsException',
            type: 'TooManyRequestsException',
            message: 'Too Many Requests',
          }
        : cloudWatchError('Throttling', 'Rate exceeded');
    case 'tooLarge':
      return { status: 413, code: 'RequestEntityTooLarge', type: '', message: 'Request Entity Too Large' };
    case 'fail':
      return cloudWatchError(fault.code ?? 'InvalidParameterValue', 'Injected failure.');
    case 'secretNotFound':
      return secretsManagerError(
        'ResourceNotFoundException',
        "Secrets Manager can't find the specified secret.",
      );
    case 'accessDenied': {
      const message = `User: arn:aws:sts::${FAKE_ACCOUNT}:assumed-role/collector/session is not authorized to perform: ${
        fault.operation === 'PutMetricData' ? 'cloudwatch:PutMetricData' : 'secretsmanager:GetSecretValue'
      } because no identity-based policy allows it`;
      return fault.operation === 'PutMetricData'
        ? cloudWatchError('AccessDenied', message)
        : secretsManagerError('AccessDeniedException', message);
    }
    case 'latency':
      return undefined;
  }
}

function storedSecret(secretId: string, secretString: string): StoredSecret {
  const arnMatch = /^arn:[^:]+:secretsmanager:[^:]*:[^:]*:secret:(.+)$/.exec(secretId);
  const suffix = randomUUID().replaceAll('-', '').slice(0, 6);
  const name = arnMatch?.[1] ? arnMatch[1].replace(/-[A-Za-z0-9]{6}$/, '') : secretId;
  return {
    name,
    arn: arnMatch
      ? secretId
      : `arn:aws:secretsmanager:${FAKE_REGION}:${FAKE_ACCOUNT}:secret:${name}-${suffix}`,
    secretString,
    versionId: randomUUID(),
    createdDate: Date.now(),
  };
}

interface MetricQuery {
  readonly id: string;
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Record<string, string>;
  readonly periodMs: number;
  readonly stat: 'Minimum' | 'Maximum' | 'Sum' | 'Average' | 'SampleCount';
  readonly startMs: number;
  readonly endMs: number;
  readonly descending: boolean;
}

const STATS = ['Minimum', 'Maximum', 'Sum', 'Average', 'SampleCount'] as const;

/** The MetricStat queries of a GetMetricData request (metric math is not supported by this fake). */
function parseMetricQueries(body: unknown): MetricQuery[] {
  const invalid = (message: string) => new RequestRejected(cloudWatchError('InvalidParameterValue', message));
  if (!isRecord(body) || !Array.isArray(body.MetricDataQueries) || body.MetricDataQueries.length === 0) {
    throw new RequestRejected(
      cloudWatchError('MissingParameter', 'The parameter MetricDataQueries is required.'),
    );
  }
  const { StartTime, EndTime, ScanBy } = body;
  if (typeof StartTime !== 'number' || typeof EndTime !== 'number' || EndTime <= StartTime) {
    throw invalid('StartTime and EndTime must be epoch seconds, StartTime before EndTime.');
  }
  return body.MetricDataQueries.map((item: unknown, index): MetricQuery => {
    const at = `MetricDataQueries.member.${index + 1}`;
    const stat = isRecord(item) && isRecord(item.MetricStat) ? item.MetricStat : undefined;
    const metric = stat && isRecord(stat.Metric) ? stat.Metric : undefined;
    if (!isRecord(item) || typeof item.Id !== 'string' || !stat || !metric) {
      throw invalid(`${at} must have an Id and a MetricStat.`);
    }
    const statistic = STATS.find((name) => name === stat.Stat);
    if (typeof metric.Namespace !== 'string' || typeof metric.MetricName !== 'string' || !statistic) {
      throw invalid(`${at}.MetricStat needs Metric.Namespace, Metric.MetricName and a simple Stat.`);
    }
    if (typeof stat.Period !== 'number' || stat.Period < 1)
      throw invalid(`${at}.MetricStat.Period is invalid.`);
    const dimensions: Record<string, string> = {};
    for (const dimension of Array.isArray(metric.Dimensions) ? metric.Dimensions : []) {
      if (isRecord(dimension) && typeof dimension.Name === 'string' && typeof dimension.Value === 'string') {
        dimensions[dimension.Name] = dimension.Value;
      }
    }
    return {
      id: item.Id,
      namespace: metric.Namespace,
      metricName: metric.MetricName,
      dimensions,
      periodMs: stat.Period * 1000,
      stat: statistic,
      startMs: StartTime * 1000,
      endMs: EndTime * 1000,
      descending: ScanBy !== 'TimestampAscending',
    };
  });
}

/** The query's statistic per period over the datums received, as CloudWatch answers (epoch seconds). */
function aggregate(
  query: MetricQuery,
  calls: readonly PutMetricDataCall[],
): { Timestamps: number[]; Values: number[] } {
  const sameDimensions = (dimensions: Record<string, string>) =>
    Object.keys(dimensions).length === Object.keys(query.dimensions).length &&
    Object.entries(query.dimensions).every(([name, value]) => dimensions[name] === value);
  const buckets = new Map<number, number[]>();
  for (const call of calls) {
    if (call.namespace !== query.namespace) continue;
    for (const datum of call.datums) {
      if (datum.name !== query.metricName || !sameDimensions(datum.dimensions)) continue;
      if (datum.timestamp < query.startMs || datum.timestamp >= query.endMs) continue;
      const bucket = Math.floor(datum.timestamp / query.periodMs) * query.periodMs;
      buckets.set(bucket, [...(buckets.get(bucket) ?? []), datum.value]);
    }
  }
  const reduce = (values: number[]): number => {
    const sum = values.reduce((total, value) => total + value, 0);
    switch (query.stat) {
      case 'Minimum':
        return Math.min(...values);
      case 'Maximum':
        return Math.max(...values);
      case 'Sum':
        return sum;
      case 'Average':
        return sum / values.length;
      case 'SampleCount':
        return values.length;
    }
  };
  const times = [...buckets.keys()].sort((a, b) => (query.descending ? b - a : a - b));
  return {
    Timestamps: times.map((time) => time / 1000),
    Values: times.map((time) => reduce(buckets.get(time) ?? [])),
  };
}

/** Validates a PutMetricData body the way the service does and converts it to what tests assert on. */
function parsePutMetricData(body: unknown, now: number): Pick<PutMetricDataCall, 'namespace' | 'datums'> {
  const invalid = (message: string) => new RequestRejected(cloudWatchError('InvalidParameterValue', message));
  if (!isRecord(body)) throw invalid('The request body must be a JSON object.');
  const namespace = body.Namespace;
  if (typeof namespace !== 'string' || namespace.length === 0) {
    throw new RequestRejected(cloudWatchError('MissingParameter', 'The parameter Namespace is required.'));
  }
  const metricData = body.MetricData;
  if (!Array.isArray(metricData) || metricData.length === 0) {
    throw new RequestRejected(cloudWatchError('MissingParameter', 'The parameter MetricData is required.'));
  }
  if (metricData.length > PUT_METRIC_DATA_MAX_DATUMS) {
    throw invalid(
      `The collection MetricData must not have a size greater than ${PUT_METRIC_DATA_MAX_DATUMS} (got ${metricData.length}).`,
    );
  }
  const datums = metricData.map((item: unknown, index): ReceivedDatum => {
    const at = `MetricData.member.${index + 1}`;
    if (!isRecord(item)) throw invalid(`${at} must be an object.`);
    const { MetricName, Unit, Value, Timestamp, Dimensions } = item;
    if (typeof MetricName !== 'string' || MetricName.length === 0)
      throw invalid(`${at}.MetricName is required.`);
    if (typeof Value !== 'number' || !Number.isFinite(Value))
      throw invalid(`${at}.Value must be a finite number.`);
    if (typeof Timestamp !== 'number' || !Number.isFinite(Timestamp)) {
      throw invalid(`${at}.Timestamp must be epoch seconds.`);
    }
    const timestampMs = Timestamp * 1000;
    if (timestampMs < now - TIMESTAMP_MAX_AGE_MS || timestampMs > now + TIMESTAMP_MAX_AHEAD_MS) {
      throw invalid(
        `The parameter MetricData.member.${index + 1}.Timestamp must specify a time no more than two weeks in the past and no more than two hours in the future.`,
      );
    }
    if (Unit !== undefined && typeof Unit !== 'string') throw invalid(`${at}.Unit must be a string.`);
    const dimensions: Record<string, string> = {};
    const list: unknown[] = Dimensions === undefined ? [] : Array.isArray(Dimensions) ? Dimensions : [null];
    if (list.length > MAX_DIMENSIONS) {
      throw invalid(`${at}.Dimensions must not have more than ${MAX_DIMENSIONS} members.`);
    }
    for (const dimension of list) {
      if (!isRecord(dimension) || typeof dimension.Name !== 'string' || typeof dimension.Value !== 'string') {
        throw invalid(`${at}.Dimensions must be a list of {Name, Value} strings.`);
      }
      dimensions[dimension.Name] = dimension.Value;
    }
    return {
      name: MetricName,
      unit: Unit,
      value: Value,
      timestamp: Math.round(Timestamp * 1000),
      dimensions,
    };
  });
  return { namespace, datums };
}

function parseJson(text: string, errorOf: (code: string, message: string) => AwsErrorReply): unknown {
  try {
    return text.length === 0 ? {} : JSON.parse(text);
  } catch {
    throw new RequestRejected(errorOf('SerializationException', 'The request body is not valid JSON.'));
  }
}

function reply(response: ServerResponse, contentType: string, error: AwsErrorReply, queryCompatible = false) {
  if (error.status === 413) {
    // A front end's page, not the service's JSON.
    const page = Buffer.from('<html><body><h1>413 Request Entity Too Large</h1></body></html>');
    response.writeHead(413, { 'content-type': 'text/html', 'content-length': page.length });
    response.end(page);
    return;
  }
  if (queryCompatible) response.setHeader('x-amzn-query-error', `${error.code};Sender`);
  // CloudWatch's JSON errors spell the member `message`, Secrets Manager's `Message`; the SDK reads both.
  const body = queryCompatible
    ? { __type: error.type, message: error.message }
    : { __type: error.type, Message: error.message };
  respond(response, error.status, contentType, body);
}

function respond(response: ServerResponse, status: number, contentType: string, body: object): void {
  const payload = Buffer.from(JSON.stringify(body));
  response.writeHead(status, {
    'content-type': contentType,
    'content-length': payload.length,
    'x-amzn-requestid': randomUUID(),
  });
  response.end(payload);
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function headerValue(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const gunzipAsync = promisify(gunzip);

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
