// Every failure the product can meet, as a type. Messages are written for operators and never carry
// credentials: the secret key and the Authorization header are never interpolated into any of them.

export abstract class AppError extends Error {
  abstract readonly code: string;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A configuration value (environment variable or secret field) is missing or malformed. */
export class ConfigError extends AppError {
  readonly code = 'CONFIG_ERROR';
  constructor(
    readonly variable: string,
    detail: string,
  ) {
    super(`${variable}: ${detail}`);
  }
}

/** Caller input is malformed; `field` names the offending field (e.g. `skillIds[3]`). */
export class ValidationError extends AppError {
  readonly code = 'VALIDATION_ERROR';
  constructor(
    readonly field: string,
    readonly detail: string,
  ) {
    super(`${field}: ${detail}`);
  }
}

/** The caller asked for something this deployment does not serve (e.g. a VDN it is not configured for). */
export class ForbiddenError extends AppError {
  readonly code = 'FORBIDDEN';
}

/** The credentials secret could not be fetched or is malformed. Never echoes the secret's content. */
export class SecretError extends AppError {
  readonly code = 'SECRET_ERROR';
}

/** Base of every failure talking to CC-CMS. `retryable` drives the client's retry policy. */
export abstract class CmsError extends AppError {
  abstract readonly retryable: boolean;
}

/**
 * HTTP 401: the signature or the access key was refused (wrong or rotated key, clock skew, signature layout), or
 * the client stopped signing so as not to provoke an IP lock. The message says which.
 */
export class CmsAuthError extends CmsError {
  readonly code = 'CMS_UNAUTHORIZED';
  readonly retryable = false;
  constructor(
    message = 'CMS refused the request signature (HTTP 401): check the access key, secret key and clock',
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * The refusal budget is spent (CMS_REFUSAL_LIMIT charged signatures within CMS_REFUSAL_PERIOD_SECONDS), or `auto`
 * tried every layout in vain: nothing is signed before `resumesAt` (epoch ms), so that CMS does not lock this IP.
 */
export class CmsSigningPausedError extends CmsError {
  readonly code = 'CMS_SIGNING_PAUSED';
  readonly retryable = false;
  constructor(
    reason: string,
    readonly resumesAt: number,
  ) {
    super(
      `${reason}; to keep CMS from locking this IP address nothing is signed until ` +
        `${new Date(resumesAt).toISOString()}: check the key pair, the clock and CMS_SIGNATURE ` +
        '(cms-skill-metrics probe tells which)',
    );
  }
}

/**
 * An optional request (the live queue) is not signed: the refusal budget has no charge to spare for it, since
 * its last free one is kept for the counters. Optional requests are signed again from `resumesAt` (epoch ms),
 * when the oldest charge ages out; undefined when the budget never has one to spare (CMS_REFUSAL_LIMIT=1).
 */
export class CmsSigningReservedError extends CmsError {
  readonly code = 'CMS_SIGNING_RESERVED';
  readonly retryable = false;
  constructor(
    charged: number,
    limit: number,
    readonly resumesAt: number | undefined,
  ) {
    super(
      `${charged} of the ${limit} charges of the refusal budget are taken; the last one is kept for the ` +
        'counters, so optional requests (the live queue) are not signed ' +
        (resumesAt === undefined
          ? 'with CMS_REFUSAL_LIMIT=1'
          : `before ${new Date(resumesAt).toISOString()}, when the oldest charge ages out`),
    );
  }
}

/**
 * HTTP 403: CMS has locked this client's IP address after repeated signature failures. Retrying only prolongs
 * the lock, so nothing more is sent to that CMS for the rest of the run.
 */
export class CmsIpLockedError extends CmsError {
  readonly code = 'CMS_IP_LOCKED';
  readonly retryable = false;
  constructor() {
    super(
      "CMS locked this client's IP address after repeated signature failures (HTTP 403) and refuses its requests " +
        'until the lock expires or a CMS administrator lifts it; fix the key pair, the clock or CMS_SIGNATURE first ' +
        '(cms-skill-metrics probe tells which)',
    );
  }
}

/** Any HTTP status other than 200 and 401. 5xx is worth retrying; 4xx is not. */
export class CmsHttpError extends CmsError {
  readonly code = 'CMS_HTTP_ERROR';
  readonly retryable: boolean;
  constructor(readonly status: number) {
    super(`CMS answered HTTP ${status}`);
    this.retryable = status >= 500;
  }
}

/** The response is not the documented JSON shape (bad JSON, wrong types, negative counters...). */
export class CmsProtocolError extends CmsError {
  readonly code = 'CMS_PROTOCOL_ERROR';
  readonly retryable = false;
}

/**
 * CMS sent a window start that cannot be the current window (wrong unit, no date at all, or a clock far off).
 * Everything built on it (roll-up, timestamps, DataAge) would be wrong, so the VDN's whole answer is refused.
 */
export class CmsWindowError extends CmsProtocolError {
  constructor(
    readonly skillId: number,
    /** The start of the aligned window the skill's `startTime` names. */
    readonly windowStart: number,
    reason: string,
  ) {
    super(`skill ${skillId}: window start ${windowStart} ${reason}`);
  }
}

/** No answer within the per-request timeout or the caller's deadline. */
export class CmsTimeoutError extends CmsError {
  readonly code = 'CMS_TIMEOUT';
  readonly retryable = true;
}

/** Connection refused or reset, DNS failure, TLS failure... */
export class CmsNetworkError extends CmsError {
  readonly code = 'CMS_NETWORK_ERROR';
  readonly retryable: boolean;
  constructor(message: string, options?: ErrorOptions & { retryable?: boolean }) {
    super(message, options);
    this.retryable = options?.retryable ?? true;
  }
}
