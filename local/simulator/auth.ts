import { timingSafeEqual } from 'node:crypto';
import {
  authorization,
  c2Timestamp,
  parseAuthorization,
  SIGNED_HEADER_LIST,
  type SignatureLayout,
} from '../../lib/cms/sign.js';

/**
 * The server side of the C2 signature: recompute it over the bytes actually received and compare. Outcomes
 * name the cause for the request log and tests, never the secret or the expected signature.
 */

export interface Credentials {
  readonly accessKey: string;
  readonly secretKey: string;
}

export interface ReceivedRequest {
  readonly method: string;
  /** The request target as received: path and optional `?query`. */
  readonly target: string;
  /** Header values as Node parsed them (names lower-cased). */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

type AuthFailure =
  | 'missingAuthorization'
  | 'malformedAuthorization'
  | 'unknownAccessKey'
  | 'unexpectedSignedHeaders'
  | 'clockSkew'
  | 'timestampForm'
  | 'missingSignedHeader'
  | 'badSignature';

export type AuthOutcome =
  | { readonly ok: true; readonly accessKey: string }
  | { readonly ok: false; readonly reason: AuthFailure; readonly accessKey: string | undefined };

const SIGNED_HEADER_NAMES = SIGNED_HEADER_LIST.split(';');

/** The access key a request claims, for logging; undefined when the header is absent or not C2. */
export function claimedAccessKey(headers: ReceivedRequest['headers']): string | undefined {
  const value = headers.authorization;
  return typeof value === 'string' ? parseAuthorization(value)?.accessKey : undefined;
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

export function verifySignature(
  request: ReceivedRequest,
  credentials: Credentials,
  now: number,
  maxClockSkewMs: number,
  layout: SignatureLayout,
): AuthOutcome {
  const header = request.headers.authorization;
  if (typeof header !== 'string' || header === '') {
    return { ok: false, reason: 'missingAuthorization', accessKey: undefined };
  }
  const parsed = parseAuthorization(header);
  if (!parsed) return { ok: false, reason: 'malformedAuthorization', accessKey: undefined };
  const fail = (reason: AuthFailure): AuthOutcome => ({ ok: false, reason, accessKey: parsed.accessKey });

  if (parsed.accessKey !== credentials.accessKey) return fail('unknownAccessKey');
  if (parsed.signedHeaders !== SIGNED_HEADER_LIST) return fail('unexpectedSignedHeaders');
  const signedAt = Date.parse(parsed.timestamp);
  // Date.parse accepts impossible dates such as Feb 30 by rolling over; the round trip rejects them. A CMS reads
  // one timestamp form only, so the other form is refused like any unreadable timestamp.
  if (Number.isNaN(signedAt)) return fail('malformedAuthorization');
  if (c2Timestamp(new Date(signedAt), layout) !== parsed.timestamp) {
    const otherForm = { ...layout, milliseconds: !layout.milliseconds };
    return fail(
      c2Timestamp(new Date(signedAt), otherForm) === parsed.timestamp
        ? 'timestampForm'
        : 'malformedAuthorization',
    );
  }
  if (Math.abs(now - signedAt) > maxClockSkewMs) return fail('clockSkew');

  const signedHeaders: Record<string, string> = {};
  for (const name of SIGNED_HEADER_NAMES) {
    const value = request.headers[name];
    if (typeof value !== 'string') return fail('missingSignedHeader');
    signedHeaders[name] = value;
  }
  const queryStart = request.target.indexOf('?');
  const expected = authorization(
    {
      accessKey: parsed.accessKey,
      secretKey: credentials.secretKey,
      timestamp: parsed.timestamp,
      method: request.method,
      path: queryStart < 0 ? request.target : request.target.slice(0, queryStart),
      query: queryStart < 0 ? '' : request.target.slice(queryStart),
      headers: signedHeaders,
      body: request.body,
    },
    layout,
  );
  return sameText(expected, header) ? { ok: true, accessKey: parsed.accessKey } : fail('badSignature');
}
