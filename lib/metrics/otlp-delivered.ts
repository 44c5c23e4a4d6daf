import { COUNTERS, type CounterName, WINDOW_MS } from '../model.js';
import type { OtlpDatapoints } from './otlp-config.js';
import type { SkillPoints, SkillRead } from './otlp-protobuf.js';

// Which datapoints of the reads handed to the exporter go out, and what the endpoint then holds (OTLP_DATAPOINTS).
// CloudWatch bills OTLP per serialized datapoint, so neither policy sends what the endpoint already knows.

/** What the exporter asks of a datapoint policy. */
export interface DatapointPolicy {
  /** What to send now of `reads` (a `closing` read is its window's last), at `now` on the exporter's clock. */
  select(
    reads: readonly SkillRead[],
    options: { readonly closing: boolean; readonly now: number },
  ): SkillPoints[];
  /** The outcome of a request carrying `points`: `accepted` only when the endpoint took every one of them. */
  settled(points: readonly SkillPoints[], accepted: boolean): void;
}

export function datapointPolicy(mode: OtlpDatapoints): DatapointPolicy {
  return mode === 'every-read' ? new DeliveredSeries() : new WindowTotals();
}

// `window-totals`: a window's figure is its total, and CMS serves a window's counters only while it lasts, so the
// last read of each window is what its history needs, once. Per series and window the policy holds the latest
// read not yet accepted. A closing read goes out at once (its window's total); any other read waits, and goes out
// when its window has ended with no later read accepted: the run after a window whose closing read was not taken
// (no CMS clock, out of reach) or not accepted (the endpoint was down) sends that window's last read, and every
// run after it tries again while that window is the one before the latest read. Older reads are dropped: memory
// holds two windows at most, and every attempt that failed was reported. What a container holds is lost with it.
class WindowTotals implements DatapointPolicy {
  /** Series and window → the latest read of that window not accepted yet. */
  readonly #unsent = new Map<string, SkillRead>();
  /** The reads in requests not answered yet: not selected twice. */
  readonly #inFlight = new Set<SkillRead>();
  /** The latest window read; the policy holds it and the one before it. */
  #newestWindow = Number.NEGATIVE_INFINITY;

  select(reads: readonly SkillRead[], { closing, now }: { readonly closing: boolean; readonly now: number }) {
    for (const read of reads) {
      const key = windowKey(read);
      const held = this.#unsent.get(key);
      if (held === undefined || read.readAt >= held.readAt) this.#unsent.set(key, read);
    }
    // A window has ended when our clock says so, or when a later one has been read (CMS's clock may run a little
    // ahead of ours).
    for (const read of reads) this.#newestWindow = Math.max(this.#newestWindow, read.windowStart);
    const endedBefore = Math.max(now - WINDOW_MS + 1, this.#newestWindow);
    const kept = this.#newestWindow - WINDOW_MS;
    const closingReads = new Set(closing ? reads : []);
    const due: SkillRead[] = [];
    for (const [key, read] of this.#unsent) {
      if (read.windowStart < kept) {
        this.#unsent.delete(key);
      } else if ((read.windowStart < endedBefore || closingReads.has(read)) && !this.#inFlight.has(read)) {
        due.push(read);
        this.#inFlight.add(read);
      }
    }
    return due;
  }

  settled(points: readonly SkillPoints[], accepted: boolean): void {
    for (const point of points) {
      this.#inFlight.delete(point as SkillRead);
      if (!accepted) continue;
      const key = windowKey(point);
      // A later read of the window that came in meanwhile still goes out.
      if (this.#unsent.get(key) === point) this.#unsent.delete(key);
    }
  }
}

const windowKey = (read: SkillPoints): string => `${seriesKey(read)}@${read.windowStart}`;

// `every-read`: what the endpoint already knows, so that a read sends only what it says that is new; most
// counters of most skills do not move from one minute's read to the next.
//
// Per series (cc_id, vdn, skill_id, counter) the exporter remembers the last datapoint the endpoint ACCEPTED: its
// window start, read time and value. A read sends a counter when its window start differs from that (a new window,
// i.e. a reset) or its value changed; a closing read sends every counter, so the last point of each window is
// still its total. Only a request accepted in full (2xx, nothing rejected in a partial success) updates the
// memory, so a failed or partly rejected request's datapoints go out again with the next read that carries them.
//
// Why the receiver loses nothing: at every read the last datapoint it holds of a series, in that read's window,
// has the value CMS served then (it was either sent, or equal to what was last accepted). Each window keeps its
// first datapoint (a new start time) and its last (the closing read), so the PromQL of the README, max_over_time
// over the aligned 5-minute windows, reads the same figures as from a datapoint every minute; and with a read a
// minute and the closing read before each window's end, datapoints of a busy series are less than 5 minutes
// apart, inside Prometheus's lookback, so an instant query still finds each series.

interface Delivered {
  readonly windowStart: number;
  readonly readAt: number;
  readonly value: number;
}

export class DeliveredSeries implements DatapointPolicy {
  /** A skill's series (cc_id/vdn/skill_id) → the last accepted datapoint of each counter, in COUNTERS order. */
  readonly #series = new Map<string, (Delivered | undefined)[]>();
  /** The latest window start accepted; the memory keeps this window and the one before it. */
  #latestWindow = Number.NEGATIVE_INFINITY;

  select(reads: readonly SkillRead[], { closing }: { readonly closing: boolean }): SkillPoints[] {
    return reads.flatMap((read) => this.news(read, closing) ?? []);
  }

  settled(points: readonly SkillPoints[], accepted: boolean): void {
    if (accepted) this.accepted(points);
  }

  /** What of `read` to send: all of a closing read; else the counters in a new window or changed; or nothing. */
  news(read: SkillRead, closing: boolean): SkillPoints | undefined {
    if (closing) return read;
    const known = this.#series.get(seriesKey(read));
    if (known === undefined) return read;
    const counters: Partial<Record<CounterName, number>> = {};
    let any = false;
    COUNTERS.forEach(({ name }, index) => {
      const last = known[index];
      const value = read.counters[name];
      if (last !== undefined && last.windowStart === read.windowStart && last.value === value) return;
      counters[name] = value;
      any = true;
    });
    return any ? { ...read, counters } : undefined;
  }

  /** Remembers the datapoints of a request the endpoint accepted in full. */
  accepted(reads: readonly SkillPoints[]): void {
    for (const read of reads) {
      const key = seriesKey(read);
      const known = this.#series.get(key) ?? COUNTERS.map(() => undefined);
      this.#series.set(key, known);
      COUNTERS.forEach(({ name }, index) => {
        const value = read.counters[name];
        if (value === undefined) return;
        const last = known[index];
        // Requests in flight together may be answered in any order: the later read wins.
        const later =
          last === undefined ||
          read.windowStart > last.windowStart ||
          (read.windowStart === last.windowStart && read.readAt >= last.readAt);
        if (later) known[index] = { windowStart: read.windowStart, readAt: read.readAt, value };
      });
      if (read.windowStart > this.#latestWindow) {
        this.#latestWindow = read.windowStart;
        this.#forgetOld();
      }
    }
  }

  /** Series remembered (skills × counters with a datapoint kept). */
  get size(): number {
    let size = 0;
    for (const known of this.#series.values()) for (const last of known) if (last) size += 1;
    return size;
  }

  /** Drops what is older than the window before the latest: one entry per series, never a history. */
  #forgetOld(): void {
    const oldest = this.#latestWindow - WINDOW_MS;
    for (const [key, known] of this.#series) {
      known.forEach((last, index) => {
        if (last !== undefined && last.windowStart < oldest) known[index] = undefined;
      });
      if (known.every((last) => last === undefined)) this.#series.delete(key);
    }
  }
}

const seriesKey = (read: SkillPoints): string => `${read.ccId}/${read.vdn}/${read.skillId}`;
