import { performance } from 'node:perf_hooks';
import { CmsError, ValidationError } from '../errors.js';
import type { Log } from '../log.js';
import { AttemptSender, type CallRequests, type CmsInterface, type ConnectionSettings } from './attempt.js';
import { type BatchOutcome, fetchBatch, type RetryPolicy } from './batch.js';
import { CallCredentials } from './call-credentials.js';
import { stopForCall } from './call-stop.js';
import type { CmsCredentials, CredentialSource } from './credentials.js';
import { LIVE_QUEUE_INTERFACE, LiveQueueAvailability } from './live-queue.js';
import type { RefusalRules } from './refusal-budget.js';
import { batchSkillIds, CALL_STATS_PATH, type CallStatsQuery, validateCallStatsQuery } from './request.js';
import { parseCallStatsResponse } from './response.js';
import { SignatureNegotiation, type SignatureSetting } from './signature-negotiation.js';
import { type CallFacts, type VdnRead, vdnRead } from './vdn-read.js';

/** What the client is configured with (settings.ts reads it from the environment). */
export interface CmsSettings extends ConnectionSettings {
  readonly maxAttempts: number;
  /** CMS_SIGNATURE: a pinned C2 layout, or `auto`. */
  readonly signature: SignatureSetting;
  /** CMS_REFUSAL_LIMIT charged signatures at most in any CMS_REFUSAL_PERIOD_SECONDS (refusal-budget.ts). */
  readonly refusals: RefusalRules;
}

/**
 * The settings arrive validated from settings.ts (loadCmsSettings), so the client applies them as they are;
 * the rest is what it is handed rather than configured with.
 */
export interface CmsClientOptions extends CmsSettings {
  readonly credentials: CredentialSource;
  /** Where the layout `auto` settled on is reported, once per client. */
  readonly log?: Pick<Log, 'debug' | 'warn'> | undefined;
  /** Injectable for tests: the clock for signing and for reading the deadline (epoch ms). */
  readonly now?: (() => number) | undefined;
  /** Injectable for tests: the backoff jitter, in [0, 1). */
  readonly random?: (() => number) | undefined;
}

export interface CallStatsOptions {
  /** Epoch ms; no request is sent and no retry is slept past it. */
  readonly deadline: number;
  readonly signal?: AbortSignal | undefined;
  /**
   * Whether to read the live queue (`totalskillstatusex3`) too, at the same time as the counters: a VDN's
   * normal read does, a closing read (the counters of a window about to end) does not.
   */
  readonly liveQueue?: boolean | undefined;
}

/** The current 5-minute counters: `currentcallstateinfo`. */
const CALL_STATS_INTERFACE: CmsInterface = {
  path: CALL_STATS_PATH,
  parse: parseCallStatsResponse,
  optional: false,
};

/** The batches of one call to one interface, and the requests they took. */
interface CallOutcome<R> {
  readonly outcomes: readonly BatchOutcome<R>[];
  readonly requests: number;
}

/** Sends every batch of one interface within a call (its deadline, signal and key pair). */
type InterfaceSender = <R>(cmsInterface: CmsInterface<R>) => Promise<CallOutcome<R>>;

/**
 * Client of the CC-CMS `skill` interfaces (the current call statistics and the live queue): validates, batches,
 * signs each attempt, retries what is worth retrying and reports per batch what could not be had, so that one
 * bad batch does not hide the others.
 */
export class CmsClient {
  readonly #credentials: CredentialSource;
  readonly #now: () => number;
  readonly #sender: AttemptSender;
  readonly #retry: RetryPolicy;
  readonly #liveQueue: LiveQueueAvailability;

  constructor(options: CmsClientOptions) {
    this.#credentials = options.credentials;
    this.#now = options.now ?? Date.now;
    const negotiation = new SignatureNegotiation(options.signature, options.refusals, this.#now, options.log);
    this.#sender = new AttemptSender(options, negotiation, this.#now);
    this.#retry = { maxAttempts: options.maxAttempts, random: options.random ?? Math.random, negotiation };
    this.#liveQueue = new LiveQueueAvailability(options.log, this.#now);
  }

  /**
   * One read of a VDN: its current window's counters and, when `options.liveQueue` says so, its live queue
   * (`totalskillstatusex3`), both calls at once, so that the read costs the slower of the two round trips. They
   * share the deadline, the key pair (a 401 re-reads it once for both) and the stop (an IP lock met by one stops
   * the other). The live queue never makes the read fail: a CMS without it is `unsupported` (and not asked again
   * for a while, see lib/cms/live-queue.ts), any other failure `failed`.
   * Throws ValidationError before any request on bad input; never throws for a batch failure (reports it). A
   * failure of the credential source itself (current()) is not a CMS answer and is thrown as is.
   */
  async currentCallStats(query: CallStatsQuery | unknown, options: CallStatsOptions): Promise<VdnRead> {
    const validated = validateCallStatsQuery(query);
    return this.#call(validated, options, async (send, facts) => {
      const [counters, liveQueue] = await Promise.all([
        send(CALL_STATS_INTERFACE),
        options.liveQueue === true
          ? this.#liveQueue.read(validated, () => send(LIVE_QUEUE_INTERFACE))
          : undefined,
      ]);
      return vdnRead(validated, counters.outcomes, { ...facts(counters.requests), liveQueue });
    });
  }

  /**
   * One call: its deadline and signal, the key pair read once, and `work`, which sends the batches of the
   * interfaces it needs, all concurrently.
   */
  async #call<T>(
    validated: CallStatsQuery,
    options: CallStatsOptions,
    work: (send: InterfaceSender, facts: (requests: number) => CallFacts) => Promise<T>,
  ): Promise<T> {
    if (typeof options.deadline !== 'number' || !Number.isFinite(options.deadline)) {
      throw new ValidationError('deadline', 'expected epoch milliseconds');
    }
    const stop = stopForCall(options.deadline - this.#now(), options.signal);
    const spent = { ms: 0 };
    const facts = (requests: number): CallFacts => ({ requests, credentialMs: spent.ms, now: this.#now() });
    try {
      let credentials: CallCredentials | CmsError;
      try {
        credentials = await CallCredentials.read(timedSource(this.#credentials, spent), stop.signal);
      } catch (error) {
        // Stopped before the first request (out of time, or an IP lock another call met): every batch is
        // reported with that cause, as if each had met it.
        if (!(error instanceof CmsError && stop.signal.aborted)) throw error;
        credentials = error;
      }
      // The first read happens before any batch starts: only later reads (after a 401) are inside a batch's time.
      spent.ms = 0;
      const ready = credentials;
      const send: InterfaceSender = async <R>(cmsInterface: CmsInterface<R>) => {
        const batches = batchSkillIds(validated.skillIds);
        if (ready instanceof CmsError) {
          return { outcomes: batches.map((skillIds) => ({ skillIds, ms: 0, error: ready })), requests: 0 };
        }
        let requests = 0;
        const call: CallRequests = {
          signal: stop.signal,
          credentials: ready,
          sent: () => {
            requests += 1;
          },
        };
        const outcomes = await Promise.all(
          batches.map((skillIds) =>
            fetchBatch(
              skillIds,
              (mayRefresh) => this.#sender.send(call, cmsInterface, validated, skillIds, mayRefresh),
              stop,
              this.#retry,
            ),
          ),
        );
        return { outcomes, requests };
      };
      return await work(send, facts);
    } finally {
      stop.dispose();
    }
  }

  /** Destroys the keep-alive agents; later calls open new connections. */
  close(): void {
    this.#sender.close();
  }
}

/** Throws the first failure's error, for all-or-nothing callers. */
export function throwIfFailed(read: VdnRead): VdnRead {
  const [first] = read.failures;
  if (first) throw first.error;
  return read;
}

/** The key pair's source as one call sees it, timed: what reading it costs is not CMS's latency. */
function timedSource(source: CredentialSource, spent: { ms: number }): CredentialSource {
  const timed = async (read: Promise<CmsCredentials>): Promise<CmsCredentials> => {
    const started = performance.now();
    try {
      return await read;
    } finally {
      spent.ms += performance.now() - started;
    }
  };
  return {
    current: (signal) => timed(source.current(signal)),
    refresh: (signal) => timed(source.refresh(signal)),
  };
}
