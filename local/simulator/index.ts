import { once } from 'node:events';
import { createServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { SIGNATURE_LAYOUTS, type SignatureLayoutName } from '../../lib/cms/sign.js';
import { WINDOW_MS } from '../../lib/model.js';
import { createCertificateAuthority } from '../tls.js';
import type { Credentials } from './auth.js';
import { type FaultOptions, FaultQueue, type RefusalDelivery, type SimFault } from './faults.js';
import { type CmsQueueRecord, QueueModel } from './queue.js';
import type { ResponseFields } from './responses.js';
import {
  createRequestHandler,
  type HandlerContext,
  type LiveQueueMode,
  type SimRequestRecord,
} from './server.js';
import { type CmsSkillRecord, type OpeningHours, TrafficModel } from './traffic.js';
import type { SkillQuery } from './validate.js';

/**
 * A local stand-in for CC-CMS's current-call-statistics and live-queue endpoints over real HTTPS, with its own
 * private CA, C2 signature checks, a realistic traffic model (and the queue it makes) and fault injection: what
 * the client and the collector are tested and demonstrated against.
 */

export type { RefusalDelivery, SimEndpoint, SimFault } from './faults.js';
export type { CmsQueueRecord } from './queue.js';
export { ENDPOINT_PATH, LIVE_QUEUE_MODES, QUEUE_ENDPOINT_PATH } from './server.js';
export type { CmsSkillRecord, OpeningHours } from './traffic.js';

export interface CmsSimulatorOptions {
  accessKey?: string;
  secretKey?: string;
  /** 0 (default) picks an ephemeral port; the server always binds 127.0.0.1. */
  port?: number;
  /** The clock (epoch ms) for windows and signature skew; default Date.now. */
  now?: () => number;
  /** Traffic model seed, default 1. */
  seed?: number;
  /** Hours (UTC) in which queues take calls; default around the clock. */
  openingHours?: OpeningHours;
  /** Skills that exist in no VDN: absent from every response. */
  absentSkillIds?: Iterable<number>;
  /** Default 15 minutes. */
  maxClockSkewMs?: number;
  /** The one C2 signature layout this CMS accepts; default `huawei-reference`, Huawei's reference code. */
  signatureLayout?: SignatureLayoutName;
  /**
   * Refused signatures after which the caller's IP is locked: every request then gets HTTP 403 until unlock().
   * Default: never.
   */
  lockAfterRefusals?: number | undefined;
  /** SANs of the server certificate, default ['127.0.0.1', 'localhost']. */
  certificateHosts?: string[];
  /** Default 'both', as CMS 8.14+. */
  responseFields?: ResponseFields;
  /** How the live queue (`totalskillstatusex3`) is answered; default `served`, from the queue model. */
  liveQueue?: LiveQueueMode;
  /**
   * How many request records to keep, oldest dropped first; default unlimited. Long-running simulators set a
   * bound so the log (which holds every request's skill list) cannot grow without end.
   */
  maxRecordedRequests?: number;
  /**
   * How long after each 5-minute boundary a skill's counting begins (default 0): its `startTime` trails the
   * boundary by this much, and until then the skill still reports the window before, as a CMS whose skills each
   * start counting at their own moment does.
   */
  startTimeLagMs?: (skillId: number) => number;
  /** The `Date` header of every answer at the simulator's time `at`; default that time as an IMF-fixdate. */
  dateHeader?: (at: number) => string;
}

export interface CmsSimulator {
  /** e.g. https://127.0.0.1:40123 (no trailing slash, no path). */
  readonly url: string;
  /** PEM of the CA that issued the server certificate (trust this). */
  readonly caCertificate: string;
  /** Every request received, in order. */
  readonly requests: readonly SimRequestRecord[];
  /** Signatures refused so far (HTTP 401 answers, whether or not they reached the client). */
  readonly refusedSignatures: number;
  /** How every later 401 reaches the client (`plain` at first). */
  deliverRefusals(delivery: RefusalDelivery): void;
  /** Lifts an IP lock and forgets the refused signatures, as a CMS administrator would. */
  unlock(): void;
  /** "Rotates" the key pair: from now on only this pair is accepted. */
  setCredentials(accessKey: string, secretKey: string): void;
  /**
   * Faults apply in injection order, one per request, to valid and authenticated requests selected by `when`;
   * `times` defaults to 1 (Infinity for permanent).
   */
  inject(fault: SimFault, options?: FaultOptions): void;
  clearFaults(): void;
  /** The exact statistics object the simulator serves for this skill at time `at` (undefined if the skill is absent). */
  statsAt(ccId: number, vdn: number, skillId: number, at: number): CmsSkillRecord | undefined;
  /** The exact live-queue object the simulator serves for this skill at time `at` (undefined if it is absent). */
  queueAt(ccId: number, vdn: number, skillId: number, at: number): CmsQueueRecord | undefined;
  close(): Promise<void>;
}

const DEFAULT_CREDENTIALS: Credentials = { accessKey: 'sim-access-key', secretKey: 'sim-secret-key' };
const DEFAULT_MAX_CLOCK_SKEW_MS = 15 * 60_000;
const DEFAULT_HOSTS = ['127.0.0.1', 'localhost'];

function checkCredentials(accessKey: string, secretKey: string): Credentials {
  if (accessKey === '' || secretKey === '')
    throw new RangeError('the access key and secret key must not be empty');
  return { accessKey, secretKey };
}

export async function startCmsSimulator(options: CmsSimulatorOptions = {}): Promise<CmsSimulator> {
  const now = options.now ?? Date.now;
  const maxClockSkewMs = options.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS;
  if (!(maxClockSkewMs >= 0)) throw new RangeError('maxClockSkewMs must be ≥ 0');
  const maxRecordedRequests = options.maxRecordedRequests ?? Number.POSITIVE_INFINITY;
  const lockAfterRefusals = options.lockAfterRefusals ?? Number.POSITIVE_INFINITY;
  if (!(lockAfterRefusals >= 1)) throw new RangeError('lockAfterRefusals must be ≥ 1');
  let refusedSignatures = 0;
  let refusalDelivery: RefusalDelivery = { kind: 'plain' };
  if (!(maxRecordedRequests >= 0)) throw new RangeError('maxRecordedRequests must be ≥ 0');
  let credentials = checkCredentials(
    options.accessKey ?? DEFAULT_CREDENTIALS.accessKey,
    options.secretKey ?? DEFAULT_CREDENTIALS.secretKey,
  );
  const model = new TrafficModel({
    seed: options.seed ?? 1,
    ...(options.openingHours ? { openingHours: options.openingHours } : {}),
  });
  const queue = new QueueModel({ seed: model.seed, openingHours: options.openingHours });
  const absent = new Set(options.absentSkillIds ?? []);
  const faults = new FaultQueue();
  const requests: SimRequestRecord[] = [];
  const timers = new Set<NodeJS.Timeout>();

  const present = (query: SkillQuery) =>
    [...new Set(query.skillIds)].filter((skillId) => !absent.has(skillId));
  const lagOf = options.startTimeLagMs ?? (() => 0);
  /** A skill's statistics at `at`: its previous window's last until its counting of the current one begins. */
  const statsOf = (ccId: number, vdn: number, skillId: number, at: number): CmsSkillRecord => {
    const lag = lagOf(skillId);
    if (lag === 0) return model.statsAt(ccId, vdn, skillId, at);
    const boundary = Math.floor(at / WINDOW_MS) * WINDOW_MS;
    const record = model.statsAt(ccId, vdn, skillId, at - boundary < lag ? boundary - 1 : at);
    return { ...record, startTime: record.startTime + lag };
  };
  const context: HandlerContext = {
    now,
    credentials: () => credentials,
    maxClockSkewMs,
    signatureLayout: SIGNATURE_LAYOUTS[options.signatureLayout ?? 'huawei-reference'],
    refuseSignature: () => {
      refusedSignatures += 1;
    },
    refusalDelivery: () => refusalDelivery,
    locked: () => refusedSignatures >= lockAfterRefusals,
    faults,
    responseFields: options.responseFields ?? 'both',
    dateHeader: options.dateHeader ?? ((at) => new Date(at).toUTCString()),
    statsTexts: (query, at) =>
      present(query).map((skillId) =>
        options.startTimeLagMs === undefined
          ? model.timeline(query.ccId, query.vdn, skillId, at).jsonAt(at)
          : JSON.stringify(statsOf(query.ccId, query.vdn, skillId, at)),
      ),
    statsRecords: (query, at) => present(query).map((skillId) => statsOf(query.ccId, query.vdn, skillId, at)),
    queueRecords: (query, at) =>
      present(query).map((skillId) => queue.queueAt(query.ccId, query.vdn, skillId, at)),
    liveQueue: options.liveQueue ?? 'served',
    record: (entry) => {
      requests.push(entry);
      if (requests.length > maxRecordedRequests) requests.shift();
    },
    schedule: (delayMs, task) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        task();
      }, delayMs);
      timers.add(timer);
    },
  };

  const authority = await createCertificateAuthority('cms-skill-metrics simulator CA');
  const { key, cert } = await authority.issueServerCertificate(options.certificateHosts ?? DEFAULT_HOSTS);
  const server = createServer({ key, cert, minVersion: 'TLSv1.2' }, createRequestHandler(context));
  // Every TCP connection, including one whose TLS handshake a client abandoned half-way (a request cancelled
  // as it was being sent): closeAllConnections() only knows those that reached HTTP, and close() waits for all.
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.listen(options.port ?? 0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  return {
    url: `https://127.0.0.1:${port}`,
    caCertificate: authority.certificate,
    get requests() {
      return requests;
    },
    get refusedSignatures() {
      return refusedSignatures;
    },
    deliverRefusals(delivery) {
      refusalDelivery = { ...delivery };
    },
    unlock() {
      refusedSignatures = 0;
    },
    setCredentials(accessKey, secretKey) {
      credentials = checkCredentials(accessKey, secretKey);
    },
    inject(fault, injectOptions) {
      faults.add(fault, injectOptions);
    },
    clearFaults() {
      faults.clear();
    },
    statsAt(ccId, vdn, skillId, at) {
      return absent.has(skillId) ? undefined : statsOf(ccId, vdn, skillId, at);
    },
    queueAt(ccId, vdn, skillId, at) {
      return absent.has(skillId) ? undefined : queue.queueAt(ccId, vdn, skillId, at);
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      const closed = once(server, 'close');
      server.close();
      server.closeAllConnections();
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
