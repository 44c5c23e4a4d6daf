import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { WorldAddress } from '../test/support/world.js';
import { cleanEnv, spawnTsxWithIpc } from './children.js';
import type { ServerCounts, ServersReady, ServersReply, ServersRequest } from './servers-protocol.js';

export type { ServerCounts } from './servers-protocol.js';

/** The benchmarks' handle on the CMS simulator and fake AWS endpoint that run in a child process. */
export interface BenchServers extends WorldAddress {
  /** What reached the servers since the previous call. */
  take(): Promise<ServerCounts>;
  setSecret(secretId: string, secretString: string): Promise<void>;
  close(): Promise<void>;
}

type Pending = { resolve: (result: ServerCounts | null) => void; reject: (error: Error) => void };

type RequestWithoutId = ServersRequest extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;

export async function startBenchServers(options: {
  readonly cmsLatencyMs: number;
  readonly awsLatencyMs: number;
}): Promise<BenchServers> {
  const child: ChildProcess = spawnTsxWithIpc(
    new URL('./servers.ts', import.meta.url).pathname,
    cleanEnv({
      BENCH_CMS_LATENCY_MS: String(options.cmsLatencyMs),
      BENCH_AWS_LATENCY_MS: String(options.awsLatencyMs),
    }),
  );
  const pending = new Map<number, Pending>();
  let nextId = 1;
  const failAll = (error: Error): void => {
    for (const waiter of pending.values()) waiter.reject(error);
    pending.clear();
  };
  child.on('exit', (code) => failAll(new Error(`the benchmark servers exited (${code})`)));

  const ready = await new Promise<ServersReady>((resolve, reject) => {
    child.once('message', (message: ServersReady) => resolve(message));
    child.once('exit', (code) => reject(new Error(`the benchmark servers did not start (exit ${code})`)));
  });
  child.on('message', (message: ServersReply) => {
    const waiter = pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    if (message.error !== undefined) waiter.reject(new Error(message.error));
    else waiter.resolve(message.result);
  });

  const call = (request: RequestWithoutId): Promise<ServerCounts | null> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      child.send({ ...request, id } as ServersRequest);
    });

  return {
    cmsUrl: ready.cmsUrl,
    caCertificate: ready.caCertificate,
    awsUrl: ready.awsUrl,
    accessKey: ready.accessKey,
    secretKey: ready.secretKey,
    async take() {
      const counts = await call({ method: 'take' });
      if (counts === null) throw new Error('the benchmark servers sent no counts');
      return counts;
    },
    async setSecret(secretId, secretString) {
      await call({ method: 'setSecret', secretId, secretString });
    },
    async close() {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      await call({ method: 'close' }).catch(() => null);
      await exited;
    },
  };
}
