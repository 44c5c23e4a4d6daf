import { describe, expect, it } from 'vitest';
import { errorAnswer, MethodNotAllowedError, RouteNotFoundError } from '../lib/api/errors.js';
import {
  CmsAuthError,
  CmsHttpError,
  CmsIpLockedError,
  CmsNetworkError,
  CmsProtocolError,
  CmsResultError,
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

  it('blames callers for 4xx answers and operators for the rest', () => {
    expect(errorAnswer(new ValidationError('vdn', 'x')).blame).toBe('caller');
    expect(errorAnswer(new CmsHttpError(500)).blame).toBe('upstream');
    expect(errorAnswer(new Error('bug')).blame).toBe('internal');
  });
});
