import { CmsAuthError, CmsHttpError, CmsIpLockedError } from '../errors.js';
import type { SkillStats } from '../model.js';
import type { CallCredentials, RefreshOutcome } from './call-credentials.js';
import { type CmsClockReading, clockReading } from './clock.js';
import { Limiter } from './concurrency.js';
import { type CallStatsQuery, interfaceUrl } from './request.js';
import { signRequest } from './sign.js';
import type { SignatureNegotiation, SignatureVerdict } from './signature-negotiation.js';
import { AgentPool, httpsPost } from './transport.js';

/**
 * One interface of the `skill` family (`currentcallstateinfo`, `totalskillstatusex3`): same body, signature and
 * envelope, its own path and items. Every interface is sent through the same attempt, so signing, the
 * refused-signature bound, deadlines, TLS and the size cap hold for all of them.
 */
export interface CmsInterface<R = SkillStats> {
  /** The API path under CMS_BASE_URL. */
  readonly path: string;
  /** The strict parser of a 200 answer: the items, or a CmsResultError / CmsProtocolError. */
  readonly parse: (body: string) => readonly R[];
  /** Whether the product can do without the answer: its requests never take the last refused signature left. */
  readonly optional: boolean;
}

/** What one batch got from CMS. */
export interface BatchAnswer<R = SkillStats> {
  readonly records: readonly R[];
  readonly clock: CmsClockReading;
}

/** What the requests of one call share. */
export interface CallRequests {
  /** The call's stop (lib/cms/call-stop.ts): its reason becomes the attempt's error. */
  readonly signal: AbortSignal;
  readonly credentials: CallCredentials;
  /** Counts a request sent. */
  sent(): void;
}

/** HTTP 401 itself, before the retry policy decides what to try next and which error to report. */
export class SignatureRefused extends CmsAuthError {
  constructor(readonly refresh: RefreshOutcome | 'notTried') {
    super();
  }
}

/** How the client reaches CMS: address, trust, time limit, parallel requests and response size cap. */
export interface ConnectionSettings {
  readonly baseUrl: string;
  /** PEM bundle from CMS_CA_FILE, trusted in addition to the default roots. */
  readonly caCertificate: string | undefined;
  readonly requestTimeoutMs: number;
  readonly maxConcurrency: number;
  /** Largest CMS response body read; sized so that maxConcurrency of them fit the function's memory. */
  readonly maxResponseBytes: number;
}

/**
 * Sends a client's signed requests, each within the client's limit of requests in flight and a signing turn of
 * the signature negotiation, over the client's keep-alive connections.
 */
export class AttemptSender {
  readonly #baseUrl: string;
  readonly #urls = new Map<string, URL>();
  readonly #caCertificate: string | undefined;
  readonly #requestTimeoutMs: number;
  readonly #maxResponseBytes: number;
  readonly #now: () => number;
  readonly #limiter: Limiter;
  readonly #agents: AgentPool;
  readonly #negotiation: SignatureNegotiation;

  constructor(settings: ConnectionSettings, negotiation: SignatureNegotiation, now: () => number) {
    this.#baseUrl = settings.baseUrl;
    this.#caCertificate = settings.caCertificate;
    this.#requestTimeoutMs = settings.requestTimeoutMs;
    this.#maxResponseBytes = settings.maxResponseBytes;
    this.#now = now;
    this.#limiter = new Limiter(settings.maxConcurrency);
    this.#agents = new AgentPool(settings.maxConcurrency);
    this.#negotiation = negotiation;
  }

  /**
   * One attempt at `skillIds` of `cmsInterface`: the records CMS answered, or a CmsError (SignatureRefused for a
   * 401). `mayRefresh`: whether a 401 may re-read the key pair (once per batch).
   */
  send<R>(
    call: CallRequests,
    cmsInterface: CmsInterface<R>,
    query: CallStatsQuery,
    skillIds: readonly number[],
    mayRefresh: boolean,
  ): Promise<BatchAnswer<R>> {
    const url = this.#urlOf(cmsInterface.path);
    return this.#limiter.run(async () => {
      const turn = await this.#negotiation.turn(call.signal, cmsInterface.optional);
      // Read only now: a batch that waited for its turn signs with a key pair refreshed meanwhile.
      const credentials = call.credentials.current;
      let verdict: SignatureVerdict = 'notRefused';
      try {
        // Signed afresh for every attempt: the server refuses stale timestamps.
        const body = JSON.stringify({ ccId: query.ccId, vdn: query.vdn, skillIds });
        const headers = signRequest({
          accessKey: credentials.accessKey,
          secretKey: credentials.secretKey,
          url,
          body,
          at: new Date(this.#now()),
          layout: turn.layout,
        });
        call.sent();
        const answer = await httpsPost({
          url,
          headers,
          body,
          agent: this.#agents.agentFor([this.#caCertificate, credentials.caCertificate]),
          timeoutMs: this.#requestTimeoutMs,
          signal: call.signal,
          maxResponseBytes: this.#maxResponseBytes,
          onSent: () => {
            verdict = 'unknown';
          },
          // HTTP 200 means the signature passed, whatever the body then holds; other statuses than 401 (a
          // proxy's 5xx, the lock's 403) are no refusal, though they vouch for no signature either.
          onStatus: (status) => {
            verdict = status === 200 ? 'accepted' : status === 401 ? 'refused' : 'notRefused';
          },
        });
        if (answer.status === 401) {
          // Re-read while this request still holds its turn, so that the next request signs with what was found.
          const refresh = mayRefresh ? await call.credentials.refreshedAfter401(credentials) : 'notTried';
          if (refresh === 'rotated') verdict = 'refusedKeyPair';
          throw new SignatureRefused(refresh);
        }
        if (answer.status === 403) throw new CmsIpLockedError();
        if (answer.status !== 200) throw new CmsHttpError(answer.status);
        return {
          records: cmsInterface.parse(answer.body),
          clock: clockReading(answer.date, this.#now()),
        };
      } finally {
        turn.settle(verdict, credentials);
      }
    }, call.signal);
  }

  #urlOf(path: string): URL {
    let url = this.#urls.get(path);
    if (url === undefined) {
      url = interfaceUrl(this.#baseUrl, path);
      this.#urls.set(path, url);
    }
    return url;
  }

  /** Destroys the keep-alive agents; later attempts open new connections. */
  close(): void {
    this.#agents.close();
  }
}
