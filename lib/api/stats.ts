import { throwIfFailed } from '../cms/client.js';
import type { LiveQueueRead } from '../cms/live-queue.js';
import type { StatsSource } from '../cms/stats-source.js';
import { CmsTimeoutError, ForbiddenError, ValidationError } from '../errors.js';
import type { Target } from '../model.js';
import { formatSkillList } from '../skills.js';
import { type CacheSource, CoalescingCache } from './cache.js';
import { buildReport, type StatsReport } from './report.js';

// One VDN's current statistics and live queue through the coalescing cache: what the query API answers and what
// the dashboard wallboard draws. Both go through here, so however many API callers and dashboard viewers ask
// about a VDN at once, CMS sees one read (a call per interface, both at once) per distinct question per cache
// period and container; and both are held to the same rule of which VDNs this deployment may answer for.

/**
 * What a caller asked for, validated but not yet checked against the deployment's targets. The VDN comes from
 * the path; skills the caller left out are the configured ones (see resolveTarget).
 */
export interface StatsQuery {
  readonly ccId: number;
  readonly vdn: number;
  /** Sorted, without duplicates. */
  readonly skillIds?: readonly number[];
}

export interface QueryLimits {
  /** QUERY_MAX_SKILLS: the most distinct skills one query may name. */
  readonly maxSkills: number;
}

/**
 * Whether this deployment may answer a query, and for which skills. A deployment only holds credentials and a
 * mandate for the VDNs it is configured with (CC_ID/VDN or CMS_TARGETS), so a query may only name one of those;
 * it may, though, ask for any valid skill of such a VDN, not only the skills the collector watches. Without
 * skillIds the VDN's configured skills are answered, within the same QUERY_MAX_SKILLS as a list the caller names.
 */
export function resolveTarget(query: StatsQuery, targets: readonly Target[], limits: QueryLimits): Target {
  const match = targets.find((target) => target.ccId === query.ccId && target.vdn === query.vdn);
  if (!match) {
    throw new ForbiddenError(`this deployment does not serve VDN ${query.vdn} of call center ${query.ccId}`);
  }
  const skillIds = query.skillIds ?? match.skillIds;
  if (query.skillIds === undefined && skillIds.length > limits.maxSkills) {
    throw new ValidationError(
      'skillIds',
      `is required for this VDN: its ${skillIds.length} configured skills are more than the ${limits.maxSkills} a query may name`,
    );
  }
  return { ccId: match.ccId, vdn: match.vdn, skillIds };
}

/** The answer of the query API, and the data of the wallboard. */
export interface StatsAnswer extends StatsReport {
  /** ISO 8601: when CMS was asked. */
  readonly fetchedAt: string;
}

interface CachedStats {
  /** The parsed answer, for renderers. */
  readonly answer: StatsAnswer;
  /**
   * How the live queue's read went, for the log lines (the answer says only `queue: null`): its kind, and for a
   * failed read the error's code.
   */
  readonly liveQueue: string;
  /** The same answer serialized, for the API: kept so that a cached answer is not serialized again per caller. */
  readonly body: string;
}

export interface StatsLookupConfig {
  /** QUERY_CACHE_SECONDS in ms; 0 disables the cache (concurrent identical queries still share a CMS call). */
  readonly cacheTtlMs: number;
  /** QUERY_TIMEOUT_MS: the most one query may spend on CMS, across batches and retries. */
  readonly timeoutMs: number;
}

export interface StatsLookupDeps {
  readonly cms: StatsSource;
  /** Clock of the cache and of `fetchedAt`. Deadlines handed to the CMS client are always wall-clock time. */
  readonly now: () => number;
}

export interface StatsLookup {
  get(target: Target, deadline: number): Promise<{ value: CachedStats; source: CacheSource }>;
}

// The answers are ASCII JSON, so their length in characters is their size in bytes.
const CACHE_LIMITS = { maxEntries: 64, maxChars: 8 * 1024 * 1024 };

function liveQueueNote(queue: LiveQueueRead | undefined): string {
  if (queue === undefined) return 'not asked';
  return queue.kind === 'failed' ? `failed: ${queue.error.code}` : queue.kind;
}

export function createStatsLookup(config: StatsLookupConfig, deps: StatsLookupDeps): StatsLookup {
  // Answers are weighed by their serialized length: bounding it bounds the memory the cache can take.
  const cache = new CoalescingCache<CachedStats>({
    ttlMs: config.cacheTtlMs,
    maxEntries: CACHE_LIMITS.maxEntries,
    maxWeight: CACHE_LIMITS.maxChars,
    weigh: (value) => value.body.length,
    now: deps.now,
  });

  async function load(target: Target, deadline: number): Promise<CachedStats> {
    if (deadline <= Date.now()) {
      throw new CmsTimeoutError('no time was left to ask CMS before the request deadline');
    }
    // All or nothing: a report with some batches missing would look like a quiet queue, not a failure.
    const read = throwIfFailed(await deps.cms.currentCallStats(target, { deadline, liveQueue: true }));
    const report = buildReport(read);
    const answer: StatsAnswer = {
      ccId: report.ccId,
      vdn: report.vdn,
      fetchedAt: new Date(deps.now()).toISOString(),
      skills: report.skills,
      missingSkillIds: report.missingSkillIds,
      rollup: report.rollup,
    };
    return { answer, body: JSON.stringify(answer), liveQueue: liveQueueNote(read.liveQueue) };
  }

  return {
    get: (target, deadline) =>
      cache.get(`${target.ccId}/${target.vdn}/${formatSkillList(target.skillIds)}`, () =>
        load(target, deadline),
      ),
  };
}
