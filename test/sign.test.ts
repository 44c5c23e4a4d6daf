import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  authorization,
  c2Timestamp,
  canonicalQuery,
  canonicalRequest,
  normalize,
  parseAuthorization,
  SIGNATURE_LAYOUT_NAMES,
  SIGNATURE_LAYOUTS,
  type SignatureLayout,
  signRequest,
} from '../lib/cms/sign.js';
import vectors from './fixtures/c2-test-vectors.json' with { type: 'json' };

/** The layout a vector was made in: its query-line rule, and milliseconds when its timestamp has them. */
function layoutOf(vector: (typeof vectors)[number]): SignatureLayout {
  return {
    queryLine: vector.queryLine === 'always' ? 'always' : 'whenPresent',
    milliseconds: vector.timestamp.includes('.'),
  };
}

const HUAWEI_REFERENCE = SIGNATURE_LAYOUTS['huawei-reference'];

const SOME_HEADERS = { Host: 'h:1', 'Content-Type': 'application/json', 'Content-Length': '0' };

describe('C2 signer', () => {
  it('has test vectors for all four layouts', () => {
    const covered = new Set(vectors.map((vector) => JSON.stringify(layoutOf(vector))));
    expect(covered).toEqual(
      new Set(Object.values(SIGNATURE_LAYOUTS).map((layout) => JSON.stringify(layout))),
    );
  });

  describe.each(vectors.map((vector, index) => [index, vector.queryLine, vector.timestamp, vector] as const))(
    'test vector %i (query line %s, timestamp %s)',
    (_, _queryLine, _timestamp, vector) => {
      const layout = layoutOf(vector);

      it('builds the canonical request byte for byte', () => {
        expect(canonicalRequest(vector, layout)).toBe(vector.canonicalRequest);
      });

      it('produces the Authorization value byte for byte', () => {
        expect(authorization(vector, layout)).toBe(vector.authorization);
      });

      it('writes the timestamp in the layout’s form', () => {
        expect(c2Timestamp(new Date(vector.timestamp), layout)).toBe(vector.timestamp);
      });

      it('signs the whole request into the same headers', () => {
        const headers = signRequest({
          accessKey: vector.accessKey,
          secretKey: vector.secretKey,
          url: new URL(`https://${vector.headers.Host}${vector.path}${vector.query}`),
          body: vector.body,
          at: new Date(vector.timestamp),
          layout,
        });
        expect(headers).toEqual({ ...vector.headers, Authorization: vector.authorization });
      });
    },
  );

  it('names four distinct layouts', () => {
    expect(SIGNATURE_LAYOUT_NAMES).toEqual([
      'huawei-reference',
      'empty-query-line-millis',
      'huawei-reference-millis',
      'empty-query-line',
    ]);
    expect(new Set(Object.values(SIGNATURE_LAYOUTS).map((layout) => JSON.stringify(layout))).size).toBe(4);
  });

  it('writes the query line whenever there is a query, in every layout', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...Object.values(SIGNATURE_LAYOUTS)),
        fc.webSegment().filter((value) => value !== ''),
        (layout, value) => {
          const lines = canonicalRequest(
            {
              method: 'POST',
              path: '/p',
              query: `?k=${encodeURIComponent(value)}`,
              headers: SOME_HEADERS,
              body: '',
            },
            layout,
          ).split('\n');
          expect(lines[2]).toBe(`k=${normalize(value)}`);
        },
      ),
    );
  });

  it('writes an empty query line only in the always layouts', () => {
    const request = { method: 'POST', path: '/p', query: '', headers: SOME_HEADERS, body: '' };
    expect(canonicalRequest(request, SIGNATURE_LAYOUTS['empty-query-line']).split('\n')).toHaveLength(8);
    expect(canonicalRequest(request, HUAWEI_REFERENCE).split('\n')).toHaveLength(7);
  });

  it('keeps only RFC 3986 unreserved characters and upper-cases the hex', () => {
    expect(normalize("AZaz09-._~ !'()*/:;ü")).toBe('AZaz09-._~%20%21%27%28%29%2A%2F%3A%3B%C3%BC');
  });

  it('normalizes any string to unreserved characters and %XX escapes only', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (value) => {
        expect(normalize(value)).toMatch(/^(?:[A-Za-z0-9\-._~]|%[0-9A-F]{2})*$/);
        expect(decodeURIComponent(normalize(value))).toBe(value);
      }),
    );
  });

  it('sorts and normalizes query parameters', () => {
    expect(canonicalQuery('?b=2&a=x y&a=1')).toBe('a=1&a=x%20y&b=2');
    expect(canonicalQuery('')).toBe('');
  });

  it('formats the timestamp as UTC, with or without milliseconds', () => {
    const at = new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678));
    expect(c2Timestamp(at, SIGNATURE_LAYOUTS['huawei-reference-millis'])).toBe('2024-01-02T03:04:05.678Z');
    expect(c2Timestamp(at, HUAWEI_REFERENCE)).toBe('2024-01-02T03:04:05Z');
  });

  it('counts Content-Length in UTF-8 bytes, not characters', () => {
    const headers = signRequest({
      accessKey: 'ak',
      secretKey: 'sk',
      url: new URL('https://127.0.0.1:1/p'),
      body: '"ü"',
      at: new Date(0),
      layout: HUAWEI_REFERENCE,
    });
    expect(headers['Content-Length']).toBe('4');
  });

  it('parses the Authorization value back into its parts', () => {
    const [vector] = vectors;
    expect(parseAuthorization(vector?.authorization ?? '')).toEqual({
      accessKey: 'testak',
      timestamp: '2024-01-02T03:04:05.678Z',
      signedHeaders: 'content-length;content-type;host',
      signature: 'eb293d83c3cdb450faceb69ea6baaf9eb00b720a64f116c784cb12363dd08949',
    });
    expect(parseAuthorization('Bearer abc')).toBeUndefined();
  });

  it('parses a timestamp without milliseconds too', () => {
    const vector = vectors.find((candidate) => !candidate.timestamp.includes('.'));
    expect(parseAuthorization(vector?.authorization ?? '')?.timestamp).toBe(vector?.timestamp);
  });
});
