import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { COUNTERS, WINDOW_MS } from '../model.js';
import { cleanText } from '../text.js';
import type { VdnOutcome } from './build-datums.js';
import {
  decodeExportResponse,
  decodeStatusMessage,
  OtlpMetricsEncoder,
  type PartialSuccess,
  REQUEST_ENVELOPE_MAX_BYTES,
  type SkillRead,
} from './otlp-protobuf.js';
import { createOtlpPost, type OtlpAnswer, type OtlpPost, OtlpRequestError } from './otlp-transport.js';

// The OpenTelemetry export of every counter of every busy skill (metrics.md, "OpenTelemetry (OTLP) export"):
// OTLP/HTTP, protobuf bodies, gzip. It runs beside the classic publication and never in its way: every request
// is bounded by the deadline it is given, failures and rejections are counted and described in the report (the
// collector logs them), and nothing here throws.

const gzip = promisify(gzipCallback);

/**
 * Request bounds. CloudWatch's OTLP endpoint documents 5 MB of uncompressed payload and 10,000 items per request
 * for traces and does not list its metrics limits; 1 MB, the classic PutMetricData limit, and 10,000 datapoints
 * keep every request far inside both.
 */
export const OTLP_REQUEST_LIMITS = { bytes: 1_000_000, points: 10_000 } as const;

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

export interface OtlpProblem {
  /** `rejected`: the receiver refused part of a request it accepted; `failed`: a request was lost whole. */
  readonly kind: 'rejected' | 'failed';
  /** Datapoints it concerns. */
  readonly points: number;
  readonly error: string;
}

export interface OtlpReport {
  /** Datapoints handed to the export. */
  readonly points: number;
  readonly accepted: number;
  /** Refused by the receiver in a partial success. */
  readonly rejected: number;
  /** Lost to HTTP errors, timeouts or the deadline. */
  readonly failed: number;
  /** HTTP requests made, retries included. */
  readonly requests: number;
  /** Uncompressed protobuf bytes of the requests (each batch once), what OTLP ingestion is priced on. */
  readonly bytes: number;
  /** Gzip bytes of those requests, what crosses the network. */
  readonly wireBytes: number;
  readonly problems: readonly OtlpProblem[];
}

export const EMPTY_OTLP_REPORT: OtlpReport = {
  points: 0,
  accepted: 0,
  rejected: 0,
  failed: 0,
  requests: 0,
  bytes: 0,
  wireBytes: 0,
  problems: [],
};

export function addReports(a: OtlpReport, b: OtlpReport): OtlpReport {
  return {
    points: a.points + b.points,
    accepted: a.accepted + b.accepted,
    rejected: a.rejected + b.rejected,
    failed: a.failed + b.failed,
    requests: a.requests + b.requests,
    bytes: a.bytes + b.bytes,
    wireBytes: a.wireBytes + b.wireBytes,
    problems: [...a.problems, ...b.problems],
  };
}

/**
 * The reads of one VDN's answer to send, taken at `readAt` (our clock): each skill with anything in its window
 * (an idle skill sends nothing, as with classic metrics), started at its window's aligned start. The read time
 * is kept inside that window: a CMS clock a second off ours must not stamp a window's last read after its end,
 * where PromQL would count it in the next window, nor before its start.
 */
export function skillReads(outcome: VdnOutcome, readAt: number): SkillRead[] {
  const reads: SkillRead[] = [];
  for (const skill of [...outcome.skills].sort((a, b) => a.skillId - b.skillId)) {
    if (COUNTERS.every(({ name }) => skill.counters[name] === 0)) continue;
    const windowStart = Math.floor(skill.windowStart / WINDOW_MS) * WINDOW_MS;
    reads.push({
      ccId: outcome.ccId,
      vdn: outcome.vdn,
      skillId: skill.skillId,
      windowStart,
      readAt: Math.min(Math.max(readAt, windowStart + 1), windowStart + WINDOW_MS - 1),
      counters: skill.counters,
    });
  }
  return reads;
}

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
}

interface Batch {
  readonly reads: readonly SkillRead[];
  readonly points: number;
}

/** Sends skill reads to an OTLP/HTTP metrics endpoint. */
export class OtlpExporter {
  readonly #endpoint: URL;
  readonly #signer: OtlpSigner | undefined;
  readonly #post: OtlpPost;
  readonly #now: () => number;
  readonly #sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly #limits: { readonly bytes: number; readonly points: number };
  readonly #maxConcurrency: number;
  readonly #encoder = new OtlpMetricsEncoder();

  constructor(options: OtlpExporterOptions) {
    this.#endpoint = options.endpoint;
    this.#signer = options.signer;
    this.#maxConcurrency = options.maxConcurrency ?? 4;
    this.#post = options.post ?? createOtlpPost(this.#maxConcurrency);
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? abortableSleep;
    this.#limits = options.limits ?? OTLP_REQUEST_LIMITS;
  }

  /** Sends every counter of `reads` by `deadline` (epoch ms, the exporter's clock); never throws. */
  async export(reads: readonly SkillRead[], options: { readonly deadline: number }): Promise<OtlpReport> {
    const batches = this.#plan(reads);
    const reports: OtlpReport[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < batches.length)
        reports.push(await this.#sendBatch(batches[next++] as Batch, options.deadline));
    };
    await Promise.all(Array.from({ length: Math.min(this.#maxConcurrency, batches.length) }, worker));
    return reports.reduce(addReports, EMPTY_OTLP_REPORT);
  }

  /** Reads in order into requests within the byte and datapoint limits, each as full as it can be. */
  #plan(reads: readonly SkillRead[]): Batch[] {
    const batches: Batch[] = [];
    const perRead = COUNTERS.length;
    let current: SkillRead[] = [];
    let bytes = REQUEST_ENVELOPE_MAX_BYTES;
    for (const read of reads) {
      const readBytes = this.#encoder.readBytes(read);
      const full =
        bytes + readBytes > this.#limits.bytes || (current.length + 1) * perRead > this.#limits.points;
      if (full && current.length > 0) {
        batches.push({ reads: current, points: current.length * perRead });
        current = [];
        bytes = REQUEST_ENVELOPE_MAX_BYTES;
      }
      current.push(read);
      bytes += readBytes;
    }
    if (current.length > 0) batches.push({ reads: current, points: current.length * perRead });
    return batches;
  }

  async #sendBatch(batch: Batch, deadline: number): Promise<OtlpReport> {
    const body = this.#encoder.encode(batch.reads);
    const wire = await gzip(body);
    const base = { ...EMPTY_OTLP_REPORT, points: batch.points, bytes: body.length, wireBytes: wire.length };
    const failed = (requests: number, error: string): OtlpReport => ({
      ...base,
      requests,
      failed: batch.points,
      problems: [{ kind: 'failed', points: batch.points, error }],
    });
    const stop = AbortSignal.timeout(Math.max(0, deadline - this.#now()));
    for (let attempt = 1; ; attempt += 1) {
      const remaining = deadline - this.#now();
      if (remaining <= 0) return failed(attempt - 1, "not sent: the run's deadline had passed");
      let answer: OtlpAnswer;
      try {
        answer = await this.#post({
          url: this.#endpoint,
          headers: await this.#headers(wire),
          body: wire,
          timeoutMs: Math.min(REQUEST_TIMEOUT_MS, remaining),
          signal: stop,
        });
      } catch (error) {
        const retry = error instanceof OtlpRequestError && error.retryable && attempt < MAX_ATTEMPTS;
        if (retry && (await this.#wait(backoff(attempt), deadline, stop))) continue;
        return failed(attempt, describe(error));
      }
      if (answer.status >= 200 && answer.status < 300)
        return { ...accepted(answer, base), requests: attempt };
      const refusal = `HTTP ${answer.status}${answerMessage(answer)}`;
      if (RETRYABLE_STATUSES.has(answer.status) && attempt < MAX_ATTEMPTS) {
        const wait = retryAfterMs(answer.retryAfter, this.#now()) ?? backoff(attempt);
        if (this.#now() + wait >= deadline) {
          return failed(
            attempt,
            `${refusal}; a retry in ${Math.ceil(wait / 1_000)} s would pass the run's deadline`,
          );
        }
        if (await this.#wait(wait, deadline, stop)) continue;
      }
      return failed(attempt, refusal);
    }
  }

  async #headers(body: Uint8Array): Promise<Record<string, string>> {
    const headers = {
      'content-type': 'application/x-protobuf',
      'content-encoding': 'gzip',
      'content-length': String(body.length),
      host: this.#endpoint.host,
    };
    return this.#signer === undefined ? headers : this.#signer({ url: this.#endpoint, headers, body });
  }

  /** Waits `ms` unless the deadline comes first; true when the wait ended in time for another attempt. */
  async #wait(ms: number, deadline: number, stop: AbortSignal): Promise<boolean> {
    if (this.#now() + ms >= deadline) return false;
    await this.#sleep(ms, stop);
    return !stop.aborted && this.#now() < deadline;
  }
}

/**
 * A 2xx answer: every datapoint accepted but those a partial success refused (never more than the request held).
 * A partial success with nothing refused but a message is a warning, reported as it came.
 */
function accepted(answer: OtlpAnswer, base: OtlpReport): OtlpReport {
  let partial: PartialSuccess | undefined;
  try {
    partial =
      answer.body.length > 0 && (answer.contentType ?? '').includes('protobuf')
        ? decodeExportResponse(answer.body)
        : undefined;
  } catch {
    // The data was accepted (2xx); an answer that is not an ExportMetricsServiceResponse changes nothing.
    partial = undefined;
  }
  if (partial === undefined) return { ...base, accepted: base.points };
  const rejected = Math.min(base.points, Math.max(0, Math.floor(partial.rejectedDataPoints)));
  const message =
    partial.errorMessage === '' ? '' : `: ${cleanText(partial.errorMessage, MAX_MESSAGE_CHARS)}`;
  return {
    ...base,
    accepted: base.points - rejected,
    rejected,
    problems: [
      {
        kind: 'rejected',
        points: rejected,
        error: `partial success, ${rejected} datapoints rejected${message}`,
      },
    ],
  };
}

function backoff(attempt: number): number {
  return BACKOFF_MS * 2 ** (attempt - 1) * (0.5 + Math.random() / 2);
}

/** `Retry-After` in ms: delay-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1_000;
  const date = Date.parse(text);
  return Number.isFinite(date) ? Math.max(0, date - now) : undefined;
}

/** The receiver's own words for a refusal (a google.rpc.Status, or short text), cleaned and bounded. */
function answerMessage(answer: OtlpAnswer): string {
  if (answer.body.length === 0) return '';
  const status = (answer.contentType ?? '').includes('protobuf')
    ? decodeStatusMessage(answer.body)
    : undefined;
  const text = status ?? ((answer.contentType ?? '').startsWith('text/') ? answer.body.toString('utf8') : '');
  return text === '' ? '' : `: ${cleanText(text, MAX_MESSAGE_CHARS)}`;
}

function describe(error: unknown): string {
  return error instanceof Error ? cleanText(error.message, MAX_MESSAGE_CHARS) : cleanText(String(error), 100);
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
