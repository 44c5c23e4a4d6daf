import { Agent } from 'node:https';
import { createSecureContext } from 'node:tls';
import { CmsError, CmsProtocolError } from '../errors.js';
import { newestWindow } from '../kpi.js';
import { cmsClock, dateHeaderProblem, imfFixdate } from './clock.js';
import type { CmsCredentials } from './credentials.js';
import { LIVE_QUEUE_PATH, parseLiveQueueResponse } from './live-queue.js';
import { describeChain, handshake, reach } from './probe-network.js';
import { type CallStatsQuery, callStatsUrl, interfaceUrl } from './request.js';
import { parseCallStatsResponse } from './response.js';
import { CmsResultError, PERMISSION_RESULT_CODE, WRONG_CTI_VERSION_RESULT_CODE } from './result-codes.js';
import { SIGNATURE_LAYOUT_NAMES, SIGNATURE_LAYOUTS, type SignatureLayoutName, signRequest } from './sign.js';
import { httpsPost, trustedCertificates } from './transport.js';

// The operator's first check of a real CMS, step by step: TCP, TLS (chain, host name, which CA), then one signed
// request per signature layout until CMS accepts one (never more than the client itself may be refused), and a
// verdict that says what to fix or which CMS_SIGNATURE to set. Once a layout is accepted, one more request says
// whether CMS offers the live queue: a CMS without it still serves the product, so it never changes the verdict.

export type ProbeOutcome =
  | 'accepted'
  | 'unreachable'
  | 'tlsRefused'
  | 'everyLayoutRefused'
  | 'ipLocked'
  | 'wrongCtiVersion'
  | 'permissionDenied'
  | 'queryRefused'
  | 'unexpectedAnswer';

/** The process exit code of each outcome (2 is kept for bad flags or configuration). */
export const PROBE_EXIT_CODES: Readonly<Record<ProbeOutcome, number>> = {
  accepted: 0,
  unreachable: 3,
  tlsRefused: 4,
  everyLayoutRefused: 5,
  ipLocked: 6,
  wrongCtiVersion: 7,
  permissionDenied: 8,
  queryRefused: 9,
  unexpectedAnswer: 9,
};

interface ProbeFinding {
  readonly step: 'tcp' | 'tls' | 'signature' | 'clock' | 'query' | 'queue';
  readonly ok: boolean;
  readonly detail: string;
}

export interface ProbeReport {
  readonly outcome: ProbeOutcome;
  readonly findings: readonly ProbeFinding[];
  /** The layout CMS accepted, when one was. */
  readonly signatureLayout: SignatureLayoutName | undefined;
  /** Local clock minus CMS's (from its Date header, so ±1 s), when CMS answered at all. */
  readonly clockOffsetMs: number | undefined;
  readonly signaturesRefused: number;
  /** Whether CMS answered the live queue (`totalskillstatusex3`); undefined when no signature was accepted. */
  readonly liveQueue: 'available' | 'unavailable' | undefined;
  /** The verdict in one line: the setting to use, or what to fix. */
  readonly conclusion: string;
}

export interface ProbeOptions {
  readonly baseUrl: string;
  /** PEM bundle from CMS_CA_FILE, trusted in addition to the public roots. */
  readonly caCertificate: string | undefined;
  readonly credentials: CmsCredentials;
  readonly query: CallStatsQuery;
  /** Limit of each step. */
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
  readonly now?: () => number;
}

export async function probeCms(options: ProbeOptions): Promise<ProbeReport> {
  const url = callStatsUrl(options.baseUrl);
  const now = options.now ?? Date.now;
  const findings: ProbeFinding[] = [];
  const note = (step: ProbeFinding['step'], ok: boolean, detail: string): void => {
    findings.push({ step, ok, detail });
  };
  const stop = (
    outcome: ProbeOutcome,
    conclusion: string,
    extra: Partial<
      Pick<ProbeReport, 'signatureLayout' | 'clockOffsetMs' | 'signaturesRefused' | 'liveQueue'>
    > = {},
  ): ProbeReport => ({
    outcome,
    findings,
    signatureLayout: undefined,
    clockOffsetMs: undefined,
    signaturesRefused: 0,
    liveQueue: undefined,
    conclusion,
    ...extra,
  });

  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || 443);
  const tcp = await reach(host, port, options.timeoutMs);
  if (tcp.error !== undefined) {
    note('tcp', false, `cannot connect to ${url.host}: ${tcp.error}`);
    return stop(
      'unreachable',
      `CMS is unreachable at ${url.host}: check CMS_BASE_URL, routing and firewalls`,
    );
  }
  note('tcp', true, `connected to ${url.host} in ${tcp.ms} ms`);

  const ca = trustedCertificates([options.caCertificate]);
  const tls = await handshake(host, port, ca, options.timeoutMs);
  if ('error' in tls) {
    note('tls', false, tls.error);
    return stop('tlsRefused', `TLS to ${url.host} was refused: ${tls.error}`);
  }
  for (const detail of describeChain(tls, host, options.caCertificate)) note('tls', true, detail);

  const agent = new Agent({
    keepAlive: false,
    ...(ca === undefined ? {} : { secureContext: createSecureContext({ ca }) }),
  });
  try {
    let refused = 0;
    let clockOffsetMs: number | undefined;
    let dateHeader: string | undefined;
    const body = JSON.stringify(options.query);
    for (const layoutName of SIGNATURE_LAYOUT_NAMES) {
      let answer: Awaited<ReturnType<typeof httpsPost>>;
      try {
        answer = await httpsPost({
          url,
          headers: signRequest({
            ...options.credentials,
            url,
            body,
            at: new Date(now()),
            layout: SIGNATURE_LAYOUTS[layoutName],
          }),
          body,
          agent,
          timeoutMs: options.timeoutMs,
          signal: AbortSignal.timeout(options.timeoutMs * 2),
          maxResponseBytes: options.maxResponseBytes,
        });
      } catch (error) {
        const detail = error instanceof CmsError ? error.message : String(error);
        note('signature', false, `${layoutName}: no answer: ${detail}`);
        return stop('unexpectedAnswer', `CMS did not answer the signed request: ${detail}`, {
          signaturesRefused: refused,
        });
      }
      dateHeader = answer.date;
      clockOffsetMs = clockOffset(answer.date, now()) ?? clockOffsetMs;
      if (answer.status === 401) {
        refused += 1;
        note('signature', false, `${layoutName}: refused (HTTP 401)`);
        continue;
      }
      if (answer.status === 403) {
        note('signature', false, `${layoutName}: HTTP 403, CMS has locked this IP address`);
        return stop(
          'ipLocked',
          'CMS has locked this IP address after repeated signature failures: wait for the lock to expire or ask ' +
            'the CMS administrator to lift it, and send nothing meanwhile',
          { signaturesRefused: refused, clockOffsetMs },
        );
      }
      if (answer.status !== 200) {
        note('signature', false, `${layoutName}: unexpected HTTP ${answer.status}`);
        return stop(
          'unexpectedAnswer',
          `CMS answered HTTP ${answer.status}: check CMS_BASE_URL (path, port)`,
          {
            signaturesRefused: refused,
            clockOffsetMs,
          },
        );
      }
      note('signature', true, `${layoutName}: accepted`);
      noteClock(note, clockOffsetMs, dateHeader);
      const setting = `CMS_SIGNATURE=${layoutName}`;
      const verdict = queryVerdict(answer, options.query, now(), note);
      const liveQueue = await probeLiveQueue(options, {
        agent,
        layout: SIGNATURE_LAYOUTS[layoutName],
        at: new Date(now()),
        note,
      });
      return stop(
        verdict.outcome,
        verdict.outcome === 'accepted'
          ? setting
          : `${verdict.conclusion}; the signature itself works: ${setting}`,
        {
          signatureLayout: layoutName,
          signaturesRefused: refused + (liveQueue.refused ? 1 : 0),
          clockOffsetMs,
          liveQueue: liveQueue.available ? 'available' : 'unavailable',
        },
      );
    }
    noteClock(note, clockOffsetMs, dateHeader);
    const cause =
      clockOffsetMs === undefined
        ? `the access key or secret key is wrong, or the clock is off (${dateHeaderProblem(dateHeader)}: the clocks cannot be compared)`
        : clockWithinTolerance(clockOffsetMs)
          ? `the access key or secret key is wrong (this machine is ${formatOffset(clockOffsetMs)} CMS)`
          : `this machine is ${formatOffset(clockOffsetMs)} CMS: set its clock right (NTP), else the key pair is wrong`;
    return stop('everyLayoutRefused', `CMS refused every signature layout: ${cause}`, {
      signaturesRefused: refused,
      clockOffsetMs,
    });
  } finally {
    agent.destroy();
  }
}

function queryVerdict(
  answer: { readonly body: string; readonly date: string | undefined },
  query: CallStatsQuery,
  localAt: number,
  note: (step: ProbeFinding['step'], ok: boolean, detail: string) => void,
): { readonly outcome: ProbeOutcome; readonly conclusion: string } {
  const stop = (outcome: ProbeOutcome, conclusion: string) => ({ outcome, conclusion });
  try {
    const records = parseCallStatsResponse(answer.body).filter((record) =>
      query.skillIds.includes(record.skillId),
    );
    note(
      'query',
      true,
      `CMS answered ${records.length} of ${query.skillIds.length} skills of VDN ${query.vdn} (call center ${query.ccId})`,
    );
    // A Date header that is an IMF-fixdate may still come from a front end's clock: the window tells.
    const clock = cmsClock([{ date: answer.date, localAt }], newestWindow(records));
    if (clock !== undefined && 'problem' in clock && imfFixdate(answer.date) !== undefined) {
      note('clock', false, `${clock.problem}: closing reads will be skipped`);
    }
    return stop('accepted', '');
  } catch (error) {
    if (error instanceof CmsResultError) {
      note('query', false, error.message);
      if (error.resultCode === WRONG_CTI_VERSION_RESULT_CODE) {
        return stop('wrongCtiVersion', 'this CMS runs a CTI version without this interface (needs V300R008)');
      }
      if (error.resultCode === PERMISSION_RESULT_CODE) {
        return stop(
          'permissionDenied',
          `this key pair may not read VDN ${query.vdn} of call center ${query.ccId}`,
        );
      }
      return stop('queryRefused', `CMS refused the query (result code ${error.resultCode})`);
    }
    const detail = error instanceof CmsProtocolError ? error.message : String(error);
    note('query', false, detail);
    return stop('unexpectedAnswer', 'CMS answered something other than the documented statistics');
  }
}

/**
 * One signed request for the live queue of the probed skills, in the layout CMS accepted: a `queue` finding that
 * says whether CMS offers it, and why not when it does not.
 */
async function probeLiveQueue(
  options: ProbeOptions,
  signing: {
    readonly agent: Agent;
    readonly layout: (typeof SIGNATURE_LAYOUTS)[SignatureLayoutName];
    readonly at: Date;
    readonly note: (step: ProbeFinding['step'], ok: boolean, detail: string) => void;
  },
): Promise<{ readonly available: boolean; readonly refused: boolean }> {
  const url = interfaceUrl(options.baseUrl, LIVE_QUEUE_PATH);
  const body = JSON.stringify(options.query);
  const without = (detail: string) => {
    signing.note('queue', false, `live queue not available: ${detail}; the counters work without it`);
    return { available: false, refused: false };
  };
  let answer: Awaited<ReturnType<typeof httpsPost>>;
  try {
    answer = await httpsPost({
      url,
      headers: signRequest({ ...options.credentials, url, body, at: signing.at, layout: signing.layout }),
      body,
      agent: signing.agent,
      timeoutMs: options.timeoutMs,
      signal: AbortSignal.timeout(options.timeoutMs * 2),
      maxResponseBytes: options.maxResponseBytes,
    });
  } catch (error) {
    return without(`no answer: ${error instanceof CmsError ? error.message : String(error)}`);
  }
  if (answer.status === 401) {
    return { ...without('CMS refused the signature for it (HTTP 401)'), refused: true };
  }
  if (answer.status !== 200) return without(`CMS answered HTTP ${answer.status} for ${LIVE_QUEUE_PATH}`);
  try {
    const records = parseLiveQueueResponse(answer.body);
    const returned = records.filter((record) => options.query.skillIds.includes(record.skillId)).length;
    signing.note(
      'queue',
      true,
      `live queue available: CMS answered it for ${returned} of ${options.query.skillIds.length} skills`,
    );
    return { available: true, refused: false };
  } catch (error) {
    return without(error instanceof CmsError ? error.message : String(error));
  }
}

/**
 * No source documents the skew CMS tolerates; a minute is where a signature's timestamp becomes a plausible
 * cause of a refusal rather than noise.
 */
const CLOCK_TOLERANCE_MS = 60_000;

function clockWithinTolerance(offsetMs: number): boolean {
  return Math.abs(offsetMs) <= CLOCK_TOLERANCE_MS;
}

function noteClock(
  note: (step: ProbeFinding['step'], ok: boolean, detail: string) => void,
  offsetMs: number | undefined,
  dateHeader: string | undefined,
): void {
  if (offsetMs === undefined) {
    note(
      'clock',
      false,
      `${dateHeaderProblem(dateHeader)}: CMS's clock cannot be compared, and the collector skips closing reads`,
    );
  } else {
    note(
      'clock',
      clockWithinTolerance(offsetMs),
      `this machine is ${formatOffset(offsetMs)} CMS (its Date header, to the second)`,
    );
  }
}

/** Local time minus CMS's by its Date header, or undefined when there is no usable one. */
function clockOffset(date: string | undefined, localMs: number): number | undefined {
  const cmsMs = imfFixdate(date);
  return cmsMs === undefined ? undefined : localMs - cmsMs;
}

function formatOffset(offsetMs: number): string {
  const seconds = Math.abs(offsetMs) / 1_000;
  if (seconds < 1) return 'within a second of';
  return `${seconds.toFixed(1)} s ${offsetMs > 0 ? 'ahead of' : 'behind'}`;
}
