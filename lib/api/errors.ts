import { resultCodeMeaning } from '../cms/result-codes.js';
import {
  AppError,
  CmsError,
  CmsHttpError,
  CmsResultError,
  CmsSigningPausedError,
  CmsTimeoutError,
  ForbiddenError,
  SecretError,
  ValidationError,
} from '../errors.js';
import { cleanText, clip } from '../text.js';

// The one place where an error becomes an HTTP answer. Every handler path funnels its failures here, so the
// status a caller sees for a given failure cannot differ between routes, and nothing but the message of a
// known, credential-free error type ever reaches a response body.

/** No route at this path. */
export class RouteNotFoundError extends AppError {
  readonly code = 'NOT_FOUND';
}

/**
 * A direct invocation whose event is not shaped as API Gateway's (payload format 2.0): not an object, or a field
 * of the wrong type. API Gateway never sends one; whoever invokes the function by hand is told which field.
 */
export class BadEventError extends AppError {
  readonly code = 'BAD_EVENT';
  constructor(
    readonly field: string,
    detail: string,
  ) {
    super(`${field}: ${detail}`);
  }
}

/** The path exists, but not for this method; `allow` feeds the Allow header. */
export class MethodNotAllowedError extends AppError {
  readonly code = 'METHOD_NOT_ALLOWED';
  constructor(
    readonly method: string,
    readonly allow: readonly string[],
  ) {
    super(`method ${clip(method, 20)} is not allowed here (allowed: ${allow.join(', ')})`);
  }
}

interface ErrorBody {
  error: {
    code: string;
    message: string;
    /** API Gateway's id of the request: the service log holds the details of a failure under it. */
    requestId?: string;
    /** The offending input field, for validation errors. */
    field?: string;
    /** CMS's own failure code, when CMS refused the query. */
    cmsResultCode?: string;
  };
}

/** Who is to blame decides the log level: callers' mistakes are routine, the rest needs an operator. */
type Blame = 'caller' | 'upstream' | 'internal';

export interface ErrorAnswer {
  readonly status: number;
  readonly body: ErrorBody;
  readonly headers: Readonly<Record<string, string>>;
  readonly blame: Blame;
}

/** Messages may echo caller input (an unknown parameter name, a malformed skill list): keep answers bounded. */
export const MAX_MESSAGE_LENGTH = 300;

const SEE_LOG = 'the details are in the service log under the request id';

/**
 * What a caller is told about an upstream failure: what failed, in words fixed here. The error's own message
 * names the CMS address, TLS detail or what CMS sent: it is for the log, never for a response body, since no
 * 4xx caller can act on it and it maps the internal network for anyone who can call the API.
 */
const UPSTREAM_MESSAGES: Readonly<Record<string, string>> = {
  CMS_TIMEOUT: 'CC-CMS did not answer in time',
  CMS_NETWORK_ERROR: 'CC-CMS could not be reached',
  CMS_UNAUTHORIZED: 'CC-CMS refused the credentials of this deployment',
  CMS_IP_LOCKED: "CC-CMS has locked this deployment's IP address after refused signatures",
  CMS_PROTOCOL_ERROR: 'CC-CMS answered something other than the documented statistics',
  CMS_CREDENTIALS_UNAVAILABLE: 'the credentials for CC-CMS could not be loaded',
};

function upstreamMessage(code: string, specific?: string): string {
  return `${specific ?? UPSTREAM_MESSAGES[code] ?? `CC-CMS failed (${code})`}; ${SEE_LOG}`;
}

function answer(
  status: number,
  blame: Blame,
  error: ErrorBody['error'],
  requestId: string | undefined,
  headers = {},
): ErrorAnswer {
  return {
    status,
    blame,
    body: {
      error: {
        ...error,
        message: cleanText(error.message, MAX_MESSAGE_LENGTH),
        ...(requestId === undefined ? {} : { requestId: cleanText(requestId, 100) }),
      },
    },
    headers,
  };
}

/** The one mapping from an error to an HTTP answer; `requestId` is quoted back so a caller can report it. */
export function errorAnswer(error: unknown, requestId?: string): ErrorAnswer {
  if (error instanceof ValidationError) {
    const field = cleanText(error.field, 100);
    return answer(400, 'caller', { code: error.code, message: error.message, field }, requestId);
  }
  if (error instanceof BadEventError) {
    const field = cleanText(error.field, 100);
    return answer(400, 'caller', { code: error.code, message: error.message, field }, requestId);
  }
  if (error instanceof ForbiddenError)
    return answer(403, 'caller', { code: error.code, message: error.message }, requestId);
  if (error instanceof RouteNotFoundError)
    return answer(404, 'caller', { code: error.code, message: error.message }, requestId);
  if (error instanceof MethodNotAllowedError) {
    const body = { code: error.code, message: error.message };
    return answer(405, 'caller', body, requestId, { Allow: error.allow.join(', ') });
  }
  if (error instanceof CmsTimeoutError)
    return answer(504, 'upstream', { code: error.code, message: upstreamMessage(error.code) }, requestId);
  if (error instanceof CmsResultError) {
    const cmsResultCode = cleanText(error.resultCode, 20);
    const message = upstreamMessage(
      error.code,
      `CC-CMS refused the query with result code ${cmsResultCode} (${resultCodeMeaning(error.resultCode)})`,
    );
    return answer(502, 'upstream', { code: error.code, message, cmsResultCode }, requestId);
  }
  if (error instanceof CmsSigningPausedError) {
    // When signing resumes is what a caller can act on; why it paused is for the operator's log.
    const resumes = new Date(error.resumesAt);
    const message = upstreamMessage(
      error.code,
      `CC-CMS refused or left unanswered too many signed requests; requests resume at ${resumes.toISOString()}`,
    );
    const headers = { 'Retry-After': resumes.toUTCString() };
    return answer(502, 'upstream', { code: error.code, message }, requestId, headers);
  }
  if (error instanceof CmsHttpError) {
    const message = upstreamMessage(error.code, `CC-CMS answered HTTP ${error.status}`);
    return answer(502, 'upstream', { code: error.code, message }, requestId);
  }
  if (error instanceof CmsError)
    return answer(502, 'upstream', { code: error.code, message: upstreamMessage(error.code) }, requestId);
  if (error instanceof SecretError) {
    const code = 'CMS_CREDENTIALS_UNAVAILABLE';
    return answer(502, 'upstream', { code, message: upstreamMessage(code) }, requestId);
  }
  return answer(
    500,
    'internal',
    {
      code: 'INTERNAL_ERROR',
      message: `the request could not be answered because of an internal error; ${SEE_LOG}`,
    },
    requestId,
  );
}
