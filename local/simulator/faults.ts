import type { SkillQuery } from './validate.js';

/** The interfaces the simulator serves, by their last path segment. */
export type SimEndpoint = 'currentcallstateinfo' | 'totalskillstatusex3';

/** Failures the simulator can be told to produce, so clients can be tested against every way CMS misbehaves. */

export type SimFault =
  | { kind: 'latency'; ms: number }
  | { kind: 'status'; status: number }
  | { kind: 'unauthorized' }
  | { kind: 'malformedJson' }
  | { kind: 'truncatedJson' }
  | { kind: 'resultCode'; code: string; desc?: string }
  | { kind: 'dropConnection' }
  | { kind: 'resetMidResponse' }
  | { kind: 'wrongTypes' }
  | { kind: 'hugeResponse'; bytes: number }
  /** A success whose record of `skillId` (default: the first) carries this `startTime`, as a broken CMS might. */
  | { kind: 'startTime'; value: number; skillId?: number }
  /** A live-queue success whose first record carries this `skillDescrip` (operator text is untrusted). */
  | { kind: 'skillDescrip'; value: string };

/**
 * How the simulator answers a signature it refuses (and the `unauthorized` fault), as CMS or an NSLB in front of
 * it may: CMS has counted the refusal in every case, whatever reaches the client.
 * - `late`: the 401 comes after `ms`; `cut`: the connection closes in the middle of the 401's body;
 * - `reset`: the connection closes without an answer; `huge`: the 401 carries a body of `bytes`.
 */
export type RefusalDelivery =
  | { kind: 'plain' }
  | { kind: 'late'; ms: number }
  | { kind: 'cut' }
  | { kind: 'reset' }
  | { kind: 'huge'; bytes: number };

export interface FaultOptions {
  /** How many requests the fault hits; default 1, Infinity for every matching request. */
  times?: number;
  /** The interface whose requests the fault hits; default the call statistics (`currentcallstateinfo`). */
  endpoint?: SimEndpoint;
  /** Which valid, authenticated requests the fault hits; default all of them. */
  when?: (request: SkillQuery) => boolean;
}

interface PendingFault {
  readonly fault: SimFault;
  readonly endpoint: SimEndpoint;
  remaining: number;
  readonly when: ((request: SkillQuery) => boolean) | undefined;
}

/** Faults that only make sense for one interface's items. */
const ONLY_FOR: Partial<Record<SimFault['kind'], SimEndpoint>> = {
  startTime: 'currentcallstateinfo',
  skillDescrip: 'totalskillstatusex3',
};

/** Refuses faults the simulator could not act out, at injection time rather than mid-request. */
function checkFault(fault: SimFault, endpoint: SimEndpoint): void {
  const only = ONLY_FOR[fault.kind];
  if (only !== undefined && only !== endpoint)
    throw new RangeError(`a ${fault.kind} fault is for ${only} only`);
  switch (fault.kind) {
    case 'latency':
      if (!(Number.isFinite(fault.ms) && fault.ms >= 0)) throw new RangeError('latency ms must be ≥ 0');
      return;
    case 'status':
      if (!(Number.isInteger(fault.status) && fault.status >= 200 && fault.status <= 599)) {
        throw new RangeError('status must be an HTTP status from 200 to 599');
      }
      return;
    case 'hugeResponse':
      if (!(Number.isSafeInteger(fault.bytes) && fault.bytes > 0)) {
        throw new RangeError('hugeResponse bytes must be a positive integer');
      }
      return;
    case 'resultCode':
      if (fault.code === '') throw new RangeError('resultCode code must not be empty');
      return;
    default:
      return;
  }
}

/** Injected faults in injection order; each request consumes at most one, the first that selects it. */
export class FaultQueue {
  private pending: PendingFault[] = [];

  add(fault: SimFault, options: FaultOptions = {}): void {
    const endpoint = options.endpoint ?? 'currentcallstateinfo';
    checkFault(fault, endpoint);
    const times = options.times ?? 1;
    if (!(times === Number.POSITIVE_INFINITY || (Number.isSafeInteger(times) && times > 0))) {
      throw new RangeError('times must be a positive integer or Infinity');
    }
    this.pending.push({ fault: { ...fault }, endpoint, remaining: times, when: options.when });
  }

  clear(): void {
    this.pending = [];
  }

  /** The fault this request to `endpoint` meets, if any; its remaining count is used up by one. */
  take(request: SkillQuery, endpoint: SimEndpoint): SimFault | undefined {
    const index = this.pending.findIndex(
      (entry) => entry.endpoint === endpoint && (entry.when === undefined || entry.when(request)),
    );
    const entry = this.pending[index];
    if (!entry) return undefined;
    entry.remaining -= 1;
    if (entry.remaining <= 0) this.pending.splice(index, 1);
    return entry.fault;
  }

  get size(): number {
    return this.pending.length;
  }
}
