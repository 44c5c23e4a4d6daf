/** Messages between the benchmarks and the process that hosts the CMS simulator and the fake AWS endpoint. */
import type { WorldAddress } from '../test/support/world.js';

/** What reached the servers since the previous `take`. */
export interface ServerCounts {
  /** Requests for the counters (`currentcallstateinfo`), or to a path CMS does not serve. */
  readonly cmsRequests: number;
  /** Requests for the live queue (`totalskillstatusex3`). */
  readonly liveQueueRequests: number;
  /** HTTP status → requests answered with it. */
  readonly cmsStatuses: Readonly<Record<string, number>>;
  /** `ccId/vdn/firstSkill-lastSkill/count` → requests: how often each distinct question reached CMS. */
  readonly cmsByQuery: Readonly<Record<string, number>>;
  readonly putMetricDataCalls: number;
  readonly putMetricDataDatums: number;
  readonly putMetricDataMaxDatums: number;
  /** AWS requests answered with an error. */
  readonly awsRefused: number;
  readonly getSecretValueCalls: number;
  /** CPU the servers' process used (user + system): near the wall time means the stand-ins were the bottleneck. */
  readonly cpuMs: number;
}

export interface ServersReady extends WorldAddress {
  readonly ready: true;
}

export type ServersRequest =
  | { readonly id: number; readonly method: 'take' }
  | {
      readonly id: number;
      readonly method: 'setSecret';
      readonly secretId: string;
      readonly secretString: string;
    }
  | { readonly id: number; readonly method: 'close' };

export interface ServersReply {
  readonly id: number;
  readonly result: ServerCounts | null;
  readonly error?: string;
}
