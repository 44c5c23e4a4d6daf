import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  INVALID_PARAMETER_RESULT_CODE,
  PERMISSION_RESULT_CODE,
  SUCCESS_RESULT_CODE,
  WRONG_CTI_VERSION_RESULT_CODE,
} from '../../lib/cms/result-codes.js';
import { CONTENT_TYPE, type SignatureLayout } from '../../lib/cms/sign.js';
import { type Credentials, claimedAccessKey, verifySignature } from './auth.js';
import type { FaultQueue, RefusalDelivery, SimEndpoint, SimFault } from './faults.js';
import type { CmsQueueRecord } from './queue.js';
import {
  changedFirstBody,
  errorBody,
  failureBody,
  ipLockedBody,
  MALFORMED_BODY,
  padBody,
  type ResponseFields,
  startTimeBody,
  successBody,
  truncate,
  wrongTypesBody,
} from './responses.js';
import type { CmsSkillRecord } from './traffic.js';
import { bestEffortQuery, type SkillQuery, validateQuery } from './validate.js';

/** The HTTP behaviour of the simulated CMS endpoints: routing, body limits, authentication, faults, answers. */

export const ENDPOINT_PATH = '/rest/cmsapp/v1/openapi/skill/currentcallstateinfo';
export const QUEUE_ENDPOINT_PATH = '/rest/cmsapp/v1/openapi/skill/totalskillstatusex3';
const ENDPOINTS: Readonly<Record<string, SimEndpoint>> = {
  [ENDPOINT_PATH]: 'currentcallstateinfo',
  [QUEUE_ENDPOINT_PATH]: 'totalskillstatusex3',
};
const MAX_BODY_BYTES = 1024 * 1024;

/**
 * How this CMS answers the live queue (`totalskillstatusex3`): from its queue model, or as a CMS without it:
 * CTI 3.6 (`0100003`), a key without the right (`0101003`), or a CMS that does not know the path (HTTP 404).
 */
export const LIVE_QUEUE_MODES = ['served', 'wrongCtiVersion', 'noPermission', 'notFound'] as const;
export type LiveQueueMode = (typeof LIVE_QUEUE_MODES)[number];

export interface SimRequestRecord {
  readonly at: number;
  /** The interface asked; undefined for a path the simulator does not serve. */
  readonly endpoint: SimEndpoint | undefined;
  readonly accessKey: string | undefined;
  readonly ccId: number | undefined;
  readonly vdn: number | undefined;
  readonly skillIds: readonly number[];
  /** HTTP status sent; 0 when the connection was dropped before any response. */
  readonly status: number;
  readonly resultCode: string | undefined;
  readonly fault: SimFault['kind'] | undefined;
}

export interface HandlerContext {
  now(): number;
  credentials(): Credentials;
  readonly maxClockSkewMs: number;
  /** The one signature layout this CMS accepts. */
  readonly signatureLayout: SignatureLayout;
  /** Counts a refused signature towards the IP lock. */
  refuseSignature(): void;
  /** How a 401 reaches the client. */
  readonly refusalDelivery: () => RefusalDelivery;
  /** Whether the caller is locked out: HTTP 403 to everything. */
  locked(): boolean;
  readonly faults: FaultQueue;
  readonly responseFields: ResponseFields;
  /** The `Date` header of an answer at `at`. */
  dateHeader(at: number): string;
  /** Serialized statistics of the query's skills at `at`: requested order, duplicates and absent skills dropped. */
  statsTexts(query: SkillQuery, at: number): string[];
  /** The same statistics as objects. */
  statsRecords(query: SkillQuery, at: number): CmsSkillRecord[];
  /** The live queue of the query's skills at `at`, in the same order. */
  queueRecords(query: SkillQuery, at: number): CmsQueueRecord[];
  readonly liveQueue: LiveQueueMode;
  record(entry: SimRequestRecord): void;
  /** A timer that the simulator cancels when it closes. */
  schedule(delayMs: number, task: () => void): void;
}

function send(
  response: ServerResponse,
  status: number,
  body: string,
  extraHeaders: Record<string, string> = {},
): void {
  response.writeHead(status, {
    'Content-Type': CONTENT_TYPE,
    'Content-Length': String(Buffer.byteLength(body, 'utf8')),
    ...extraHeaders,
  });
  response.end(body);
}

/**
 * Bodies over the cap are still read to their end (up to this bound) and thrown away: answering 413 while the
 * client is still sending makes the kernel reset the connection, and the client would then see a reset
 * instead of the 413.
 */
const MAX_DRAINED_BYTES = 16 * MAX_BODY_BYTES;

type BodyResult =
  | { readonly kind: 'body'; readonly body: string }
  /** `drained`: the whole body was read, so the connection can serve the next request. */
  | { readonly kind: 'tooLarge'; readonly drained: boolean }
  | { readonly kind: 'aborted' };

function readBody(request: IncomingMessage): Promise<BodyResult> {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > MAX_DRAINED_BYTES) return Promise.resolve({ kind: 'tooLarge', drained: false });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_DRAINED_BYTES) {
        request.off('data', onData);
        resolve({ kind: 'tooLarge', drained: false });
      } else if (size <= MAX_BODY_BYTES) {
        chunks.push(chunk);
      }
    };
    request.on('data', onData);
    request.once('end', () =>
      resolve(
        size > MAX_BODY_BYTES
          ? { kind: 'tooLarge', drained: true }
          : { kind: 'body', body: Buffer.concat(chunks).toString('utf8') },
      ),
    );
    request.once('error', () => resolve({ kind: 'aborted' }));
  });
}

interface Answer {
  readonly status: number;
  readonly resultCode: string | undefined;
  readonly send: (response: ServerResponse) => void;
}

/** The items of one endpoint's success: what its faults distort. */
function itemsOf(context: HandlerContext, endpoint: SimEndpoint, query: SkillQuery, at: number) {
  const fields = context.responseFields;
  if (endpoint === 'totalskillstatusex3') {
    const records = context.queueRecords(query, at);
    return {
      plain: () =>
        successBody(
          records.map((record) => JSON.stringify(record)),
          fields,
        ),
      wrongTypes: () => wrongTypesBody(records, fields, ['queueSize', 'queueTime']),
      startTime: () => '',
      skillDescrip: (skillDescrip: string) => changedFirstBody(records, fields, { skillDescrip }),
    };
  }
  return {
    plain: () => successBody(context.statsTexts(query, at), fields),
    wrongTypes: () =>
      wrongTypesBody(context.statsRecords(query, at), fields, ['allCallCount', 'cnnedCallCount']),
    startTime: (value: number, skillId?: number) =>
      startTimeBody(context.statsRecords(query, at), fields, value, skillId),
    skillDescrip: () => '',
  };
}

/** The success answer with a fault's distortion applied, or the plain success without one. */
function successAnswer(
  context: HandlerContext,
  endpoint: SimEndpoint,
  query: SkillQuery,
  at: number,
  fault: SimFault | undefined,
): Answer {
  const items = itemsOf(context, endpoint, query, at);
  const plain = items.plain;
  const ok = (body: string): Answer => ({
    status: 200,
    resultCode: SUCCESS_RESULT_CODE,
    send: (response) => send(response, 200, body),
  });
  switch (fault?.kind) {
    case undefined:
      return ok(plain());
    case 'latency': {
      const body = plain();
      return {
        status: 200,
        resultCode: SUCCESS_RESULT_CODE,
        send: (response) => context.schedule(fault.ms, () => send(response, 200, body)),
      };
    }
    case 'status':
      return {
        status: fault.status,
        resultCode: undefined,
        send: (response) => send(response, fault.status, errorBody(`simulated HTTP ${fault.status}`)),
      };
    case 'unauthorized':
      // CMS takes its own spurious refusal for a wrong signature, and counts it.
      context.refuseSignature();
      return unauthorized(context);
    case 'malformedJson':
      return {
        status: 200,
        resultCode: undefined,
        send: (response) => send(response, 200, MALFORMED_BODY),
      };
    case 'truncatedJson': {
      const body = truncate(plain());
      return { status: 200, resultCode: undefined, send: (response) => send(response, 200, body) };
    }
    case 'resultCode': {
      const body = failureBody(fault.code, fault.desc ?? `simulated failure ${fault.code}`);
      return { status: 200, resultCode: fault.code, send: (response) => send(response, 200, body) };
    }
    case 'dropConnection':
      return { status: 0, resultCode: undefined, send: (response) => response.socket?.destroy() };
    case 'resetMidResponse': {
      const body = Buffer.from(plain(), 'utf8');
      return {
        status: 200,
        resultCode: undefined,
        send: (response) => {
          response.writeHead(200, { 'Content-Type': CONTENT_TYPE, 'Content-Length': String(body.length) });
          // Destroy only once the partial body has left, so the client sees headers, then a cut.
          response.write(body.subarray(0, Math.max(1, Math.floor(body.length / 2))), () =>
            response.socket?.destroy(),
          );
        },
      };
    }
    case 'wrongTypes':
      return ok(items.wrongTypes());
    case 'hugeResponse':
      return ok(padBody(plain(), fault.bytes));
    case 'startTime':
      return ok(items.startTime(fault.value, fault.skillId));
    case 'skillDescrip':
      return ok(items.skillDescrip(fault.value));
  }
}

/** A CMS without the live queue: its result code, once the signature and the body have passed. */
const MISSING_QUEUE_CODES: Partial<Record<LiveQueueMode, string>> = {
  wrongCtiVersion: WRONG_CTI_VERSION_RESULT_CODE,
  noPermission: PERMISSION_RESULT_CODE,
};

function resultCodeAnswer(code: string, text: string): Answer {
  const body = failureBody(code, text);
  return { status: 200, resultCode: code, send: (response) => send(response, 200, body) };
}

function unauthorized(context: HandlerContext): Answer {
  const delivery = context.refusalDelivery();
  const body = errorBody('authentication failed');
  const deliver = (response: ServerResponse): void => {
    switch (delivery.kind) {
      case 'plain':
        send(response, 401, body);
        return;
      case 'late':
        // The client may have given up meanwhile.
        context.schedule(delivery.ms, () => {
          if (!response.destroyed) send(response, 401, body);
        });
        return;
      case 'cut':
        response.writeHead(401, { 'Content-Type': CONTENT_TYPE, 'Content-Length': String(2 * body.length) });
        response.write(body, () => response.socket?.destroy());
        return;
      case 'reset':
        response.socket?.destroy();
        return;
      case 'huge':
        send(response, 401, padBody(body, delivery.bytes));
        return;
    }
  };
  return { status: 401, resultCode: undefined, send: deliver };
}

/** What CMS answers once it has locked the caller's IP after too many refused signatures. */
function ipLocked(): Answer {
  return { status: 403, resultCode: undefined, send: (response) => send(response, 403, ipLockedBody()) };
}

export function createRequestHandler(
  context: HandlerContext,
): (request: IncomingMessage, response: ServerResponse) => void {
  return (request, response) => {
    handle(context, request, response).catch(() => {
      // A bug in the simulator must still produce an answer, or the client would wait for its timeout.
      if (!response.headersSent) send(response, 500, errorBody('internal simulator error'));
      else response.destroy();
    });
  };
}

async function handle(context: HandlerContext, request: IncomingMessage, response: ServerResponse) {
  // The simulator's clock, not the machine's: clients read CMS's clock from this header.
  response.setHeader('Date', context.dateHeader(context.now()));
  const target = request.url ?? '/';
  const path = target.split('?', 1)[0];
  const accessKey = claimedAccessKey(request.headers);
  const endpoint = path === undefined ? undefined : ENDPOINTS[path];
  const logShallow = (status: number) =>
    context.record({
      at: context.now(),
      endpoint,
      accessKey,
      ccId: undefined,
      vdn: undefined,
      skillIds: [],
      status,
      resultCode: undefined,
      fault: undefined,
    });

  if (endpoint === undefined || (endpoint === 'totalskillstatusex3' && context.liveQueue === 'notFound')) {
    logShallow(404);
    send(response, 404, errorBody('not found'));
    return;
  }
  if (request.method !== 'POST') {
    logShallow(405);
    send(response, 405, errorBody('only POST is supported'), { Allow: 'POST' });
    return;
  }
  const read = await readBody(request);
  // An aborted upload leaves nothing to answer: the client is gone.
  if (read.kind === 'aborted') return;
  if (read.kind === 'tooLarge') {
    logShallow(413);
    // An undrained body would be taken for the next request: that connection cannot be reused.
    const connection: Record<string, string> = read.drained ? {} : { Connection: 'close' };
    send(response, 413, errorBody(`request body exceeds ${MAX_BODY_BYTES} bytes`), connection);
    return;
  }

  const at = context.now();
  /** Records the request with its outcome, then answers it. */
  const finish = (answer: Answer, fault: SimFault | undefined, query: SkillQuery | undefined) => {
    const fields = query ?? bestEffortQuery(read.body);
    context.record({
      at,
      endpoint,
      accessKey,
      ccId: fields.ccId,
      vdn: fields.vdn,
      skillIds: fields.skillIds,
      status: answer.status,
      resultCode: answer.resultCode,
      fault: fault?.kind,
    });
    answer.send(response);
  };

  if (context.locked()) {
    finish(ipLocked(), undefined, undefined);
    return;
  }
  const auth = verifySignature(
    { method: request.method, target, headers: request.headers, body: read.body },
    context.credentials(),
    at,
    context.maxClockSkewMs,
    context.signatureLayout,
  );
  if (!auth.ok) {
    context.refuseSignature();
    finish(unauthorized(context), undefined, undefined);
    return;
  }
  const validation = validateQuery(read.body);
  if (!validation.ok) {
    finish(resultCodeAnswer(INVALID_PARAMETER_RESULT_CODE, validation.message), undefined, undefined);
    return;
  }
  const missingQueue =
    endpoint === 'totalskillstatusex3' ? MISSING_QUEUE_CODES[context.liveQueue] : undefined;
  if (missingQueue !== undefined) {
    finish(
      resultCodeAnswer(missingQueue, `simulated CMS without the live queue (${missingQueue})`),
      undefined,
      validation.query,
    );
    return;
  }
  const fault = context.faults.take(validation.query, endpoint);
  finish(successAnswer(context, endpoint, validation.query, at, fault), fault, validation.query);
}
