import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MethodNotAllowedError, RouteNotFoundError } from '../lib/api/errors.js';
import {
  type ApiRequest,
  matchRoute,
  parseStatsQuery,
  requestOfEvent,
  type StatsMethod,
  type StatsRoute,
  statsPath,
} from '../lib/api/route.js';
import { resolveTarget, type StatsQuery } from '../lib/api/stats.js';
import { ForbiddenError, ValidationError } from '../lib/errors.js';
import { formatSkillList } from '../lib/skills.js';
import { httpApiEvent } from '../local/api-server.js';

const limits = { maxSkills: 1_000 };

function request(fields: Partial<ApiRequest>): ApiRequest {
  return {
    method: 'GET',
    path: statsPath(1, 170),
    query: {},
    headers: {},
    body: undefined,
    isBase64Encoded: false,
    ...fields,
  };
}

const ROUTE = { ccId: '1', vdn: '170' };

const get = (query: Record<string, string>, max = limits.maxSkills, route: Partial<StatsRoute> = {}) =>
  parseStatsQuery(request({ query }), { method: 'GET', ...ROUTE, ...route }, { maxSkills: max });

const post = (body: string, fields: Partial<ApiRequest> = {}, max = limits.maxSkills) =>
  parseStatsQuery(
    request({ method: 'POST', body, ...fields }),
    { method: 'POST', ...ROUTE },
    { maxSkills: max },
  );

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
  ])("accepts %s on the stats path of a VDN, with the path's ids", (method, expected) => {
    expect(matchRoute({ method, path: '/call-centers/1/vdns/170/skills/current-stats' })).toEqual({
      method: expected,
      ccId: '1',
      vdn: '170',
    });
  });

  it.each([
    '/skills/current-stats',
    '/skills',
    '/call-centers/1/vdns/skills/current-stats',
    '/call-centers/1/vdns/170/skills/current-stats/more',
    '/call-centers/1/vdns/170/170/skills/current-stats',
    '/call-centers//vdns/170/skills/current-stats',
  ])('answers %s with a not-found error', (path) => {
    expect(() => matchRoute({ method: 'GET', path })).toThrow(RouteNotFoundError);
  });

  it('answers another method on the stats path with the methods allowed', () => {
    try {
      matchRoute({ method: 'DELETE', path: statsPath(1, 170) });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(MethodNotAllowedError);
      expect((error as MethodNotAllowedError).allow).toEqual(['GET', 'POST']);
    }
  });

  it('ignores the prefix of a named stage and a trailing slash', () => {
    const event = httpApiEvent({ method: 'get', target: `/prod${statsPath(1, 170)}/?skillIds=1` });
    event.requestContext.stage = 'prod';
    const parsed = requestOfEvent(event);
    expect(parsed.path).toBe(statsPath(1, 170));
    expect(parsed.method).toBe('GET');
    expect(parsed.query).toEqual({ skillIds: '1' });
  });

  it('lower-cases header names of events that did not come through API Gateway', () => {
    const event = httpApiEvent({ method: 'POST', target: statsPath(1, 170) });
    event.headers = { 'Content-Type': 'application/json' };
    expect(requestOfEvent(event).headers).toEqual({ 'content-type': 'application/json' });
  });
});

describe('the VDN in the path', () => {
  it('reads the call center and the VDN', () => {
    expect(get({}, limits.maxSkills, { ccId: '65535', vdn: '5000' })).toEqual({ ccId: 65_535, vdn: 5_000 });
  });

  it.each([
    [{ ccId: 'one' }, 'ccId', 'whole number'],
    [{ ccId: '1,2' }, 'ccId', 'whole number'],
    [{ ccId: '0' }, 'ccId', 'between 1 and 65535'],
    [{ ccId: '65536' }, 'ccId', 'between 1 and 65535'],
    [{ vdn: '5001' }, 'vdn', 'between 1 and 5000'],
    [{ vdn: '-1' }, 'vdn', 'whole number'],
    [{ vdn: '0170' }, 'vdn', 'without leading zeros'],
    [{ vdn: '%31%37%30' }, 'vdn', 'whole number'],
    [{ vdn: '170.0' }, 'vdn', 'whole number'],
  ])('refuses %j, naming %s', (route, field, reason) => {
    const error = validationError(() => get({}, limits.maxSkills, route));
    expect(error.field).toBe(field);
    expect(error.message).toContain(reason);
  });

  it('accepts each id only in its one canonical spelling, as IAM compares the path as text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 8 }), (segment) => {
        let vdn: number | undefined;
        try {
          vdn = get({}, limits.maxSkills, { vdn: segment }).vdn;
        } catch (error) {
          expect(error).toBeInstanceOf(ValidationError);
        }
        if (vdn !== undefined) expect(String(vdn)).toBe(segment);
      }),
    );
  });
});

describe('query-string parameters', () => {
  it('reads a skill list', () => {
    expect(get({ skillIds: '3,1-2,35' })).toEqual({ ccId: 1, vdn: 170, skillIds: [1, 2, 3, 35] });
  });

  it('leaves the skills out when the caller did not name them', () => {
    expect(get({})).toEqual({ ccId: 1, vdn: 170 });
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
    [{ ccId: '1' }, 'ccId', 'the path names the VDN'],
    [{ vdn: '170' }, 'vdn', 'the path names the VDN'],
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
  it("reads the CMS request body when its VDN is the path's", () => {
    expect(post('{"ccId":1,"vdn":170,"skillIds":[2,1,2]}')).toEqual({ ccId: 1, vdn: 170, skillIds: [1, 2] });
  });

  it('reads a body of skills alone', () => {
    expect(post('{"skillIds":[3]}')).toEqual({ ccId: 1, vdn: 170, skillIds: [3] });
  });

  it.each([
    ['{"ccId":2,"skillIds":[1]}', 'ccId'],
    ['{"vdn":171,"skillIds":[1]}', 'vdn'],
    ['{"ccId":1,"vdn":9,"skillIds":[1]}', 'vdn'],
  ])('refuses a body %s naming another VDN than the path', (body, field) => {
    const error = validationError(() => post(body));
    expect(error.field).toBe(field);
    expect(error.detail).toContain('in the path; they must agree');
  });

  it('takes an empty object to mean the configured skills', () => {
    expect(post('{}')).toEqual({ ccId: 1, vdn: 170 });
  });

  it('reads a base64-encoded body', () => {
    const body = Buffer.from('{"skillIds":[7]}').toString('base64');
    expect(post(body, { isBase64Encoded: true })).toEqual({ ccId: 1, vdn: 170, skillIds: [7] });
  });

  it.each([
    'application/json',
    'application/json; charset=utf-8',
    'Application/JSON;charset="UTF-8"',
    undefined,
  ])('accepts the content type %s', (contentType) => {
    expect(post('{"vdn":170}', { headers: { 'content-type': contentType } })).toEqual({ ccId: 1, vdn: 170 });
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
    [
      { ccId: 1, vdn: 170 },
      { ccId: 1, vdn: 170, skillIds: [1, 2, 3] },
    ],
    [
      { ccId: 1, vdn: 171 },
      { ccId: 1, vdn: 171, skillIds: [20] },
    ],
    [
      { ccId: 2, vdn: 170 },
      { ccId: 2, vdn: 170, skillIds: [40] },
    ],
    [
      { ccId: 2, vdn: 170, skillIds: [5] },
      { ccId: 2, vdn: 170, skillIds: [5] },
    ],
  ])('answers %j with the configured skills unless it names its own', (query, expected) => {
    expect(resolveTarget(query, targets, limits)).toEqual(expected);
  });

  it('allows any skill of a configured VDN', () => {
    expect(resolveTarget({ ccId: 1, vdn: 170, skillIds: [4_999] }, targets, limits).skillIds).toEqual([
      4_999,
    ]);
  });

  it('holds the configured skills of a VDN to QUERY_MAX_SKILLS too', () => {
    const error = validationError(() => resolveTarget({ ccId: 1, vdn: 170 }, targets, { maxSkills: 2 }));
    expect(error.field).toBe('skillIds');
    expect(error.detail).toBe(
      'is required for this VDN: its 3 configured skills are more than the 2 a query may name',
    );
  });

  it.each<StatsQuery>([
    { ccId: 1, vdn: 999 },
    { ccId: 3, vdn: 170 },
    { ccId: 2, vdn: 171 },
  ])('forbids %j', (query) => {
    expect(() => resolveTarget(query, targets, limits)).toThrow(ForbiddenError);
  });

  it('never answers for a VDN that is not configured', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 65_535 }), fc.integer({ min: 1, max: 5_000 }), (ccId, vdn) => {
        const configured = targets.some((target) => target.ccId === ccId && target.vdn === vdn);
        if (configured) expect(resolveTarget({ ccId, vdn }, targets, limits)).toMatchObject({ ccId, vdn });
        else expect(() => resolveTarget({ ccId, vdn }, targets, limits)).toThrow(ForbiddenError);
      }),
    );
  });
});
