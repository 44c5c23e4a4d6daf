import type { VdnRead } from '../cms/vdn-read.js';
import { describeError, type Log } from '../log.js';

// The live queue of a collection run: each target's normal read asks for its counters and its live queue at
// once (lib/cms/client.ts), so the live queue costs the run no time of its own; the closing reads ask for the
// counters alone. A VDN whose live queue cannot be read still publishes its counters; only its live figures are
// missing for this run.

/** How the run's live-queue reads went, for its summary. */
export interface LiveQueueSummary {
  readonly read: number;
  /** CMS lacks the live queue for these VDNs (said once per process by the CMS client's WARN). */
  readonly unsupported: number;
  readonly failed: number;
  readonly requests: number;
}

/** One WARN line per VDN whose live queue could not be read in this run (a CMS without it is said elsewhere). */
export function logLiveQueueFailures(log: Log, reads: readonly VdnRead[]): void {
  for (const { ccId, vdn, liveQueue } of reads) {
    if (liveQueue?.kind !== 'failed') continue;
    log.warn('live queue not read: no live figures for this VDN in this run', {
      ccId,
      vdn,
      error: describeError(liveQueue.error),
    });
  }
}

export function summarizeLiveQueues(reads: readonly VdnRead[]): LiveQueueSummary {
  const count = (kind: NonNullable<VdnRead['liveQueue']>['kind']) =>
    reads.filter((read) => read.liveQueue?.kind === kind).length;
  return {
    read: count('read'),
    unsupported: count('unsupported'),
    failed: count('failed'),
    requests: reads.reduce((sum, read) => sum + (read.liveQueue?.requests ?? 0), 0),
  };
}
