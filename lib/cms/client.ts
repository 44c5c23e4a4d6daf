import { performance } from 'node:perf_hooks';
import { Limiter } from '../concurrency.js';
import type { CmsSettings } from '../config.js';
import {
  CmsAuthError,
  CmsError,
  CmsHttpError,
  CmsIpLockedError,
  CmsTimeoutError,
  CmsWindowError,
  ValidationError,
} from '../errors.js';
import type { Log } from '../log.js';
import type { SkillStats } from '../model.js';
import { windowStartProblem } from '../window.js';
import { type CmsClockReading, clockReading } from './clock.js';
import { type CmsCredentials, type CredentialSource, sameKeyPair } from './credentials.js';
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

/** setTimeout fires at once beyond this, so longer deadlines need no timer at all. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface BatchAnswer {
  readonly records: readonly SkillStats[];
  readonly clock: CmsClockReading;
}

type BatchOutcome =
  | ({ readonly skillIds: readonly number[]; readonly ms: number } & BatchAnswer)
  | { readonly skillIds: readonly number[]; readonly ms: number; readonly error: CmsError };

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
    const call = new Call(this.#credentials, options.deadline - this.#now(), options.signal);
    try {
      try {
        await call.readCredentials();
      } catch (error) {
        // Stopped before the first request (out of time, or an IP lock another call met): every batch is
        // reported with that cause, as if each had met it.
        if (!(error instanceof CmsError && call.signal.aborted)) throw error;
        const stopped = batchSkillIds(validated.skillIds).map((skillIds) => ({ skillIds, ms: 0, error }));
        return merge(validated, stopped, 0);
      }
      const outcomes = await Promise.all(
        batchSkillIds(validated.skillIds).map((skillIds) => this.#batch(validated, skillIds, call)),
      );
      return refuseImplausibleWindows(merge(validated, outcomes, call.requests), this.#now());
    } finally {
      call.dispose();
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
        call.abort(error);
        return outcome({ error });
      }
      if (error instanceof SignatureRefused) {
        if (error.refresh !== 'notTried') reauthenticated = true;
        if (error.refresh instanceof CmsError) return outcome({ error: error.refresh });
        if (call.signal.aborted) return outcome({ error: this.#negotiation.refusedError() });
        // A rotated key pair gets one try of its own, outside the retry budget of the old one.
        if (error.refresh === 'rotated' || this.#negotiation.mayTryAnotherLayout) continue;
        // The call's other batches would be refused alike: each refusal brings CMS's IP lock closer.
        const refused = this.#negotiation.refusedError();
        call.abort(refused);
        return outcome({ error: refused });
      }
      failedAttempts += 1;
      if (!error.retryable || failedAttempts >= this.#maxAttempts || call.signal.aborted) {
        return outcome({ error });
      }
      const delay = this.#random() * Math.min(BACKOFF.capMs, BACKOFF.baseMs * 2 ** (failedAttempts - 1));
      if (performance.now() + delay >= call.deadlineAt) return outcome({ error });
      if (!(await sleep(delay, call.signal))) return outcome({ error });
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
      const turn = await this.#negotiation.turn(call.signal);
      // Read only now: a batch that waited for its turn signs with a key pair refreshed meanwhile.
      const credentials = call.credentials;
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
          signal: call.signal,
          maxResponseBytes: this.#maxResponseBytes,
        });
        if (answer.status === 401) {
          // Re-read while this request still holds its turn, so that the next request signs with what was found.
          const refresh = mayRefresh ? await call.refreshedAfter401(credentials) : 'notTried';
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
    }, call.signal);
  }
}

/** HTTP 401 itself, before the client decides what to try next and which error to report. */
class SignatureRefused extends CmsAuthError {
  constructor(readonly refresh: RefreshOutcome | 'notTried') {
    super();
  }
}

/** What re-reading the key pair after a 401 found: a new pair, the same pair, or a failure to read it. */
type RefreshOutcome = 'rotated' | 'unchanged' | CmsError;

/** Throws the first failure's error, for all-or-nothing callers. */
export function throwIfFailed(result: CallStatsResult): CallStatsResult {
  const [first] = result.failures;
  if (first) throw first.error;
  return result;
}

/** What the batches of one call share: the deadline, the current key pair and the one refresh allowed. */
class Call {
  requests = 0;
  /** performance.now() value of the deadline: immune to wall-clock steps during the call. */
  readonly deadlineAt: number;
  readonly #controller = new AbortController();
  readonly #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #callerSignal: AbortSignal | undefined;
  #credentials: CmsCredentials | undefined;
  #refresh: Promise<CmsCredentials | CmsError> | undefined;

  constructor(
    private readonly source: CredentialSource,
    remainingMs: number,
    callerSignal: AbortSignal | undefined,
  ) {
    this.deadlineAt = performance.now() + remainingMs;
    this.#callerSignal = callerSignal;
    const deadlinePassed = new CmsTimeoutError('the deadline passed before CMS answered');
    if (remainingMs <= 0) this.#controller.abort(deadlinePassed);
    else if (remainingMs <= MAX_TIMER_MS) {
      this.#timer = setTimeout(() => this.#controller.abort(deadlinePassed), remainingMs);
    }
    if (callerSignal?.aborted) this.#onCallerAbort();
    else callerSignal?.addEventListener('abort', this.#onCallerAbort, { once: true });
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** The key pair in use; read once per call, before any batch starts. */
  get credentials(): CmsCredentials {
    if (this.#credentials === undefined) throw new Error('the credentials are read before any batch starts');
    return this.#credentials;
  }

  /**
   * Reads the key pair within the call's deadline: a slow Secrets Manager costs the time left, never more. A
   * failure of the source itself is not a CMS answer and is thrown as it is.
   */
  async readCredentials(): Promise<void> {
    this.#credentials = await untilAborted(
      this.source.current(this.signal),
      this.signal,
      'the deadline passed while the CMS credentials were being read',
    );
  }

  /**
   * After a 401 with `used`: whether the source now holds another pair (worth a retry; it becomes the call's
   * pair), or the error if the source could not be read. The refresh runs once per call, however many batches
   * were refused.
   */
  async refreshedAfter401(used: CmsCredentials): Promise<RefreshOutcome> {
    // A pair already refreshed by another call of this process counts as the rotation: no second read.
    this.#refresh ??= untilAborted(
      this.#latest(used),
      this.signal,
      'the deadline passed while the CMS credentials were being read again',
    ).then(
      (fresh) => {
        this.#credentials = fresh;
        return fresh;
      },
      (error: unknown) => (error instanceof CmsError ? error : new CmsAuthError(undefined, { cause: error })),
    );
    const fresh = await this.#refresh;
    if (fresh instanceof CmsError) return fresh;
    return sameKeyPair(fresh, used) ? 'unchanged' : 'rotated';
  }

  async #latest(used: CmsCredentials): Promise<CmsCredentials> {
    const current = await this.source.current(this.signal);
    return sameKeyPair(current, used) ? this.source.refresh(this.signal) : current;
  }

  /** Stops the call's other batches with `reason` as their error. */
  abort(reason: CmsError): void {
    this.#controller.abort(reason);
  }

  dispose(): void {
    clearTimeout(this.#timer);
    this.#callerSignal?.removeEventListener('abort', this.#onCallerAbort);
  }

  readonly #onCallerAbort = (): void => {
    // A caller that stops the call for a CMS reason (an IP lock found by another call) passes that reason on.
    const reason: unknown = this.#callerSignal?.reason;
    this.#controller.abort(
      reason instanceof CmsError ? reason : new CmsTimeoutError('the caller cancelled the request to CMS'),
    );
  };
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

/**
 * `work`'s outcome, or as soon as `signal` aborts its reason: a CmsTimeoutError saying `what` when the deadline
 * passed, the CMS failure that stopped the call (an IP lock) otherwise.
 */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      const reason: unknown = signal.reason;
      reject(
        reason instanceof CmsError && !(reason instanceof CmsTimeoutError)
          ? reason
          : new CmsTimeoutError(what),
      );
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** Resolves true after `ms`, or false as soon as `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve(false);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
