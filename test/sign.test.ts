import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  authorization,
  c2Timestamp,
  canonicalQuery,
  canonicalRequest,
  normalize,
  parseAuthorization,
  signRequest,
} from '../lib/cms/sign.js';
import vectors from './fixtures/c2-test-vectors.json' with { type: 'json' };

describe('C2 signer', () => {
  describe.each(vectors.map((vector) => [vector.accessKey, vector] as const))(
    'test vector for %s',
    (_, vector) => {
      it('builds the canonical request byte for byte', () => {
        expect(canonicalRequest(vector)).toBe(vector.canonicalRequest);
      });

      it('produces the Authorization value byte for byte', () => {
        expect(authorization(vector)).toBe(vector.authorization);
      });
    },
  );

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

  it('formats the timestamp as UTC with milliseconds', () => {
    expect(c2Timestamp(new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678)))).toBe('2024-01-02T03:04:05.678Z');
  });

  it('signs the Host, Content-Type and Content-Length it tells the transport to send', () => {
    const [vector] = vectors;
    if (!vector) throw new Error('no vector');
    const headers = signRequest({
      accessKey: vector.accessKey,
      secretKey: vector.secretKey,
      url: new URL(`https://${vector.headers.Host}${vector.path}`),
      body: vector.body,
      at: new Date(vector.timestamp),
    });
    expect(headers).toEqual({ ...vector.headers, Authorization: vector.authorization });
  });

  it('counts Content-Length in UTF-8 bytes, not characters', () => {
    const headers = signRequest({
      accessKey: 'ak',
      secretKey: 'sk',
      url: new URL('https://127.0.0.1:1/p'),
      body: '"ü"',
      at: new Date(0),
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
});
