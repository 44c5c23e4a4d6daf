import type { StatsSource } from './cms/stats-source.js';
import { describeError, type Log } from './log.js';
import type { LiveQueueOutcome } from './metrics/live-queue-datums.js';

// The live queue of a collection run: each target's normal read asks for its counters and its live queue at
// once (lib/cms/client.ts, read), so the live queue costs the run no time of its own; the closing reads ask for
// the counters alone. A VDN whose live queue cannot be read still publishes its counters; only its live figures
// are missing for this run.

/** How the run's live-queue reads went, for its summary. */
export interface LiveQueueSummary {
  readonly read: number;
  /** CMS lacks the live queue for these VDNs (said once per process by the CMS client's WARN). */
  readonly unsupported: number;
  readonly failed: number;
  readonly requests: number;
}

export interface LiveQueueRecorder {
  /** Answers the run's normal reads: the counters, with each target's live queue read alongside and kept. */
  readonly cms: StatsSource;
  readonly outcomes: readonly LiveQueueOutcome[];
}

export function recordLiveQueues(deps: { readonly cms: StatsSource; readonly log: Log }): LiveQueueRecorder {
  const outcomes: LiveQueueOutcome[] = [];
  return {
    outcomes,
    cms: {
      read: (query, options) => deps.cms.read(query, options),
      currentCallStats: async (query, options) => {
        const { stats, queue } = await deps.cms.read(query, options);
        if (queue.kind === 'failed') {
          deps.log.warn('live queue not read: no live figures for this VDN in this run', {
            ccId: query.ccId,
            vdn: query.vdn,
            error: describeError(queue.error),
          });
        }
        outcomes.push({ ccId: query.ccId, vdn: query.vdn, read: queue });
        return stats;
      },
    },
  };
}

export function summarizeLiveQueues(outcomes: readonly LiveQueueOutcome[]): LiveQueueSummary {
  const count = (kind: LiveQueueOutcome['read']['kind']) =>
    outcomes.filter((outcome) => outcome.read.kind === kind).length;
  return {
    read: count('read'),
    unsupported: count('unsupported'),
    failed: count('failed'),
    requests: outcomes.reduce((sum, outcome) => sum + outcome.read.requests, 0),
  };
}
