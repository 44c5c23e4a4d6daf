import { setTimeout as delay } from 'node:timers/promises';
import {
  type MetricDatum,
  PutMetricDataCommand,
  type PutMetricDataCommandOutput,
} from '@aws-sdk/client-cloudwatch';
import { ConfigError } from '../errors.js';
import { PUT_METRIC_DATA_LIMITS } from '../model.js';
import {
  type Datum,
  failureText,
  type MetricSink,
  type PublishFailure,
  type PublishOptions,
  type PublishReport,
  partitionPublishable,
} from './metric-sink.js';

/**
 * Bytes the datums of one call may take. The limit applies to the whole request, and the envelope
 * (`{"Namespace":...,"MetricData":[...]}`, namespace at most 255 characters) needs far less than the
 * ~48 KB kept back here, so a batch planned under this budget cannot reach the service limit.
 */
export const BATCH_BYTE_BUDGET = 1_000_000;

/** JSON of one datum without its strings and numbers, plus the comma that separates it from the next. */
const DATUM_JSON_FRAME_BYTES = '{"MetricName":"","Dimensions":[],"Timestamp":,"Value":,"Unit":""},'.length;
const DIMENSION_JSON_FRAME_BYTES = '{"Name":"","Value":""},'.length;
/** The longest a double prints as in JSON (e.g. -1.2345678901234567e-308). */
const NUMBER_JSON_MAX_BYTES = 24;

/** The one method of CloudWatchClient the sink uses, so tests can stand in for the service. */
export interface PutMetricDataClient {
  send(
    command: PutMetricDataCommand,
    options?: { abortSignal?: AbortSignal },
  ): Promise<PutMetricDataCommandOutput>;
}

export interface CloudWatchSinkOptions {
  readonly client: PutMetricDataClient;
  readonly namespace: string;
  /** PutMetricData calls in flight at once; default 8. */
  readonly maxConcurrency?: number;
  /** Jitter of the backoff after throttling, in [0, 1); Math.random by default. */
  readonly random?: () => number;
}

/**
 * After the SDK's own attempts, a throttled call is sent again after a backoff with full jitter (a random wait
 * up to `baseMs` × 2^round, at most `maxMs`), as long as the run's deadline allows, and never more than
 * `rounds` times should a caller give no deadline.
 */
const THROTTLING_BACKOFF = { baseMs: 200, maxMs: 2_000, rounds: 20 };

/** Publishes datums with PutMetricData, batched to the service limits and sent with bounded concurrency. */
export class CloudWatchSink implements MetricSink {
  readonly #client: PutMetricDataClient;
  readonly #namespace: string;
  readonly #maxConcurrency: number;
  readonly #random: () => number;

  constructor(options: CloudWatchSinkOptions) {
    const maxConcurrency = options.maxConcurrency ?? 8;
    if (!Number.isInteger(maxConcurrency) || maxConcurrency < 1) {
      throw new ConfigError('maxConcurrency', `must be a positive integer, got ${maxConcurrency}`);
    }
    if (options.namespace.length === 0) {
      throw new ConfigError('namespace', 'must not be empty');
    }
    this.#client = options.client;
    this.#namespace = options.namespace;
    this.#maxConcurrency = maxConcurrency;
    this.#random = options.random ?? Math.random;
  }

  async publish(datums: readonly Datum[], options: PublishOptions = {}): Promise<PublishReport> {
    const { valid, rejected } = partitionPublishable(datums, PUT_METRIC_DATA_LIMITS.dimensionsPerDatum);
    const report: MutableReport = { published: 0, calls: 0, failures: rejected };
    await mapWithConcurrency(planBatches(valid), this.#maxConcurrency, (batch) =>
      this.#send(batch, options.signal, report),
    );
    return report;
  }

  /**
   * One batch. A batch refused as invalid or as too large is split in halves and each sent again, so that one
   * datum the service will not take costs only itself (about 2 × log2(1,000) = 20 more calls), never the other
   * 999. A throttled batch waits and is sent again until the deadline (THROTTLING_BACKOFF).
   */
  async #send(
    batch: readonly Datum[],
    signal: AbortSignal | undefined,
    report: MutableReport,
  ): Promise<void> {
    /** What throttled the batch: its cause, should the deadline end the waiting (an abort tells nothing). */
    let throttledBy: unknown;
    for (let round = 0; ; round += 1) {
      report.calls += 1;
      try {
        await this.#client.send(
          new PutMetricDataCommand({ Namespace: this.#namespace, MetricData: batch.map(toMetricDatum) }),
          signal === undefined ? {} : { abortSignal: signal },
        );
        report.published += batch.length;
        return;
      } catch (error) {
        if ((isInvalidRequest(error) || isTooLarge(error)) && batch.length > 1 && !signal?.aborted) {
          const middle = Math.ceil(batch.length / 2);
          await this.#send(batch.slice(0, middle), signal, report);
          await this.#send(batch.slice(middle), signal, report);
          return;
        }
        if (isThrottled(error)) {
          throttledBy = error;
          if (round < THROTTLING_BACKOFF.rounds && (await this.#backOff(round, signal))) continue;
        }
        // One lost batch must not cost the others.
        const cause = signal?.aborted && throttledBy !== undefined ? throttledBy : error;
        report.failures.push({ datums: batch.length, error: failureText(cause) });
        return;
      }
    }
  }

  /** Waits before a throttled batch's next round; false when the deadline comes first. */
  async #backOff(round: number, signal: AbortSignal | undefined): Promise<boolean> {
    if (signal?.aborted) return false;
    const ceiling = Math.min(THROTTLING_BACKOFF.maxMs, THROTTLING_BACKOFF.baseMs * 2 ** round);
    try {
      await delay(this.#random() * ceiling, undefined, signal === undefined ? {} : { signal });
      return true;
    } catch {
      return false;
    }
  }
}

interface MutableReport {
  published: number;
  calls: number;
  failures: PublishFailure[];
}

/** CloudWatch's answers for a request it will never accept as sent (a bad timestamp, value or name). */
const INVALID_REQUEST =
  /^(InvalidParameterValue|InvalidParameterCombination|MissingRequiredParameter|MissingParameter)/;

function isInvalidRequest(error: unknown): boolean {
  return error instanceof Error && INVALID_REQUEST.test(error.name);
}

const statusOf = (error: unknown) =>
  (error as { $metadata?: { httpStatusCode?: unknown } })?.$metadata?.httpStatusCode;

/** HTTP 413: the request was larger than the service, or a front end before it, takes. */
function isTooLarge(error: unknown): boolean {
  return statusOf(error) === 413 || (error instanceof Error && /TooLarge/.test(error.name));
}

/** CloudWatch's 400 Throttling and HTTP 429: the same request is welcome a little later. */
const THROTTLED = /^(Throttling|ThrottlingException|TooManyRequestsException|RequestLimitExceeded)$/;

function isThrottled(error: unknown): boolean {
  return statusOf(error) === 429 || (error instanceof Error && THROTTLED.test(error.name));
}

/**
 * Splits datums, in order, into PutMetricData calls: at most 1,000 datums and a conservatively estimated
 * payload within BATCH_BYTE_BUDGET each. Filling every batch before opening the next gives the fewest calls
 * any order-keeping split can achieve.
 */
export function planBatches(datums: readonly Datum[]): Datum[][] {
  const batches: Datum[][] = [];
  let current: Datum[] = [];
  let currentBytes = 0;
  for (const datum of datums) {
    const bytes = estimateDatumBytes(datum);
    const full =
      current.length === PUT_METRIC_DATA_LIMITS.datumsPerCall || currentBytes + bytes > BATCH_BYTE_BUDGET;
    if (full && current.length > 0) {
      batches.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(datum);
    currentBytes += bytes;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/**
 * Upper estimate of the bytes one datum adds to the JSON request body. Arithmetic over the strings' lengths
 * rather than serialising: planning runs over every datum of a run (60,000 for 5,000 skills).
 */
export function estimateDatumBytes(datum: Datum): number {
  return (
    DATUM_JSON_FRAME_BYTES +
    2 * NUMBER_JSON_MAX_BYTES +
    jsonStringBytes(datum.name) +
    jsonStringBytes(datum.unit) +
    wireDimensions(datum.dimensions).bytes
  );
}

interface WireDimensions {
  readonly list: { Name: string; Value: string }[];
  readonly bytes: number;
}

/**
 * A skill's datums share one dimensions object and come one after another, so remembering the last one turns
 * 150,000 small allocations of a 5,000-skill run into 5,000. Datums may share the list: the SDK only reads it.
 */
let lastDimensions: Datum['dimensions'] | undefined;
let lastWire: WireDimensions = { list: [], bytes: 0 };

function wireDimensions(dimensions: Datum['dimensions']): WireDimensions {
  if (dimensions === lastDimensions) return lastWire;
  const list: { Name: string; Value: string }[] = [];
  let bytes = 0;
  for (const [name, value] of Object.entries(dimensions)) {
    if (value === undefined) continue;
    list.push({ Name: name, Value: value });
    bytes += DIMENSION_JSON_FRAME_BYTES + jsonStringBytes(name) + jsonStringBytes(value);
  }
  lastDimensions = dimensions;
  lastWire = { list, bytes };
  return lastWire;
}

/** UTF-8 bytes of a string's JSON text without its quotes; only strings that need escaping are serialised. */
function jsonStringBytes(text: string): number {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what JSON escapes.
  return /["\\\u0000-\u001f]/.test(text)
    ? Buffer.byteLength(JSON.stringify(text), 'utf8') - 2
    : Buffer.byteLength(text, 'utf8');
}

export function toMetricDatum(datum: Datum): MetricDatum {
  return {
    MetricName: datum.name,
    Dimensions: wireDimensions(datum.dimensions).list,
    Timestamp: new Date(datum.timestamp),
    Value: datum.value,
    Unit: datum.unit,
  };
}

/** Runs `task` over `items` in order with at most `limit` in flight. `task` must not reject. */
async function mapWithConcurrency<T>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await task(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
