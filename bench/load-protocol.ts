/** Messages between the query benchmark and its load generator (a process of its own, so that its CPU is not the server's). */

export interface LoadPlan {
  /** Absolute URLs; client `i` asks them in turn starting at `urls[i % urls.length]`. */
  readonly urls: readonly string[];
  /**
   * Closed loop: concurrent clients, each with one request in flight at a time over a keep-alive connection.
   * Open loop (`arrivalsPerSecond`): the most connections open at once.
   */
  readonly clients: number;
  /**
   * When given, requests arrive at this steady rate whatever the answers do (open loop), asking the URLs in
   * turn, and each latency counts from the moment its request was due: a slow answer cannot slow the arrivals
   * down and so hide itself, as it does in a closed loop.
   */
  readonly arrivalsPerSecond?: number;
  /** Requests started in this first stretch are not counted (connections, JIT, first cache fill). */
  readonly warmupMs: number;
  readonly durationMs: number;
}

export interface LoadResult {
  /** Actual length of the measured stretch. */
  readonly durationMs: number;
  /** Requests started in the measured stretch that completed with 200 and a JSON report. */
  readonly served: number;
  /** Kind of failure (HTTP status, error code, `bad body`) → count. */
  readonly errors: Readonly<Record<string, number>>;
  readonly latencyMs: {
    readonly p50: number;
    readonly p90: number;
    readonly p99: number;
    readonly max: number;
    readonly mean: number;
  };
  /** Sockets the client agent opened over the whole run: 1 per client when keep-alive holds. */
  readonly socketsOpened: number;
  /** CPU the load generator used in the measured stretch: near the duration means it, not the API, set the pace. */
  readonly cpuMs: number;
}

export type LoadMessage =
  | { readonly kind: 'measuring' }
  | { readonly kind: 'result'; readonly result: LoadResult }
  | { readonly kind: 'failed'; readonly error: string };
