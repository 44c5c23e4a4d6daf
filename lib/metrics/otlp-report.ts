import type { VdnRead } from '../cms/vdn-read.js';
import { COUNTERS, WINDOW_MS } from '../model.js';
import type { SkillRead } from './otlp-protobuf.js';

// What the OpenTelemetry export sends of a CMS answer, and what it reports back: the part of the export the
// collector itself runs. The exporter (otlp-sink.ts and what it uses) is loaded only by a collector configured
// for OTLP, so its code stays out of the bundle of every other deployment (lib/lambda/collector.ts).

interface OtlpProblem {
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

/** A report of nothing sent yet, to add to. */
export const emptyReport = (): Mutable<OtlpReport> => ({
  points: 0,
  accepted: 0,
  rejected: 0,
  failed: 0,
  requests: 0,
  bytes: 0,
  wireBytes: 0,
  problems: [],
});

export type Mutable<T> = { -readonly [K in keyof T]: T[K] extends readonly (infer E)[] ? E[] : T[K] };

/**
 * The reads of one VDN's answer to send, taken at `readAt` (our clock): each skill with anything in its window
 * (an idle skill sends nothing, as with classic metrics), started at its window's aligned start. The read time
 * is kept inside that window: a CMS clock a second off ours must not stamp a window's last read after its end,
 * where PromQL would count it in the next window, nor before its start.
 */
export function skillReads(read: VdnRead, readAt: number): SkillRead[] {
  const reads: SkillRead[] = [];
  for (const skill of read.skills) {
    if (COUNTERS.every(({ name }) => skill.counters[name] === 0)) continue;
    const { windowStart } = skill;
    reads.push({
      ccId: read.ccId,
      vdn: read.vdn,
      skillId: skill.skillId,
      windowStart,
      readAt: Math.min(Math.max(readAt, windowStart + 1), windowStart + WINDOW_MS - 1),
      counters: skill.counters,
    });
  }
  return reads;
}
