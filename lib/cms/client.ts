import type { CmsSettings } from '../config.js';
import { CmsError, CmsWindowError, ValidationError } from '../errors.js';
import type { Log } from '../log.js';
import type { SkillStats } from '../model.js';
import { windowStartProblem } from '../window.js';
import { AttemptSender, type CallRequests, type CmsInterface } from './attempt.js';
import { type BatchOutcome, fetchBatch, type RetryPolicy } from './batch.js';
import { CallCredentials } from './call-credentials.js';
import { stopForCall } from './call-stop.js';
import type { CmsClockReading } from './clock.js';
import type { CredentialSource } from './credentials.js';
import { LIVE_QUEUE_INTERFACE, LiveQueueAvailability } from './live-queue.js';
import { batchSkillIds, CALL_STATS_PATH, type CallStatsQuery, validateCallStatsQuery } from './request.js';
import { parseCallStatsResponse } from './response.js';
import { SignatureNegotiation } from './signature-negotiation.js';
import type { VdnRead } from './stats-source.js';

/**
 * The settings arrive validated from lib/config.ts (loadCmsSettings), so the client applies them as they are;
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
}

interface BatchFailure {
  readonly skillIds: readonly number[];
  readonly error: CmsError;
}

export interface CallStatsResult {
  readonly ccId: number;
  readonly vdn: number;
  /** Validated, sorted, unique. */
  readonly requestedSkillIds: readonly number[];
  /** Sorted by skillId, only requested skills. */
  readonly skills: readonly SkillStats[];
  /** Requested in a successful batch but not returned. */
  readonly missingSkillIds: readonly number[];
  /** Batches that failed for good (their skills are not "missing"). */
  readonly failures: readonly BatchFailure[];
  /** Wall time of the slowest batch, retries included. */
  readonly slowestBatchMs: number;
  /** HTTP requests made (attempts), for health and benchmarks. */
  readonly requests: number;
  /** CMS's clock at the earliest successful answer; undefined when no batch succeeded. */
  readonly clock: CmsClockReading | undefined;
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
    const negotiation = new SignatureNegotiation(options.signature, options.log);
    this.#sender = new AttemptSender(options, negotiation, this.#now);
    this.#retry = { maxAttempts: options.maxAttempts, random: options.random ?? Math.random, negotiation };
    this.#liveQueue = new LiveQueueAvailability(options.log, this.#now);
  }

  /**
   * The current window's counters. Throws ValidationError before any request on bad input; never throws for a
   * batch failure (reports it). A failure of the credential source itself (current()) is not a CMS answer and
   * is thrown as is.
   */
  async currentCallStats(
    query: CallStatsQuery | unknown,
    options: CallStatsOptions,
  ): Promise<CallStatsResult> {
    const validated = validateCallStatsQuery(query);
    return this.#call(validated, options, (send) => this.#callStats(validated, send));
  }

  /**
   * One read of a VDN: its counters and its live queue (`totalskillstatusex3`), both calls at once, so that the
   * read costs the slower of the two round trips. They share the deadline, the key pair (a 401 re-reads it once
   * for both) and the stop (an IP lock met by one stops the other). The live queue never makes the read throw:
   * a CMS without it is `unsupported` (and not asked again for a while, see lib/cms/live-queue.ts), any other
   * failure `failed`; the counters are reported as by currentCallStats.
   */
  async read(query: CallStatsQuery | unknown, options: CallStatsOptions): Promise<VdnRead> {
    const validated = validateCallStatsQuery(query);
    return this.#call(validated, options, async (send) => {
      const [stats, queue] = await Promise.all([
        this.#callStats(validated, send),
        this.#liveQueue.read(validated, () => send(LIVE_QUEUE_INTERFACE)),
      ]);
      return { stats, queue };
    });
  }

  async #callStats(validated: CallStatsQuery, send: InterfaceSender): Promise<CallStatsResult> {
    const { outcomes, requests } = await send(CALL_STATS_INTERFACE);
    return refuseImplausibleWindows(merge(validated, outcomes, requests), this.#now());
  }

  /**
   * One call: its deadline and signal, the key pair read once, and `work`, which sends the batches of the
   * interfaces it needs, all concurrently.
   */
  async #call<T>(
    validated: CallStatsQuery,
    options: CallStatsOptions,
    work: (send: InterfaceSender) => Promise<T>,
  ): Promise<T> {
    if (typeof options.deadline !== 'number' || !Number.isFinite(options.deadline)) {
      throw new ValidationError('deadline', 'expected epoch milliseconds');
    }
    const stop = stopForCall(options.deadline - this.#now(), options.signal);
    try {
      let credentials: CallCredentials | CmsError;
      try {
        credentials = await CallCredentials.read(this.#credentials, stop.signal);
      } catch (error) {
        // Stopped before the first request (out of time, or an IP lock another call met): every batch is
        // reported with that cause, as if each had met it.
        if (!(error instanceof CmsError && stop.signal.aborted)) throw error;
        credentials = error;
      }
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
      return await work(send);
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
export function throwIfFailed(result: CallStatsResult): CallStatsResult {
  const [first] = result.failures;
  if (first) throw first.error;
  return result;
}

function merge(query: CallStatsQuery, outcomes: readonly BatchOutcome[], requests: number): CallStatsResult {
  const skills: SkillStats[] = [];
  const missingSkillIds: number[] = [];
  const failures: BatchFailure[] = [];
  let clock: CmsClockReading | undefined;
  for (const outcome of outcomes) {
    if ('error' in outcome) {
      failures.push({ skillIds: outcome.skillIds, error: outcome.error });
      continue;
    }
    if (clock === undefined || outcome.clock.cmsAt < clock.cmsAt) clock = outcome.clock;
    // A server may answer for skills it was not asked about; only this batch's skills count.
    const returned = new Map(outcome.records.map((record) => [record.skillId, record]));
    for (const skillId of outcome.skillIds) {
      const record = returned.get(skillId);
      if (record) skills.push(record);
      else missingSkillIds.push(skillId);
    }
  }
  return {
    ccId: query.ccId,
    vdn: query.vdn,
    requestedSkillIds: query.skillIds,
    skills: skills.sort((a, b) => a.skillId - b.skillId),
    missingSkillIds: missingSkillIds.sort((a, b) => a - b),
    failures,
    slowestBatchMs: Math.max(0, ...outcomes.map((outcome) => outcome.ms)),
    requests,
    clock,
  };
}

/**
 * CMS data is untrusted: one skill whose window start cannot be the current window (see lib/window.ts) makes
 * the whole answer of the VDN a protocol error, since the roll-up, the timestamps and DataAge of the VDN would
 * all be built on it. Batches that failed on their own keep their own error.
 */
function refuseImplausibleWindows(result: CallStatsResult, now: number): CallStatsResult {
  for (const skill of result.skills) {
    const problem = windowStartProblem(skill.windowStart, now);
    if (problem === undefined) continue;
    const answered = [...result.skills.map((each) => each.skillId), ...result.missingSkillIds];
    return {
      ...result,
      skills: [],
      missingSkillIds: [],
      failures: [
        ...result.failures,
        {
          skillIds: answered.sort((a, b) => a - b),
          error: new CmsWindowError(skill.skillId, skill.windowStart, problem),
        },
      ],
    };
  }
  return result;
}
