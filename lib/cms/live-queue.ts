import { type CmsError, CmsHttpError, CmsProtocolError } from '../errors.js';
import type { Log } from '../log.js';
import type { SkillQueue } from '../model.js';
import { cleanText } from '../text.js';
import type { CmsInterface } from './attempt.js';
import type { BatchOutcome } from './batch.js';
import { type QueueRollup, rollupQueue } from './queue-view.js';
import { type CallStatsQuery, describeValue } from './request.js';
import { countOf, parseRecords, recordFields, skillIdOf } from './response.js';
import {
  CmsResultError,
  PERMISSION_RESULT_CODE,
  resultCodeMeaning,
  WRONG_CTI_VERSION_RESULT_CODE,
} from './result-codes.js';

// The live queue of CC-CMS (`totalskillstatusex3`, cms-api.md "The live queue"): per skill, the calls waiting
// now, the longest current wait and the agents signed in and available. A sibling of `currentcallstateinfo`
// (same body, signature, envelope and batching), so it is sent through the same attempt (lib/cms/attempt.ts).
//
// Not every CMS has it: CTI 3.6 answers `0100003`, a key without the right `0101003`, and a CMS that does not
// know the path answers HTTP 404. The counters never depend on it: such a CMS is remembered as lacking the live
// queue for LIVE_QUEUE_RETRY_MS, during which it is not asked again (no request, no retry storm), and one WARN
// per process and scope says why.

export const LIVE_QUEUE_PATH = '/rest/cmsapp/v1/openapi/skill/totalskillstatusex3';

/**
 * How long a CMS that lacks the live queue is left alone before it is asked again: long enough that thousands of
 * reads cost it a handful of refused calls an hour, short enough that an upgrade or a granted right shows within
 * the quarter hour.
 */
export const LIVE_QUEUE_RETRY_MS = 15 * 60_000;

/** Operator text kept of a skill's description: enough to name a queue. */
const MAX_DESCRIPTION_CHARS = 80;

/** A skill's live queue as CMS described it; `description` is CMS's `skillDescrip`, cleaned and bounded. */
export interface SkillQueueRecord extends SkillQueue {
  readonly description: string;
}

/**
 * One item of a `totalskillstatusex3` answer, strictly: counts and times are non-negative Java longs (numbers,
 * or strings of digits), `queueTime` is seconds. `skillDescrip` is operator text, kept only cleaned of control
 * characters and clipped; `callId` identifies a caller's call and is not read at all, so it cannot reach a log.
 * `maxQueueSize` (the queue's capacity) is not used.
 */
function parseQueueItem(item: unknown, index: number): SkillQueueRecord {
  const fields = recordFields(item, index);
  const skillId = skillIdOf(fields, 'skillId', index);
  const count = (name: string) => countOf(fields, name, skillId);
  const callsWaiting = count('queueSize');
  const longestWaitSeconds = count('queueTime');
  const agentsLoggedOn = count('loggedOnAgents');
  const agentsAvailable = count('availAgents');
  const descrip = fields.skillDescrip;
  if (descrip !== undefined && descrip !== null && typeof descrip !== 'string') {
    throw new CmsProtocolError(
      `skill ${skillId}: skillDescrip is ${describeValue(descrip)}, expected a text`,
    );
  }
  return {
    skillId,
    callsWaiting,
    longestWaitSeconds,
    agentsLoggedOn,
    agentsAvailable,
    description: typeof descrip === 'string' ? cleanText(descrip, MAX_DESCRIPTION_CHARS).trim() : '',
  };
}

/** Parses a `totalskillstatusex3` answer: one record per skill id (the first of duplicates), by skill id. */
export function parseLiveQueueResponse(body: string): SkillQueueRecord[] {
  return parseRecords(body, parseQueueItem);
}

/**
 * The counters come first: a live-queue request never takes the last refused signature the process has left
 * (lib/cms/signature-negotiation.ts), so that a rotated key pair hitting every request in flight still leaves
 * the counters a signature to sign with the new pair.
 */
export const LIVE_QUEUE_INTERFACE: CmsInterface<SkillQueueRecord> = {
  path: LIVE_QUEUE_PATH,
  parse: parseLiveQueueResponse,
  optional: true,
};

/**
 * What one read of the live queue of a VDN gave:
 * - `read`: the requested skills CMS answered for, by skill id, as of `at` (our clock when the answer came);
 *   a skill CMS did not return is absent;
 * - `unsupported`: this CMS lacks the interface or this key its right (`reason` says which); not asked again
 *   before LIVE_QUEUE_RETRY_MS has passed;
 * - `failed`: anything else (time-out, network, 5xx, an answer that breaks the contract); the next read asks
 *   again. A read is all or nothing: with a batch missing, the VDN's sum and maximum would understate the
 *   queue.
 */
export type LiveQueueRead =
  | {
      readonly kind: 'read';
      readonly at: number;
      readonly skills: readonly SkillQueueRecord[];
      /** The VDN's figures over `skills`: calls waiting summed, the longest wait their maximum. */
      readonly total: QueueRollup;
      readonly slowestBatchMs: number;
      readonly requests: number;
    }
  | { readonly kind: 'unsupported'; readonly reason: string; readonly requests: number }
  | { readonly kind: 'failed'; readonly error: CmsError; readonly requests: number };

/** The batches of one live-queue call, as the client ran them. */
interface LiveQueueCall {
  readonly outcomes: readonly BatchOutcome<SkillQueueRecord>[];
  readonly requests: number;
}

/** Why CMS lacks the live queue, and for whom: the whole CMS (its CTI, its paths) or one VDN (the key's rights). */
interface Missing {
  readonly reason: string;
  readonly scope: 'cms' | 'vdn';
  readonly fields: Readonly<Record<string, unknown>>;
}

/** Whether `error` says that CMS lacks the live queue (rather than that this attempt failed). */
function missingOf(error: CmsError): Missing | undefined {
  if (error instanceof CmsHttpError && error.status === 404) {
    return {
      reason: `CMS answered HTTP 404 for ${LIVE_QUEUE_PATH}: this CMS does not offer the live queue`,
      scope: 'cms',
      fields: { status: 404 },
    };
  }
  if (
    error instanceof CmsResultError &&
    (error.resultCode === WRONG_CTI_VERSION_RESULT_CODE || error.resultCode === PERMISSION_RESULT_CODE)
  ) {
    return {
      reason: `CMS result code ${error.resultCode} for the live queue: ${resultCodeMeaning(error.resultCode)}`,
      scope: error.resultCode === PERMISSION_RESULT_CODE ? 'vdn' : 'cms',
      fields: { resultCode: error.resultCode },
    };
  }
  return undefined;
}

const scopeKey = (scope: Missing['scope'], query: CallStatsQuery) =>
  scope === 'cms' ? 'cms' : `${query.ccId}/${query.vdn}`;

/**
 * The live queue's availability in this process: which scopes lack it, until when, and whether that has been
 * said. One per CMS client.
 */
export class LiveQueueAvailability {
  readonly #log: Pick<Log, 'debug' | 'warn'> | undefined;
  readonly #now: () => number;
  readonly #missing = new Map<string, { readonly reason: string; readonly until: number }>();
  readonly #warned = new Set<string>();

  constructor(log: Pick<Log, 'debug' | 'warn'> | undefined, now: () => number) {
    this.#log = log;
    this.#now = now;
  }

  /** Reads the live queue through `call`, unless this CMS or VDN is known to lack it. */
  async read(query: CallStatsQuery, call: () => Promise<LiveQueueCall>): Promise<LiveQueueRead> {
    const known = this.#knownMissing(query);
    if (known !== undefined) return { kind: 'unsupported', reason: known, requests: 0 };
    const { outcomes, requests } = await call();
    for (const outcome of outcomes) {
      if (!('error' in outcome)) continue;
      const missing = missingOf(outcome.error);
      if (missing === undefined) return { kind: 'failed', error: outcome.error, requests };
      this.#remember(query, missing);
      return { kind: 'unsupported', reason: missing.reason, requests };
    }
    const answered = outcomes.flatMap((outcome) => ('error' in outcome ? [] : [outcome]));
    const skills = answered.flatMap((outcome) => {
      // A server may answer for skills it was not asked about; only this batch's skills count.
      const asked = new Set(outcome.skillIds);
      return outcome.records.filter((record) => asked.has(record.skillId));
    });
    skills.sort((a, b) => a.skillId - b.skillId);
    return {
      kind: 'read',
      at: Math.min(...answered.map((outcome) => outcome.clock.localAt)),
      skills,
      total: rollupQueue(skills),
      slowestBatchMs: Math.max(0, ...outcomes.map((outcome) => outcome.ms)),
      requests,
    };
  }

  #knownMissing(query: CallStatsQuery): string | undefined {
    const now = this.#now();
    for (const key of ['cms', scopeKey('vdn', query)]) {
      const missing = this.#missing.get(key);
      if (missing === undefined) continue;
      if (now < missing.until) return missing.reason;
      this.#missing.delete(key);
    }
    return undefined;
  }

  #remember(query: CallStatsQuery, missing: Missing): void {
    const key = scopeKey(missing.scope, query);
    this.#missing.set(key, { reason: missing.reason, until: this.#now() + LIVE_QUEUE_RETRY_MS });
    const fields = {
      ...(missing.scope === 'vdn' ? { ccId: query.ccId, vdn: query.vdn } : {}),
      ...missing.fields,
      retryMinutes: LIVE_QUEUE_RETRY_MS / 60_000,
    };
    const message =
      `live queue not available: ${missing.reason}; the counters are unaffected, the live figures stay empty, ` +
      `and CMS is asked again every ${LIVE_QUEUE_RETRY_MS / 60_000} minutes`;
    // Once per process and scope: the same finding after each back-off is no news.
    if (this.#warned.has(key)) this.#log?.debug(message, fields);
    else this.#log?.warn(message, fields);
    this.#warned.add(key);
  }
}
