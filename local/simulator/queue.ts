import { WINDOW_MS } from '../../lib/model.js';
import { hashIntegers, seededRandom } from './random.js';
import {
  generateWindowCalls,
  isOpen,
  type OpeningHours,
  type SimulatedCall,
  skillProfile,
  windowStartOf,
} from './traffic.js';

/**
 * The simulator's live queue (`totalskillstatusex3`), drawn from the very calls of its traffic model: a call
 * waits from the moment it is offered until an agent answers it or the caller gives up, so the calls waiting
 * now are those offered and not yet answered or abandoned, and the longest wait is the age of the oldest of
 * them, growing second by second while nobody answers. Answered calls keep an agent busy through their
 * conversation and wrap-up. Agents log on and off minute by minute around a staffing level that fits the
 * skill's traffic; an agent busy with a call stays logged on until it is done, and while calls wait no agent is
 * available (that is why they wait). Calls of the current and the previous window are counted: waits and
 * conversations that began earlier are rare enough to leave out.
 */

/** One item of the `totalskillstatusex3` answer, fields in the order of the API document. */
export interface CmsQueueRecord {
  skillId: number;
  queueSize: number;
  queueTime: number;
  loggedOnAgents: number;
  availAgents: number;
  maxQueueSize: number;
  skillDescrip: string;
  callId: string;
}

/** A conversation and its wrap-up take about this long on average (traffic.ts: 165 s of talk, 28 s of wrap-up). */
const MEAN_HANDLING_SECONDS = 193;
const MAX_QUEUE_SIZE = 100;
const QUEUE_NAMES = ['Sales', 'Billing', 'Support', 'Claims', 'Orders', 'Service desk', 'Retention', 'VIP'];
/** Bound on cached skills per window, so requests for ever new ids cannot grow the cache without limit. */
const CACHED_SKILLS_PER_WINDOW = 100_000;
/** Stream tag of the minute-by-minute staffing draws, apart from the traffic model's own streams. */
const STAFFING_STREAM = 3;

/** When one call was in the queue and when it kept an agent busy, epoch ms; [from, to). */
interface CallSpans {
  readonly offeredAt: number;
  readonly waitingUntil: number;
  /** Undefined for an abandoned call. */
  readonly busyUntil: number | undefined;
}

function spansOf(call: SimulatedCall, windowStart: number): CallSpans {
  const offeredAt = windowStart + call.offeredAt;
  const waitingUntil = offeredAt + call.waitMs;
  return {
    offeredAt,
    waitingUntil,
    busyUntil:
      call.outcome === 'answered'
        ? waitingUntil + (call.talkSeconds + call.wrapUpSeconds) * 1_000
        : undefined,
  };
}

export interface QueueModelOptions {
  /** The traffic model's seed: the queue is built from the same calls. */
  readonly seed: number;
  readonly openingHours?: OpeningHours | undefined;
}

/** The live queue of every skill, with the calls of recent windows cached. */
export class QueueModel {
  readonly #seed: number;
  readonly #openingHours: OpeningHours | undefined;
  readonly #windows = new Map<number, Map<string, readonly CallSpans[]>>();

  constructor(options: QueueModelOptions) {
    this.#seed = options.seed;
    this.#openingHours = options.openingHours;
  }

  /** The record CMS answers for this skill at `at`. */
  queueAt(ccId: number, vdn: number, skillId: number, at: number): CmsQueueRecord {
    const current = windowStartOf(at);
    const spans = [
      ...this.#spans(ccId, vdn, skillId, current - WINDOW_MS),
      ...this.#spans(ccId, vdn, skillId, current),
    ];
    const waiting = spans.filter((call) => call.offeredAt <= at && at < call.waitingUntil);
    const busy = spans.filter(
      (call) => call.busyUntil !== undefined && call.waitingUntil <= at && at < call.busyUntil,
    ).length;
    const oldest = waiting.reduce<CallSpans | undefined>(
      (first, call) => (first === undefined || call.offeredAt < first.offeredAt ? call : first),
      undefined,
    );
    const loggedOn = Math.max(busy, this.#staffed(ccId, vdn, skillId, at));
    return {
      skillId,
      queueSize: waiting.length,
      queueTime: oldest === undefined ? 0 : Math.floor((at - oldest.offeredAt) / 1_000),
      loggedOnAgents: loggedOn,
      availAgents: waiting.length > 0 ? 0 : loggedOn - busy,
      maxQueueSize: MAX_QUEUE_SIZE,
      skillDescrip: `${QUEUE_NAMES[hashIntegers([ccId, vdn, skillId]) % QUEUE_NAMES.length]} ${skillId}`,
      // Identifies the longest-waiting call; the client never reads it.
      callId: oldest === undefined ? '' : `${ccId}${vdn}${skillId}${oldest.offeredAt}`,
    };
  }

  /**
   * Agents signed in at `at`: none while the lines are closed; otherwise enough for the skill's mean load plus
   * one, give or take one as agents log on and off from one minute to the next (an idle skill keeps 0 to 2).
   */
  #staffed(ccId: number, vdn: number, skillId: number, at: number): number {
    if (!isOpen(this.#openingHours, windowStartOf(at))) return 0;
    const profile = skillProfile(this.#seed, ccId, vdn, skillId);
    const minute = Math.floor(at / 60_000);
    const random = seededRandom(hashIntegers([this.#seed, ccId, vdn, skillId, minute, STAFFING_STREAM]));
    const base = Math.ceil((profile.callsPerWindow / (WINDOW_MS / 1_000)) * MEAN_HANDLING_SECONDS) + 1;
    return Math.max(0, base + Math.floor(random() * 3) - 1);
  }

  #spans(ccId: number, vdn: number, skillId: number, windowStart: number): readonly CallSpans[] {
    let cache = this.#windows.get(windowStart);
    if (cache === undefined) {
      cache = new Map();
      this.#windows.set(windowStart, cache);
      // The current window and the one before are all a read needs (a third for reads across a boundary).
      while (this.#windows.size > 3) this.#windows.delete(Math.min(...this.#windows.keys()));
    }
    const key = `${ccId}/${vdn}/${skillId}`;
    let spans = cache.get(key);
    if (spans === undefined) {
      const calls = isOpen(this.#openingHours, windowStart)
        ? generateWindowCalls({ seed: this.#seed, ccId, vdn, skillId, windowStart })
        : [];
      spans = calls.map((call) => spansOf(call, windowStart));
      if (cache.size < CACHED_SKILLS_PER_WINDOW) cache.set(key, spans);
    }
    return spans;
  }
}
