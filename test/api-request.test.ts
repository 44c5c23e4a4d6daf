import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MethodNotAllowedError, RouteNotFoundError } from '../lib/api/errors.js';
import { parseStatsQuery, type StatsQuery } from '../lib/api/request.js';
import { type ApiRequest, matchRoute, requestOfEvent, type StatsMethod } from '../lib/api/route.js';
import { resolveTarget } from '../lib/api/target.js';
import { ForbiddenError, ValidationError } from '../lib/errors.js';
import { formatSkillList } from '../lib/skills.js';
import { httpApiEvent } from '../local/api-server.js';

const limits = { maxSkills: 1_000 };

function request(fields: Partial<ApiRequest>): ApiRequest {
  return {
    method: 'GET',
    path: '/skills/current-stats',
    query: {},
    headers: {},
    body: undefined,
    isBase64Encoded: false,
    ...fields,
  };
}

const get = (query: Record<string, string>, max = limits.maxSkills) =>
  parseStatsQuery(request({ query }), 'GET', { maxSkills: max });

const post = (body: string, fields: Partial<ApiRequest> = {}, max = limits.maxSkills) =>
  parseStatsQuery(request({ method: 'POST', body, ...fields }), 'POST', { maxSkills: max });

function validationError(parse: () => unknown): ValidationError {
  try {
    parse();
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error('expected a ValidationError');
}

describe('routing', () => {
  it.each<[string, StatsMethod]>([
    ['GET', 'GET'],
    ['POST', 'POST'],
  ])('accepts %s on the stats path', (method, expected) => {
    expect(matchRoute({ method, path: '/skills/current-stats' })).toBe(expected);
  });

  it('answers an unknown path with a not-found error', () => {
    expect(() => matchRoute({ method: 'GET', path: '/skills' })).toThrow(RouteNotFoundError);
  });

  it('answers another method on the stats path with the methods allowed', () => {
    try {
      matchRoute({ method: 'DELETE', path: '/skills/current-stats' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(MethodNotAllowedError);
      expect((error as MethodNotAllowedError).allow).toEqual(['GET', 'POST']);
    }
  });

  it('ignores the prefix of a named stage and a trailing slash', () => {
    const event = httpApiEvent({ method: 'get', target: '/prod/skills/current-stats/?skillIds=1' });
    event.requestContext.stage = 'prod';
    const parsed = requestOfEvent(event);
    expect(parsed.path).toBe('/skills/current-stats');
    expect(parsed.method).toBe('GET');
    expect(parsed.query).toEqual({ skillIds: '1' });
  });

  it('lower-cases header names of events that did not come through API Gateway', () => {
    const event = httpApiEvent({ method: 'POST', target: '/skills/current-stats' });
    event.headers = { 'Content-Type': 'application/json' };
    expect(requestOfEvent(event).headers).toEqual({ 'content-type': 'application/json' });
  });
});

describe('query-string parameters', () => {
  it('reads a skill list, a call center and a VDN', () => {
    expect(get({ skillIds: '3,1-2,35', ccId: '1', vdn: '170' })).toEqual({
      ccId: 1,
      vdn: 170,
      skillIds: [1, 2, 3, 35],
    });
  });

  it('leaves out what the caller did not name', () => {
    expect(get({})).toEqual({});
  });

  it('reads repeated skillIds parameters, which API Gateway joins with commas, as one list', () => {
    expect(get({ skillIds: '1,5-6' }).skillIds).toEqual([1, 5, 6]);
  });

  it.each([
    [{ skillIds: 'abc' }, 'skillIds', 'neither a skill id nor a range'],
    [{ skillIds: '' }, 'skillIds', 'empty'],
    [{ skillIds: '0' }, 'skillIds', 'outside 1-5000'],
    [{ skillIds: '1-5001' }, 'skillIds', 'outside 1-5000'],
    [{ skillIds: '9-3' }, 'skillIds', 'backwards'],
    [{ ccId: 'one' }, 'ccId', 'whole number'],
    [{ ccId: '1,2' }, 'ccId', 'whole number'],
    [{ ccId: '0' }, 'ccId', 'between 1 and 65535'],
    [{ vdn: '5001' }, 'vdn', 'between 1 and 5000'],
    [{ vdn: '-1' }, 'vdn', 'whole number'],
    [{ skillid: '1' }, 'skillid', 'not a known parameter'],
  ])('refuses %j, naming %s', (query, field, reason) => {
    const error = validationError(() => get(query));
    expect(error.field).toBe(field);
    expect(error.message).toContain(field);
    expect(error.message).toContain(reason);
  });

  it('refuses more skills than QUERY_MAX_SKILLS allows', () => {
    const error = validationError(() => get({ skillIds: '1-11' }, 10));
    expect(error.field).toBe('skillIds');
    expect(error.detail).toContain('at most 10');
  });

  it('accepts exactly QUERY_MAX_SKILLS skills', () => {
    expect(get({ skillIds: '1-10' }, 10).skillIds).toHaveLength(10);
  });

  it('reads any skill list exactly as its range notation says', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: 5_000 }), { minLength: 1, maxLength: 200 }),
        (ids) => {
          const sorted = [...ids].sort((a, b) => a - b);
          expect(get({ skillIds: formatSkillList(ids) }).skillIds).toEqual(sorted);
        },
      ),
    );
  });
});

describe('request body', () => {
  it('reads the CMS request body', () => {
    expect(post('{"ccId":1,"vdn":170,"skillIds":[2,1,2]}')).toEqual({ ccId: 1, vdn: 170, skillIds: [1, 2] });
  });

  it('takes an empty object to mean every default', () => {
    expect(post('{}')).toEqual({});
  });

  it('reads a base64-encoded body', () => {
    const body = Buffer.from('{"skillIds":[7]}').toString('base64');
    expect(post(body, { isBase64Encoded: true })).toEqual({ skillIds: [7] });
  });

  it.each([
    'application/json',
    'application/json; charset=utf-8',
    'Application/JSON;charset="UTF-8"',
    undefined,
  ])('accepts the content type %s', (contentType) => {
    expect(post('{"vdn":170}', { headers: { 'content-type': contentType } })).toEqual({ vdn: 170 });
  });

  it.each([
    ['{"skillIds":[1]', 'body', 'not valid JSON'],
    ['', 'body', 'required'],
    ['[1,2]', 'body', 'JSON object'],
    ['null', 'body', 'JSON object'],
    ['"1-20"', 'body', 'JSON object'],
    ['{"skillIds":"1-20"}', 'skillIds', 'array of skill ids'],
    ['{"skillIds":[]}', 'skillIds', 'at least one skill'],
    ['{"skillIds":[1,2,5001]}', 'skillIds[2]', 'between 1 and 5000'],
    ['{"skillIds":[1,1.5]}', 'skillIds[1]', 'integer'],
    ['{"skillIds":[1,"2"]}', 'skillIds[1]', 'integer'],
    ['{"ccId":1e400}', 'ccId', 'integer'],
    ['{"ccId":null}', 'ccId', 'integer'],
    ['{"vdn":0}', 'vdn', 'between 1 and 5000'],
    ['{"vdn":170,"extra":true}', 'extra', 'not a known field'],
    ['{"__proto__":{"vdn":1}}', '__proto__', 'not a known field'],
  ])('refuses %s, naming %s', (body, field, reason) => {
    const error = validationError(() => post(body));
    expect(error.field).toBe(field);
    expect(error.message).toContain(reason);
  });

  it('refuses a content type other than JSON', () => {
    const error = validationError(() => post('{}', { headers: { 'content-type': 'text/plain' } }));
    expect(error.field).toBe('content-type');
  });

  it('refuses a JSON body in another charset', () => {
    const error = validationError(() =>
      post('{}', { headers: { 'content-type': 'application/json; charset=latin1' } }),
    );
    expect(error.field).toBe('content-type');
  });

  it('refuses base64 that does not decode to UTF-8', () => {
    const error = validationError(() =>
      post(Buffer.from([0xff, 0xfe, 0x7b]).toString('base64'), { isBase64Encoded: true }),
    );
    expect(error.field).toBe('body');
    expect(error.detail).toContain('UTF-8');
  });

  it('refuses query parameters next to a body', () => {
    const error = validationError(() => post('{}', { query: { vdn: '170' } }));
    expect(error.field).toBe('vdn');
    expect(error.detail).toContain('not accepted with POST');
  });

  it('refuses an oversized skill array by its length alone', () => {
    const error = validationError(() => post(JSON.stringify({ skillIds: Array(11).fill('junk') }), {}, 10));
    expect(error.field).toBe('skillIds');
    expect(error.detail).toContain('at most 10');
  });

  it('counts skills once each, so repeats do not count against the limit twice', () => {
    expect(post('{"skillIds":[1,1,2]}', {}, 3).skillIds).toEqual([1, 2]);
  });
});

describe('target resolution', () => {
  const targets = [
    { ccId: 1, vdn: 170, skillIds: [1, 2, 3] },
    { ccId: 1, vdn: 171, skillIds: [20] },
    { ccId: 2, vdn: 170, skillIds: [40] },
  ];

  it.each<[StatsQuery, { ccId: number; vdn: number; skillIds: number[] }]>([
    [{}, { ccId: 1, vdn: 170, skillIds: [1, 2, 3] }],
    [{ vdn: 171 }, { ccId: 1, vdn: 171, skillIds: [20] }],
    [{ ccId: 2 }, { ccId: 2, vdn: 170, skillIds: [40] }],
    [
      { ccId: 2, vdn: 170, skillIds: [5] },
      { ccId: 2, vdn: 170, skillIds: [5] },
    ],
  ])('fills %j from the first configured target that agrees with it', (query, expected) => {
    expect(resolveTarget(query, targets)).toEqual(expected);
  });

  it('allows any skill of a configured VDN', () => {
    expect(resolveTarget({ vdn: 170, skillIds: [4_999] }, targets).skillIds).toEqual([4_999]);
  });

  it.each<StatsQuery>([{ vdn: 999 }, { ccId: 3 }, { ccId: 2, vdn: 171 }])('forbids %j', (query) => {
    expect(() => resolveTarget(query, targets)).toThrow(ForbiddenError);
  });

  it('never answers for a VDN that is not configured', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 65_535 }), fc.integer({ min: 1, max: 5_000 }), (ccId, vdn) => {
        const configured = targets.some((target) => target.ccId === ccId && target.vdn === vdn);
        if (configured) expect(resolveTarget({ ccId, vdn }, targets)).toMatchObject({ ccId, vdn });
        else expect(() => resolveTarget({ ccId, vdn }, targets)).toThrow(ForbiddenError);
      }),
    );
  });
});
