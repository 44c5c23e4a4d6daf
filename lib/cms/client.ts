import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Limiter } from '../concurrency.js';
import type { CmsSettings } from '../config.js';
import {
  CmsAuthError,
  CmsError,
  CmsHttpError,
  CmsIpLockedError,
  CmsWindowError,
  ValidationError,
} from '../errors.js';
import type { Log } from '../log.js';
import type { SkillStats } from '../model.js';
import { windowStartProblem } from '../window.js';
import { CallCredentials, type RefreshOutcome } from './call-credentials.js';
import { type CallStop, stopForCall } from './call-stop.js';
import { type CmsClockReading, clockReading } from './clock.js';
import type { CredentialSource } from './credentials.js';
import { batchSkillIds, type CallStatsQuery, callStatsUrl, validateCallStatsQuery } from './request.js';
import { parseCallStatsResponse } from './response.js';
import { signRequest } from './sign.js';
import { SignatureNegotiation, type SignatureVerdict } from './signature-negotiation.js';
import { AgentPool, httpsPost } from './transport.js';

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

export interface BatchFailure {
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

/** Full-jitter exponential backoff: spreads the retries of many batches instead of synchronising them. */
const BACKOFF = { baseMs: 100, capMs: 2_000 } as const;

interface BatchAnswer {
  readonly records: readonly SkillStats[];
  readonly clock: CmsClockReading;
}

type BatchOutcome =
  | ({ readonly skillIds: readonly number[]; readonly ms: number } & BatchAnswer)
  | { readonly skillIds: readonly number[]; readonly ms: number; readonly error: CmsError };

/** What the batches of one call share: its stop, its key pair, the requests sent. */
interface Call {
  readonly stop: CallStop;
  readonly credentials: CallCredentials;
  requests: number;
}

/**
 * Client of the CC-CMS "current call statistics" API: validates, batches, signs each attempt, retries what is
 * worth retrying and reports per batch what could not be had, so that one bad batch does not hide the others.
 */
export class CmsClient {
  readonly #url: URL;
  readonly #credentials: CredentialSource;
  readonly #caCertificate: string | undefined;
  readonly #requestTimeoutMs: number;
  readonly #maxAttempts: number;
  readonly #maxResponseBytes: number;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #limiter: Limiter;
  readonly #agents: AgentPool;
  readonly #negotiation: SignatureNegotiation;

  constructor(options: CmsClientOptions) {
    this.#url = callStatsUrl(options.baseUrl);
    this.#credentials = options.credentials;
    this.#caCertificate = options.caCertificate;
    this.#requestTimeoutMs = options.requestTimeoutMs;
    this.#maxAttempts = options.maxAttempts;
    this.#maxResponseBytes = options.maxResponseBytes;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
    this.#limiter = new Limiter(options.maxConcurrency);
    this.#agents = new AgentPool(options.maxConcurrency);
    this.#negotiation = new SignatureNegotiation(options.signature, options.log);
  }

  /**
   * Throws ValidationError before any request on bad input; never throws for a batch failure (reports it). A
   * failure of the credential source itself (current()) is not a CMS answer and is thrown as is.
   */
  async currentCallStats(
    query: CallStatsQuery | unknown,
    options: CallStatsOptions,
  ): Promise<CallStatsResult> {
    const validated = validateCallStatsQuery(query);
    if (typeof options.deadline !== 'number' || !Number.isFinite(options.deadline)) {
      throw new ValidationError('deadline', 'expected epoch milliseconds');
    }
    const stop = stopForCall(options.deadline - this.#now(), options.signal);
    try {
      let credentials: CallCredentials;
      try {
        credentials = await CallCredentials.read(this.#credentials, stop.signal);
      } catch (error) {
        // Stopped before the first request (out of time, or an IP lock another call met): every batch is
        // reported with that cause, as if each had met it.
        if (!(error instanceof CmsError && stop.signal.aborted)) throw error;
        const stopped = batchSkillIds(validated.skillIds).map((skillIds) => ({ skillIds, ms: 0, error }));
        return merge(validated, stopped, 0);
      }
      const call: Call = { stop, credentials, requests: 0 };
      const outcomes = await Promise.all(
        batchSkillIds(validated.skillIds).map((skillIds) => this.#batch(validated, skillIds, call)),
      );
      return refuseImplausibleWindows(merge(validated, outcomes, call.requests), this.#now());
    } finally {
      stop.dispose();
    }
  }

  /** Destroys the keep-alive agents; later calls open new connections. */
  close(): void {
    this.#agents.close();
  }

  async #batch(query: CallStatsQuery, skillIds: readonly number[], call: Call): Promise<BatchOutcome> {
    const started = performance.now();
    const outcome = (result: BatchAnswer | { error: CmsError }): BatchOutcome => ({
      skillIds,
      ms: Math.round(performance.now() - started),
      ...result,
    });
    let failedAttempts = 0;
    let reauthenticated = false;
    for (;;) {
      let error: CmsError;
      try {
        return outcome(await this.#attempt(query, skillIds, call, !reauthenticated));
      } catch (caught) {
        if (!(caught instanceof CmsError)) throw caught;
        error = caught;
      }
      if (error instanceof CmsIpLockedError) {
        // Every further request would be refused too and could prolong the lock: the call's other batches stop.
        call.stop.abort(error);
        return outcome({ error });
      }
      if (error instanceof SignatureRefused) {
        if (error.refresh !== 'notTried') reauthenticated = true;
        if (error.refresh instanceof CmsError) return outcome({ error: error.refresh });
        if (call.stop.signal.aborted) return outcome({ error: this.#negotiation.refusedError() });
        // A rotated key pair gets one try of its own, outside the retry budget of the old one.
        if (error.refresh === 'rotated' || this.#negotiation.mayTryAnotherLayout) continue;
        // The call's other batches would be refused alike: each refusal brings CMS's IP lock closer.
        const refused = this.#negotiation.refusedError();
        call.stop.abort(refused);
        return outcome({ error: refused });
      }
      failedAttempts += 1;
      if (!error.retryable || failedAttempts >= this.#maxAttempts || call.stop.signal.aborted) {
        return outcome({ error });
      }
      const delay = this.#random() * Math.min(BACKOFF.capMs, BACKOFF.baseMs * 2 ** (failedAttempts - 1));
      if (performance.now() + delay >= call.stop.deadlineAt) return outcome({ error });
      // A stop during the backoff rejects the sleep; the batch then reports its own last failure.
      const slept = await sleep(delay, true, { signal: call.stop.signal }).catch(() => false);
      if (!slept) return outcome({ error });
    }
  }

  /** `mayRefresh`: whether a 401 may re-read the key pair (once per batch). */
  #attempt(
    query: CallStatsQuery,
    skillIds: readonly number[],
    call: Call,
    mayRefresh: boolean,
  ): Promise<BatchAnswer> {
    return this.#limiter.run(async () => {
      const turn = await this.#negotiation.turn(call.stop.signal);
      // Read only now: a batch that waited for its turn signs with a key pair refreshed meanwhile.
      const credentials = call.credentials.current;
      let verdict: SignatureVerdict = 'unknown';
      try {
        // Signed afresh for every attempt: the server refuses stale timestamps.
        const body = JSON.stringify({ ccId: query.ccId, vdn: query.vdn, skillIds });
        const headers = signRequest({
          accessKey: credentials.accessKey,
          secretKey: credentials.secretKey,
          url: this.#url,
          body,
          at: new Date(this.#now()),
          layout: turn.layout,
        });
        call.requests += 1;
        const answer = await httpsPost({
          url: this.#url,
          headers,
          body,
          agent: this.#agents.agentFor([this.#caCertificate, credentials.caCertificate]),
          timeoutMs: this.#requestTimeoutMs,
          signal: call.stop.signal,
          maxResponseBytes: this.#maxResponseBytes,
        });
        if (answer.status === 401) {
          // Re-read while this request still holds its turn, so that the next request signs with what was found.
          const refresh = mayRefresh ? await call.credentials.refreshedAfter401(credentials) : 'notTried';
          verdict = refresh === 'rotated' ? 'refusedKeyPair' : 'refused';
          throw new SignatureRefused(refresh);
        }
        // Any other answer from CMS itself means the signature passed, whatever CMS then made of the query.
        if (answer.status === 200) verdict = 'accepted';
        if (answer.status === 403) throw new CmsIpLockedError();
        if (answer.status !== 200) throw new CmsHttpError(answer.status);
        return {
          records: parseCallStatsResponse(answer.body),
          clock: clockReading(answer.date, this.#now()),
        };
      } finally {
        turn.settle(verdict);
      }
    }, call.stop.signal);
  }
}

/** HTTP 401 itself, before the client decides what to try next and which error to report. */
class SignatureRefused extends CmsAuthError {
  constructor(readonly refresh: RefreshOutcome | 'notTried') {
    super();
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
