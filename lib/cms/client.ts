import { performance } from 'node:perf_hooks';
import { CmsError, ValidationError } from '../errors.js';
import type { Log } from '../log.js';
import { AttemptSender, type CallRequests, type ConnectionSettings } from './attempt.js';
import { fetchBatch, type RetryPolicy } from './batch.js';
import { CallCredentials } from './call-credentials.js';
import { stopForCall } from './call-stop.js';
import type { CmsCredentials, CredentialSource } from './credentials.js';
import type { RefusalRules } from './refusal-budget.js';
import { batchSkillIds, type CallStatsQuery, validateCallStatsQuery } from './request.js';
import { SignatureNegotiation, type SignatureSetting } from './signature-negotiation.js';
import { type VdnRead, vdnRead } from './vdn-read.js';

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
}

/**
 * Client of the CC-CMS "current call statistics" API: validates, batches, signs each attempt, retries what is
 * worth retrying and reports per batch what could not be had, so that one bad batch does not hide the others.
 */
export class CmsClient {
  readonly #credentials: CredentialSource;
  readonly #now: () => number;
  readonly #sender: AttemptSender;
  readonly #retry: RetryPolicy;

  constructor(options: CmsClientOptions) {
    this.#credentials = options.credentials;
    this.#now = options.now ?? Date.now;
    const negotiation = new SignatureNegotiation(options.signature, options.refusals, this.#now, options.log);
    this.#sender = new AttemptSender(options, negotiation, this.#now);
    this.#retry = { maxAttempts: options.maxAttempts, random: options.random ?? Math.random, negotiation };
  }

  /**
   * Throws ValidationError before any request on bad input; never throws for a batch failure (reports it). A
   * failure of the credential source itself (current()) is not a CMS answer and is thrown as is.
   */
  async currentCallStats(query: CallStatsQuery | unknown, options: CallStatsOptions): Promise<VdnRead> {
    const validated = validateCallStatsQuery(query);
    if (typeof options.deadline !== 'number' || !Number.isFinite(options.deadline)) {
      throw new ValidationError('deadline', 'expected epoch milliseconds');
    }
    const stop = stopForCall(options.deadline - this.#now(), options.signal);
    const spent = { ms: 0 };
    const facts = (requests: number) => ({ requests, credentialMs: spent.ms, now: this.#now() });
    try {
      let credentials: CallCredentials;
      try {
        credentials = await CallCredentials.read(timedSource(this.#credentials, spent), stop.signal);
      } catch (error) {
        // Stopped before the first request (out of time, or an IP lock another call met): every batch is
        // reported with that cause, as if each had met it.
        if (!(error instanceof CmsError && stop.signal.aborted)) throw error;
        const stopped = batchSkillIds(validated.skillIds).map((skillIds) => ({ skillIds, ms: 0, error }));
        return vdnRead(validated, stopped, facts(0));
      }
      // The first read happens before any batch starts: only later reads (after a 401) are inside a batch's time.
      spent.ms = 0;
      let requests = 0;
      const call: CallRequests = {
        signal: stop.signal,
        credentials,
        sent: () => {
          requests += 1;
        },
      };
      const outcomes = await Promise.all(
        batchSkillIds(validated.skillIds).map((skillIds) =>
          fetchBatch(
            skillIds,
            (mayRefresh) => this.#sender.send(call, validated, skillIds, mayRefresh),
            stop,
            this.#retry,
          ),
        ),
      );
      return vdnRead(validated, outcomes, facts(requests));
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
