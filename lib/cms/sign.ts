import { createHmac } from 'node:crypto';

// C2 AK/SK request signature (cms-api.md, "Authorization"). The signature covers the exact bytes sent, so
// `signRequest` returns the complete header set the transport must send unchanged.

const SIGNED_HEADERS = ['content-length', 'content-type', 'host'] as const;

/**
 * The sources disagree on two details of the canonical request (cms-api.md, "Two points the sources do not
 * settle"), and a CMS accepts exactly one combination:
 * - `queryLine`: `whenPresent` writes the query line only when there is a query (Huawei's reference
 *   `SignInfo.java`); `always` writes it even when empty, as an empty line (third-party ports of the CEC page).
 * - `milliseconds`: whether the timestamp carries `.SSS`.
 */
export interface SignatureLayout {
  readonly queryLine: 'always' | 'whenPresent';
  readonly milliseconds: boolean;
}

/**
 * The four layouts by the names operators set in CMS_SIGNATURE, in the order `auto` tries them: Huawei's
 * reference first, then the CEC page's ports as a whole, then the two mixtures.
 */
export const SIGNATURE_LAYOUTS = {
  'huawei-reference': { queryLine: 'whenPresent', milliseconds: false },
  'empty-query-line-millis': { queryLine: 'always', milliseconds: true },
  'huawei-reference-millis': { queryLine: 'whenPresent', milliseconds: true },
  'empty-query-line': { queryLine: 'always', milliseconds: false },
} as const satisfies Record<string, SignatureLayout>;

export type SignatureLayoutName = keyof typeof SIGNATURE_LAYOUTS;
export const SIGNATURE_LAYOUT_NAMES = Object.keys(SIGNATURE_LAYOUTS) as SignatureLayoutName[];

export const SIGNED_HEADER_LIST = SIGNED_HEADERS.join(';');
export const CONTENT_TYPE = 'application/json;charset=UTF-8';

/** RFC 3986 percent-encoding of the UTF-8 bytes, keeping only the unreserved characters. */
export function normalize(value: string): string {
  // encodeURIComponent also keeps !'()* as they are; the C2 rules encode them.
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

export function canonicalQuery(query: string): string {
  const search = new URLSearchParams(query);
  return [...search]
    .map(([key, value]) => `${normalize(key)}=${normalize(value)}`)
    .sort()
    .join('&');
}

export interface CanonicalRequestInput {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  /** Header names in any case; the three signed headers must be present. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export function canonicalRequest(input: CanonicalRequestInput, layout: SignatureLayout): string {
  const lowerCased = new Map(
    Object.entries(input.headers).map(([name, value]) => [name.toLowerCase(), value]),
  );
  const canonicalHeaders = SIGNED_HEADERS.map((name) => {
    const value = lowerCased.get(name);
    if (value === undefined) throw new Error(`the signed header ${name} is missing`);
    return `${normalize(name)}:${normalize(value.trim())}`;
  }).join('\n');
  const query = canonicalQuery(input.query);
  return [
    input.method.toUpperCase(),
    input.path,
    ...(layout.queryLine === 'always' || query !== '' ? [query] : []),
    SIGNED_HEADER_LIST,
    canonicalHeaders,
    normalize(input.body),
  ].join('\n');
}

/** `yyyy-MM-dd'T'HH:mm:ss.SSS'Z'` or `yyyy-MM-dd'T'HH:mm:ss'Z'` in UTC, as the layout wants. */
export function c2Timestamp(at: Date, layout: SignatureLayout): string {
  const iso = at.toISOString();
  return layout.milliseconds ? iso : `${iso.slice(0, 19)}Z`;
}

export interface AuthorizationInput extends CanonicalRequestInput {
  readonly accessKey: string;
  readonly secretKey: string;
  readonly timestamp: string;
}

/** The timestamp is signed as given: its form must already be the layout's. */
export function authorization(input: AuthorizationInput, layout: SignatureLayout): string {
  const prefix = `auth-v2/${input.accessKey}/${input.timestamp}/${SIGNED_HEADER_LIST}`;
  const signingKey = createHmac('sha256', input.secretKey).update(prefix, 'utf8').digest('hex');
  // The spec keys the second HMAC with the signing key's hex text, not its raw bytes.
  const signature = createHmac('sha256', signingKey)
    .update(canonicalRequest(input, layout), 'utf8')
    .digest('hex');
  return `${prefix}/${signature}`;
}

export interface SignRequestInput {
  readonly accessKey: string;
  readonly secretKey: string;
  readonly url: URL;
  readonly body: string;
  readonly at: Date;
  readonly layout: SignatureLayout;
}

/** The headers to send with a JSON POST, signed; each attempt must be signed afresh (the timestamp ages). */
export function signRequest(input: SignRequestInput): Record<string, string> {
  const headers = {
    Host: input.url.host,
    'Content-Type': CONTENT_TYPE,
    'Content-Length': String(Buffer.byteLength(input.body, 'utf8')),
  };
  return {
    ...headers,
    Authorization: authorization(
      {
        accessKey: input.accessKey,
        secretKey: input.secretKey,
        timestamp: c2Timestamp(input.at, input.layout),
        method: 'POST',
        path: input.url.pathname,
        query: input.url.search,
        headers,
        body: input.body,
      },
      input.layout,
    ),
  };
}

export interface ParsedAuthorization {
  readonly accessKey: string;
  readonly timestamp: string;
  readonly signedHeaders: string;
  readonly signature: string;
}

/**
 * Splits an Authorization value into its parts, or undefined when it is not `auth-v2/AK/ts/headers/sig`; the
 * timestamp may come in either form.
 */
export function parseAuthorization(value: string): ParsedAuthorization | undefined {
  const match =
    /^auth-v2\/(.+)\/(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{3})?Z)\/([a-z;-]+)\/([0-9a-f]{64})$/.exec(value);
  if (!match) return undefined;
  const [, accessKey = '', timestamp = '', signedHeaders = '', signature = ''] = match;
  return { accessKey, timestamp, signedHeaders, signature };
}
