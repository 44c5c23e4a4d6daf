import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { cleanText } from '../text.js';
import type { OtlpDatapoints } from './otlp-config.js';
import { type DatapointPolicy, datapointPolicy } from './otlp-delivered.js';
import {
  decodeExportResponse,
  OtlpMetricsEncoder,
  type PartialSuccess,
  pointsOf,
  REQUEST_ENVELOPE_MAX_BYTES,
  type SkillPoints,
  type SkillRead,
} from './otlp-protobuf.js';
import { emptyReport, type Mutable, type OtlpReport } from './otlp-report.js';
import { type OtlpAnswer, type OtlpPost, OtlpRequestError, postOtlp } from './otlp-transport.js';

// The OpenTelemetry export of every counter of every busy skill (metrics.md, "OpenTelemetry (OTLP) export"):
// OTLP/HTTP, protobuf bodies, gzip; of the reads, what the datapoint policy sends (otlp-delivered.ts). It runs
// beside the classic publication and never in its way: every request is bounded by the deadline it is given,
// failures and rejections are counted and described in the report (the collector logs them), and nothing here
// throws.

const gzip = promisify(gzipCallback);

/**
 * Request bounds. CloudWatch's OTLP endpoint documents 5 MB of uncompressed payload and 10,000 items per request
 * for traces and does not list its metrics limits; 1 MB, the classic PutMetricData limit, and 10,000 datapoints
 * keep every request far inside both.
 */
const OTLP_REQUEST_LIMITS = { bytes: 1_000_000, points: 10_000 } as const;

/** HTTP statuses the OTLP specification calls retryable. */
const RETRYABLE_STATUSES = new Set([429, 502, 503, 504]);
const MAX_ATTEMPTS = 4;
const BACKOFF_MS = 1_000;
/** One request's longest wait for an answer, within the deadline. */
const REQUEST_TIMEOUT_MS = 10_000;
/** Room for the error text of an answer in a log line. */
const MAX_MESSAGE_CHARS = 300;

/** Signs a request (SigV4); returns the headers to send. */
export type OtlpSigner = (request: {
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
}) => Promise<Record<string, string>>;

export interface OtlpExporterOptions {
  /** The full URL requests are POSTed to (…/v1/metrics). */
  readonly endpoint: URL;
  /** SigV4 (OTLP_AUTH=sigv4); unsigned when absent. */
  readonly signer?: OtlpSigner;
  readonly post?: OtlpPost;
  readonly now?: () => number;
  /** Waits before a retry; resolves early when `signal` aborts. */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly limits?: { readonly bytes: number; readonly points: number };
  /** Requests in flight at once; default 4. */
  readonly maxConcurrency?: number;
  /** Which datapoints go out (OTLP_DATAPOINTS); default each window's totals. */
  readonly datapoints?: OtlpDatapoints;
}

/**
 * Sends skill reads to an OTLP/HTTP metrics endpoint. One exporter serves a container's runs one after the other,
 * so that it remembers what the endpoint accepted and what it still owes it (a cold start starts afresh).
 */
export class OtlpExporter {
  readonly #encoder = new OtlpMetricsEncoder();
  readonly #policy: DatapointPolicy;

  constructor(private readonly options: OtlpExporterOptions) {
    this.#policy = datapointPolicy(options.datapoints ?? 'window-totals');
  }

  /**
   * Sends by `deadline` (epoch ms, the exporter's clock) what the datapoint policy sends of `reads` (a `closing`
   * read is its window's last) and of what earlier exports still owe; never throws.
   */
  async export(
    reads: readonly SkillRead[],
    { deadline, closing = false }: { readonly deadline: number; readonly closing?: boolean },
  ): Promise<OtlpReport> {
    const { bytes: maxBytes, points: maxPoints } = this.options.limits ?? OTLP_REQUEST_LIMITS;
    const now = this.options.now ?? Date.now;
    // Reads in order into requests within the limits, each as full as it can be.
    const batches: SkillPoints[][] = [];
    let batch: SkillPoints[] = [];
    let bytes = REQUEST_ENVELOPE_MAX_BYTES;
    let points = 0;
    for (const news of this.#policy.select(reads, { closing, now: now() })) {
      const readBytes = this.#encoder.readBytes(news);
      const readPoints = pointsOf(news);
      const full = bytes + readBytes > maxBytes || points + readPoints > maxPoints;
      if (full && batch.length > 0) {
        batches.push(batch);
        batch = [];
        bytes = REQUEST_ENVELOPE_MAX_BYTES;
        points = 0;
      }
      batch.push(news);
      bytes += readBytes;
      points += readPoints;
    }
    if (batch.length > 0) batches.push(batch);
    const report = emptyReport();
    const worker = async (): Promise<void> => {
      for (let next = batches.shift(); next; next = batches.shift()) await this.#send(next, deadline, report);
    };
    const workers = Math.min(this.options.maxConcurrency ?? 4, batches.length);
    await Promise.all(Array.from({ length: workers }, worker));
    return report;
  }

  /** One request, retried within the deadline after a connection failure or a retryable status. */
  async #send(reads: readonly SkillPoints[], deadline: number, report: Mutable<OtlpReport>): Promise<void> {
    const { endpoint, signer, post = postOtlp, now = Date.now, sleep = abortableSleep } = this.options;
    const points = reads.reduce((sum, read) => sum + pointsOf(read), 0);
    const body = this.#encoder.encode(reads);
    const wire = await gzip(body);
    report.points += points;
    report.bytes += body.length;
    report.wireBytes += wire.length;
    const headers = {
      'content-type': 'application/x-protobuf',
      'content-encoding': 'gzip',
      'content-length': String(wire.length),
      host: endpoint.host,
    };
    const stop = AbortSignal.timeout(Math.max(0, Math.ceil(deadline - now())));
    let error = "not sent: the run's deadline had passed";
    for (let attempt = 1; attempt <= MAX_ATTEMPTS && now() < deadline; attempt += 1) {
      let wait: number;
      try {
        report.requests += 1;
        const answer = await post({
          url: endpoint,
          headers: signer ? await signer({ url: endpoint, headers, body: wire }) : headers,
          body: wire,
          timeoutMs: Math.ceil(Math.min(REQUEST_TIMEOUT_MS, deadline - now())),
          signal: stop,
        });
        if (answer.status >= 200 && answer.status < 300) {
          // Only what the endpoint took in full is known to it; anything else goes out again next time.
          this.#policy.settled(reads, accept(answer, points, report) === 0);
          return;
        }
        error = `HTTP ${answer.status}${answerText(answer)}`;
        if (!RETRYABLE_STATUSES.has(answer.status)) break;
        wait = retryAfterMs(answer.retryAfter, now()) ?? backoff(attempt);
      } catch (failure) {
        error = cleanText(failure instanceof Error ? failure.message : String(failure), MAX_MESSAGE_CHARS);
        if (!(failure instanceof OtlpRequestError && failure.retryable)) break;
        wait = backoff(attempt);
      }
      if (attempt === MAX_ATTEMPTS) break;
      if (now() + wait >= deadline) {
        error += `; a retry in ${Math.ceil(wait / 1_000)} s would pass the run's deadline`;
        break;
      }
      await sleep(wait, stop);
    }
    this.#policy.settled(reads, false);
    report.failed += points;
    report.problems.push({ kind: 'failed', points, error });
  }
}

/**
 * A 2xx answer: every datapoint accepted but those a partial success refused (never more than the request held),
 * which it returns. A partial success with nothing refused but a message is a warning, reported as it came.
 */
function accept(answer: OtlpAnswer, points: number, report: Mutable<OtlpReport>): number {
  let partial: PartialSuccess | undefined;
  try {
    if (answer.contentType?.includes('protobuf')) partial = decodeExportResponse(answer.body);
  } catch {
    // The data was accepted (2xx); an answer that is not an ExportMetricsServiceResponse changes nothing.
  }
  const rejected = Math.min(points, Math.max(0, Math.floor(partial?.rejectedDataPoints ?? 0)));
  report.accepted += points - rejected;
  report.rejected += rejected;
  if (partial) {
    const message = partial.errorMessage && `: ${cleanText(partial.errorMessage, MAX_MESSAGE_CHARS)}`;
    const error = `partial success, ${rejected} datapoints rejected${message}`;
    report.problems.push({ kind: 'rejected', points: rejected, error });
  }
  return rejected;
}

function backoff(attempt: number): number {
  return BACKOFF_MS * 2 ** (attempt - 1) * (0.5 + Math.random() / 2);
}

/** `Retry-After` in ms: delay-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(value: string | undefined, now: number): number | undefined {
  const text = value?.trim() ?? '';
  if (/^\d+$/.test(text)) return Number(text) * 1_000;
  const date = Date.parse(text);
  return Number.isFinite(date) ? Math.max(0, date - now) : undefined;
}

/** The receiver's own words for a refusal (short text), cleaned and bounded. */
function answerText(answer: OtlpAnswer): string {
  return answer.contentType?.startsWith('text/') && answer.body.length > 0
    ? `: ${cleanText(answer.body.toString('utf8'), MAX_MESSAGE_CHARS)}`
    : '';
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return delay(Math.ceil(ms), undefined, { signal }).catch(() => {});
}
