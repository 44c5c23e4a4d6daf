import { describe, expect, it } from 'vitest';
import { errorAnswer, MethodNotAllowedError, RouteNotFoundError } from '../lib/api/errors.js';
import {
  CmsAuthError,
  CmsHttpError,
  CmsIpLockedError,
  CmsNetworkError,
  CmsProtocolError,
  CmsResultError,
  CmsSigningPausedError,
  CmsTimeoutError,
  ConfigError,
  ForbiddenError,
  SecretError,
  ValidationError,
} from '../lib/errors.js';

describe('error answers', () => {
  it.each<[string, unknown, number, string]>([
    ['a validation error', new ValidationError('skillIds', 'is empty'), 400, 'VALIDATION_ERROR'],
    ['a forbidden VDN', new ForbiddenError('this deployment does not serve VDN 9'), 403, 'FORBIDDEN'],
    ['an unknown route', new RouteNotFoundError('no route /x'), 404, 'NOT_FOUND'],
    ['another method', new MethodNotAllowedError('PUT', ['GET', 'POST']), 405, 'METHOD_NOT_ALLOWED'],
    ['a refused signature', new CmsAuthError(), 502, 'CMS_UNAUTHORIZED'],
    ['an IP lock', new CmsIpLockedError(), 502, 'CMS_IP_LOCKED'],
    ['paused signing', new CmsSigningPausedError('4 refused', 0), 502, 'CMS_SIGNING_PAUSED'],
    ['an HTTP failure', new CmsHttpError(503), 502, 'CMS_HTTP_ERROR'],
    ['a malformed answer', new CmsProtocolError('not JSON'), 502, 'CMS_PROTOCOL_ERROR'],
    ['a network failure', new CmsNetworkError('connection reset'), 502, 'CMS_NETWORK_ERROR'],
    ['a result code', new CmsResultError('0100001', 'bad vdn'), 502, 'CMS_RESULT_ERROR'],
    ['a timeout', new CmsTimeoutError('too slow'), 504, 'CMS_TIMEOUT'],
    [
      'unavailable credentials',
      new SecretError('secret x: field "secretKey" is missing'),
      502,
      'CMS_CREDENTIALS_UNAVAILABLE',
    ],
    ['a bug', new TypeError('x is undefined'), 500, 'INTERNAL_ERROR'],
    ['a thrown non-error', 'oops', 500, 'INTERNAL_ERROR'],
    ['a configuration error at request time', new ConfigError('CC_ID', 'is required'), 500, 'INTERNAL_ERROR'],
  ])('maps %s to %i %s', (_what, error, status, code) => {
    const answer = errorAnswer(error);
    expect(answer.status).toBe(status);
    expect(answer.body.error.code).toBe(code);
    expect(answer.body.error.message.length).toBeGreaterThan(0);
  });

  it('names the field of a validation error', () => {
    expect(errorAnswer(new ValidationError('skillIds[3]', 'must be an integer')).body.error).toEqual({
      code: 'VALIDATION_ERROR',
      message: 'skillIds[3]: must be an integer',
      field: 'skillIds[3]',
    });
  });

  it('carries CMS result code', () => {
    expect(errorAnswer(new CmsResultError('0100001', 'bad vdn')).body.error.cmsResultCode).toBe('0100001');
  });

  it('tells when signing resumes, in the message and in Retry-After, and not why it paused', () => {
    const resumesAt = Date.UTC(2025, 0, 2, 3, 4, 5);
    const answer = errorAnswer(new CmsSigningPausedError('CMS at 10.1.2.3 refused 4 signatures', resumesAt));
    expect(answer.body.error.message).toMatch(/requests resume at 2025-01-02T03:04:05\.000Z/);
    expect(answer.body.error.message).not.toContain('10.1.2.3');
    expect(answer.headers).toEqual({ 'Retry-After': 'Thu, 02 Jan 2025 03:04:05 GMT' });
  });

  it('says which methods are allowed', () => {
    expect(errorAnswer(new MethodNotAllowedError('PUT', ['GET', 'POST'])).headers).toEqual({
      Allow: 'GET, POST',
    });
  });

  it('keeps the detail of a credentials failure out of the answer', () => {
    const answer = errorAnswer(new SecretError('secret prod/cms: field "secretKey" is missing'));
    expect(JSON.stringify(answer.body)).not.toContain('prod/cms');
  });

  it('keeps the message of a bug out of the answer', () => {
    const answer = errorAnswer(new Error('internal detail at /var/task/index.js:12'));
    expect(JSON.stringify(answer.body)).not.toContain('/var/task');
  });

  it('bounds a message that echoes a long input', () => {
    const answer = errorAnswer(new ValidationError('skillIds', `"${'9'.repeat(10_000)}" is not a skill id`));
    expect(answer.body.error.message.length).toBeLessThanOrEqual(300);
  });

  it.each([
    ['a network failure', new CmsNetworkError('CMS at 10.1.2.3:28090: connection failed: ECONNREFUSED')],
    [
      'a refused certificate',
      new CmsNetworkError(
        "CMS at cms.internal:28090: the TLS certificate was refused: host name mismatch [ERR_TLS_CERT_ALTNAME_INVALID] Host: cms.internal. is not in the cert's altnames: IP:10.1.2.3",
      ),
    ],
    ['a timeout', new CmsTimeoutError('CMS at 10.1.2.3:28090 did not answer within 5000 ms')],
    ['a malformed answer', new CmsProtocolError('skill 3: startTime is "x" (from 10.1.2.3)')],
  ])('keeps the CMS address and TLS detail of %s out of the answer', (_what, error) => {
    const text = JSON.stringify(errorAnswer(error, 'req-1').body);
    expect(text).not.toMatch(/10\.1\.2\.3|28090|cms\.internal|altname|certificate|ECONN/);
    expect(errorAnswer(error, 'req-1').body.error.requestId).toBe('req-1');
  });

  it('quotes the request id in every error answer', () => {
    for (const error of [new ValidationError('vdn', 'x'), new CmsHttpError(503), new Error('bug')])
      expect(errorAnswer(error, 'abc-123').body.error.requestId).toBe('abc-123');
  });

  it('answers with a CMS result code cleaned and bounded, whatever CMS put in it', () => {
    const error = new CmsResultError(`0100001\u001b[2J${'9'.repeat(5_000)}`, 'x');
    const body = errorAnswer(error).body;
    expect(body.error.cmsResultCode?.length).toBeLessThanOrEqual(20);
    expect(JSON.stringify(body)).not.toContain('\\u001b');
  });

  it('blames callers for 4xx answers and operators for the rest', () => {
    expect(errorAnswer(new ValidationError('vdn', 'x')).blame).toBe('caller');
    expect(errorAnswer(new CmsHttpError(500)).blame).toBe('upstream');
    expect(errorAnswer(new Error('bug')).blame).toBe('internal');
  });
});
