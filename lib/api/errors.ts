import {
  AppError,
  CmsError,
  CmsResultError,
  CmsTimeoutError,
  ForbiddenError,
  SecretError,
  ValidationError,
} from '../errors.js';
import { clip } from '../text.js';

/**
 * The one place where an error becomes an HTTP answer. Every handler path funnels its failures here, so the
 * status a caller sees for a given failure cannot differ between routes, and nothing but the message of a
 * known, credential-free error type ever reaches a response body.
 */

/** No route at this path. */
export class RouteNotFoundError extends AppError {
  readonly code = 'NOT_FOUND';
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

export interface ErrorBody {
  error: {
    code: string;
    message: string;
    /** The offending input field, for validation errors. */
    field?: string;
    /** CMS's own failure code, when CMS refused the query. */
    cmsResultCode?: string;
  };
}

/** Who is to blame decides the log level: callers' mistakes are routine, the rest needs an operator. */
export type Blame = 'caller' | 'upstream' | 'internal';

export interface ErrorAnswer {
  readonly status: number;
  readonly body: ErrorBody;
  readonly headers: Readonly<Record<string, string>>;
  readonly blame: Blame;
}

/** Messages may echo caller input (an unknown parameter name, a malformed skill list): keep answers bounded. */
export const MAX_MESSAGE_LENGTH = 300;

function answer(status: number, blame: Blame, error: ErrorBody['error'], headers = {}): ErrorAnswer {
  return {
    status,
    blame,
    body: { error: { ...error, message: clip(error.message, MAX_MESSAGE_LENGTH) } },
    headers,
  };
}

export function errorAnswer(error: unknown): ErrorAnswer {
  if (error instanceof ValidationError) {
    return answer(400, 'caller', { code: error.code, message: error.message, field: clip(error.field, 100) });
  }
  if (error instanceof ForbiddenError)
    return answer(403, 'caller', { code: error.code, message: error.message });
  if (error instanceof RouteNotFoundError)
    return answer(404, 'caller', { code: error.code, message: error.message });
  if (error instanceof MethodNotAllowedError) {
    return answer(
      405,
      'caller',
      { code: error.code, message: error.message },
      { Allow: error.allow.join(', ') },
    );
  }
  if (error instanceof CmsTimeoutError)
    return answer(504, 'upstream', { code: error.code, message: error.message });
  if (error instanceof CmsResultError) {
    return answer(502, 'upstream', {
      code: error.code,
      message: error.message,
      cmsResultCode: error.resultCode,
    });
  }
  if (error instanceof CmsError) return answer(502, 'upstream', { code: error.code, message: error.message });
  if (error instanceof SecretError) {
    // The detail names the secret and what is wrong with it: for the operator's log, not for API callers.
    return answer(502, 'upstream', {
      code: 'CMS_CREDENTIALS_UNAVAILABLE',
      message: 'the credentials for CC-CMS could not be loaded; the details are in the service log',
    });
  }
  return answer(500, 'internal', {
    code: 'INTERNAL_ERROR',
    message:
      'the request could not be answered because of an internal error; the details are in the service log',
  });
}
