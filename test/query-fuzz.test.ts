/**
 * Whatever a caller sends — any method, path, query string, headers or body, encoded or not — the handler answers
 * with JSON, never throws, never answers 500, and every refusal has the documented error shape.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { statsPath } from '../lib/api/route.js';
import type { CallStatsQuery } from '../lib/cms/request.js';
import { CmsResultError } from '../lib/cms/result-codes.js';
import type { StatsSource } from '../lib/cms/stats-source.js';
import type { VdnRead } from '../lib/cms/vdn-read.js';
import { CmsTimeoutError, SecretError } from '../lib/errors.js';
import { createQueryHandler } from '../lib/lambda/query.js';
import type { Log } from '../lib/log.js';
import { COUNTERS, type Counters } from '../lib/model.js';
import { httpApiEvent } from '../local/api-server.js';
import { liveQueueMissing, liveQueueRead, withLiveQueue } from './support/live-queue.js';
import { readOf } from './support/vdn-read.js';

const quietLog: Log = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

const counters = (id: number): Counters =>
  Object.fromEntries(COUNTERS.map(({ name }, index) => [name, (id * (index + 3)) % 50])) as Counters;

/** A CMS stand-in whose outcome depends on the first skill asked for, so fuzzed queries meet every outcome. */
const fakeCms: StatsSource = withLiveQueue(
  async (query: CallStatsQuery): Promise<VdnRead> => {
    const first = query.skillIds[0] ?? 0;
    if (first % 10 === 3) throw new SecretError('secret prod/cms is not JSON');
    if (first % 10 === 7) {
      return readOf(query, {
        failures: [{ skillIds: query.skillIds, error: new CmsTimeoutError('too slow') }],
      });
    }
    if (first % 10 === 9) {
      return readOf(query, {
        failures: [{ skillIds: query.skillIds, error: new CmsResultError('0100002', 'busy') }],
      });
    }
    return readOf(query, {
      skills: query.skillIds
        .filter((id) => id % 5 !== 0)
        .map((skillId) => ({ skillId, windowStart: 1_700_000_100_000, counters: counters(skillId) })),
    });
  },
  // The live queue of one VDN, and not of every skill: answers with and without live figures.
  (query: CallStatsQuery) => {
    if (query.vdn !== 170) return liveQueueMissing();
    const skills = query.skillIds.filter((id) => id % 3 !== 0);
    return liveQueueRead(
      1_700_000_200_000,
      skills.map((id) => [id, id % 4, (id * 7) % 200, 3, id % 2] as const),
    );
  },
);

const handler = createQueryHandler(
  {
    CMS_TARGETS: JSON.stringify([
      { ccId: 1, vdn: 170, skillIds: '1-8' },
      { ccId: 2, vdn: 171, skillIds: '20-22' },
    ]),
    QUERY_MAX_SKILLS: '50',
  },
  { cms: fakeCms, log: quietLog, now: () => 1_700_000_200_000 },
);
const context = { getRemainingTimeInMillis: () => 29_000 };

// --- generators ---------------------------------------------------------------------------------------------

const method = fc.oneof(
  fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH', 'get', 'post'),
  fc.string({ maxLength: 8 }),
);

const path = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      statsPath(1, 170),
      `${statsPath(2, 171)}/`,
      statsPath(1, 999),
      '/call-centers/1/vdns/0170/skills/current-stats',
    ),
  },
  fc.constantFrom(
    '/',
    '',
    '/skills',
    '/skills/current-stats',
    '/CALL-CENTERS/1/VDNS/170/SKILLS/CURRENT-STATS',
    `/${statsPath(1, 170)}`,
    `/prod${statsPath(1, 170)}`,
  ),
  fc.webPath(),
  fc.string({ maxLength: 30 }),
);

const numberText = fc.oneof(
  fc.integer({ min: -5, max: 6_000 }).map(String),
  fc.constantFrom(
    '1e3',
    '1.0',
    '0x10',
    '99999999999999999999999',
    ' 170 ',
    '+1',
    '',
    '-0',
    'NaN',
    'Infinity',
  ),
  fc.string({ maxLength: 6 }),
);

const skillListText = fc.oneof(
  fc
    .array(
      fc.oneof(
        fc.integer({ min: 0, max: 5_100 }).map(String),
        fc
          .tuple(fc.integer({ min: 0, max: 5_100 }), fc.integer({ min: 0, max: 5_100 }))
          .map(([a, b]) => `${a}-${b}`),
      ),
      { minLength: 0, maxLength: 6 },
    )
    .map((parts) => parts.join(',')),
  fc.string({ maxLength: 20 }),
);

const parameterName = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('skillIds', 'ccId', 'vdn') },
  fc.constantFrom('skillids', '__proto__', 'constructor', 'toString', ''),
  fc.string({ maxLength: 10 }),
);

/** Well-formed queries of configured VDNs: they reach CMS, and so every outcome the fake CMS can produce. */
const smallSkillIds = fc.uniqueArray(fc.integer({ min: 1, max: 60 }), { minLength: 1, maxLength: 5 });
const wellFormedQuery = smallSkillIds.map((ids) => `skillIds=${ids.join(',')}`);

/** The stats path of configured VDNs, of unconfigured ones and of ids in every malformed spelling. */
const tenantPath = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(statsPath(1, 170), statsPath(2, 171), statsPath(1, 999)) },
  fc
    .tuple(numberText, numberText)
    .map(
      ([ccId, vdn]) =>
        `/call-centers/${encodeURIComponent(ccId)}/vdns/${encodeURIComponent(vdn)}/skills/current-stats`,
    ),
);

const queryString = fc.oneof(
  { weight: 2, arbitrary: wellFormedQuery },
  fc
    .array(
      fc
        .tuple(parameterName, fc.oneof(numberText, skillListText), fc.boolean())
        .map(([name, value, encode]) =>
          encode ? `${encodeURIComponent(name)}=${encodeURIComponent(value)}` : `${name}=${value}`,
        ),
      { maxLength: 4 },
    )
    .map((pairs) => pairs.join('&')),
  fc.string({ maxLength: 40 }),
);

const intish = fc.oneof(
  fc.integer({ min: -3, max: 6_000 }),
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -0, 1.5, 2 ** 53 + 2, Number.MAX_VALUE),
  fc.string({ maxLength: 4 }),
  fc.constant(null),
  fc.boolean(),
);

const bodyObject = fc.record(
  {
    ccId: intish,
    vdn: intish,
    skillIds: fc.oneof(fc.array(intish, { maxLength: 60 }), intish, fc.dictionary(fc.string(), intish)),
    extra: fc.jsonValue({ maxDepth: 3 }),
  },
  { requiredKeys: [] },
);

const bodyText = fc.oneof(
  { weight: 2, arbitrary: smallSkillIds.map((skillIds) => JSON.stringify({ skillIds })) },
  { weight: 4, arbitrary: bodyObject.map((body) => JSON.stringify(body)) },
  fc.json({ maxDepth: 4 }),
  fc.jsonValue({ maxDepth: 6 }).map((value) => JSON.stringify(value) ?? ''),
  fc.string({ maxLength: 60 }),
  fc.constantFrom(
    '{"ccId":1e400}',
    '{"skillIds":[1e-400]}',
    '{"skillIds":[9007199254740993]}',
    `{"skillIds":${'['.repeat(200)}${']'.repeat(200)}}`,
    '{"vdn":170,"vdn":171}',
    '{"__proto__":{"ccId":1}}',
    '\uFEFF{"vdn":170}',
    '',
    ' ',
    'null',
  ),
);

/** The body as sent: plain, properly base64-encoded, or junk claiming to be base64. */
const encodedBody = fc.oneof(
  bodyText.map((body) => ({ body, isBase64Encoded: false })),
  bodyText.map((body) => ({ body: Buffer.from(body).toString('base64'), isBase64Encoded: true })),
  fc.string({ maxLength: 40 }).map((body) => ({ body, isBase64Encoded: true })),
  fc
    .uint8Array({ maxLength: 40 })
    .map((bytes) => ({ body: Buffer.from(bytes).toString('base64'), isBase64Encoded: true })),
  fc.constant({ body: undefined, isBase64Encoded: false }),
);

const headers = fc.dictionary(
  fc.oneof(
    fc.constantFrom('content-type', 'Content-Type', 'authorization', 'accept', 'x-forwarded-for'),
    fc.string({ maxLength: 12 }),
  ),
  fc.oneof(
    fc.constantFrom(
      'application/json',
      'application/json; charset=utf-8',
      'application/json;charset=ISO-8859-1',
      'text/plain',
      'application/x-www-form-urlencoded',
      '',
      ';;;',
    ),
    fc.string({ maxLength: 30 }),
  ),
  { maxKeys: 4 },
);

/** Content types a JSON client sends, and a few it should not. */
const jsonContentType = fc.oneof(
  fc.constantFrom('application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON;CHARSET=UTF8'),
  fc.constantFrom('application/json; charset=latin1', 'text/json', 'application/jsonx'),
);

interface FuzzRequest {
  readonly method: string;
  readonly target: string;
  readonly headers: Record<string, string>;
  readonly body: string | undefined;
  readonly isBase64Encoded: boolean;
}

const target = (where: string, query: string) => (query ? `${where}?${query}` : where);

/**
 * Fully random requests mostly end at the router; two focused shapes make sure the query-string parser and the
 * body parser (POST on the right path, no query string, a plausible content type) meet as much junk.
 */
const fuzzRequest: fc.Arbitrary<FuzzRequest> = fc.oneof(
  fc.tuple(method, path, queryString, headers, encodedBody).map(([verb, where, query, sent, encoded]) => ({
    method: verb,
    target: target(where, query),
    headers: sent,
    ...encoded,
  })),
  fc.tuple(tenantPath, queryString, headers).map(([where, query, sent]) => ({
    method: 'GET',
    target: target(where, query),
    headers: sent,
    body: undefined,
    isBase64Encoded: false,
  })),
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        tenantPath,
        fc.option(jsonContentType, { nil: undefined }),
        encodedBody,
        fc.option(queryString, { freq: 8, nil: '' }),
      )
      .map(([where, contentType, encoded, query]) => ({
        method: 'POST',
        target: target(where, query),
        headers: contentType === undefined ? {} : { 'content-type': contentType },
        ...encoded,
      })),
  },
);

function eventOf(request: FuzzRequest): APIGatewayProxyEventV2 {
  const event = httpApiEvent({ method: request.method, target: request.target });
  event.headers = { ...event.headers, ...request.headers };
  if (request.body !== undefined) event.body = request.body;
  event.isBase64Encoded = request.isBase64Encoded;
  return event;
}

// --- the properties -----------------------------------------------------------------------------------------

const STATUSES = [200, 400, 403, 404, 405, 502, 504];

function checkAnswer(response: APIGatewayProxyStructuredResultV2): void {
  expect(STATUSES).toContain(response.statusCode);
  expect(response.headers?.['Cache-Control']).toBe('no-store');
  expect(response.headers?.['Content-Type']).toBe('application/json');
  const body = JSON.parse(response.body ?? '') as Record<string, unknown>;
  if (response.statusCode === 200) {
    expect(Object.keys(body)).toEqual(['ccId', 'vdn', 'fetchedAt', 'skills', 'missingSkillIds', 'rollup']);
    return;
  }
  expect(Object.keys(body)).toEqual(['error']);
  const error = body.error as Record<string, unknown>;
  expect(typeof error.code).toBe('string');
  expect(typeof error.message).toBe('string');
  expect((error.code as string).length).toBeGreaterThan(0);
  expect((error.message as string).length).toBeGreaterThan(0);
  for (const [key, value] of Object.entries(error)) {
    expect(['code', 'message', 'requestId', 'field', 'cmsResultCode']).toContain(key);
    expect(typeof value).toBe('string');
  }
  if (response.statusCode === 405) expect(response.headers?.Allow).toBe('GET, POST');
}

describe('fuzzed requests', () => {
  it('answers every request API Gateway could forward with a well-formed JSON answer', async () => {
    await fc.assert(
      fc.asyncProperty(fuzzRequest, async (request) => {
        checkAnswer(await handler(eventOf(request), context));
      }),
      { numRuns: 1_000 },
    );
  });

  it('answers arbitrary query parameter maps, as a direct invocation could send them', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(parameterName, fc.oneof(numberText, skillListText), { maxKeys: 4 }),
        fc.constantFrom('GET', 'POST'),
        async (parameters, verb) => {
          const event = httpApiEvent({ method: verb, target: statsPath(1, 170) });
          event.queryStringParameters = parameters;
          checkAnswer(await handler(event, context));
        },
      ),
      { numRuns: 400 },
    );
  });

  it('answers events that lack the fields API Gateway always sends', async () => {
    const partial = fc.record(
      {
        rawPath: fc.oneof(fc.constant(statsPath(1, 170)), fc.string({ maxLength: 10 })),
        headers: fc.constant({}),
        requestContext: fc.record(
          { http: fc.record({ method: method }, { requiredKeys: [] }) },
          { requiredKeys: [] },
        ),
        body: fc.string({ maxLength: 20 }),
        isBase64Encoded: fc.boolean(),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(partial, async (event) => {
        checkAnswer(await handler(event as unknown as APIGatewayProxyEventV2, context));
      }),
      { numRuns: 200 },
    );
  });

  it.each<[string, unknown, string]>([
    ['a null event', null, 'event'],
    ['an event that is a string', 'GET /call-centers/1/vdns/170/skills/current-stats', 'event'],
    ['an event that is a list', [], 'event'],
    ['a rawPath that is a number', { rawPath: 170 }, 'rawPath'],
    ['a rawPath that is an object', { rawPath: { path: statsPath(1, 170) } }, 'rawPath'],
    [
      'a content-type that is a number',
      {
        rawPath: statsPath(1, 170),
        headers: { 'content-type': 1 },
        requestContext: { http: { method: 'POST' } },
      },
      'headers.content-type',
    ],
    [
      'a content-type that is a list',
      {
        rawPath: statsPath(1, 170),
        headers: { 'Content-Type': ['application/json'] },
        body: '{}',
        requestContext: { http: { method: 'POST' } },
      },
      'headers.content-type',
    ],
    ['headers that are a string', { rawPath: statsPath(1, 170), headers: 'content-type: x' }, 'headers'],
    [
      'a query parameter that is a number',
      { rawPath: statsPath(1, 170), queryStringParameters: { skillIds: 3 } },
      'queryStringParameters.skillIds',
    ],
    [
      'a requestContext that is a string',
      { rawPath: statsPath(1, 170), requestContext: 'x' },
      'requestContext',
    ],
    [
      'a method that is an object',
      { rawPath: statsPath(1, 170), requestContext: { http: { method: { toString: null } } } },
      'requestContext.http.method',
    ],
  ])('answers a direct invocation with %s 400, naming the field', async (_, event, field) => {
    const response = await handler(event as APIGatewayProxyEventV2, context);
    checkAnswer(response);
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body ?? '')).toMatchObject({ error: { code: 'BAD_EVENT', field } });
  });

  it('answers any JSON a direct invocation can send with a well-formed answer, never 500', async () => {
    const field = fc.oneof(fc.jsonValue(), fc.constant(statsPath(1, 170)));
    const event = fc.oneof(
      fc.jsonValue(),
      fc.record(
        {
          rawPath: field,
          headers: fc.oneof(
            fc.jsonValue(),
            fc.dictionary(fc.constantFrom('content-type', 'Content-Type', 'x'), fc.jsonValue()),
          ),
          queryStringParameters: fc.oneof(
            fc.jsonValue(),
            fc.dictionary(fc.constantFrom('skillIds', 'x'), fc.jsonValue()),
          ),
          requestContext: fc.oneof(
            fc.jsonValue(),
            fc.record({
              http: fc.oneof(fc.jsonValue(), fc.record({ method: fc.jsonValue() })),
              stage: fc.jsonValue(),
            }),
          ),
          body: fc.jsonValue(),
          isBase64Encoded: fc.jsonValue(),
        },
        { requiredKeys: [] },
      ),
    );
    await fc.assert(
      fc.asyncProperty(event, async (value) => {
        checkAnswer(await handler(value as APIGatewayProxyEventV2, context));
      }),
      { numRuns: 500 },
    );
  });

  it('reaches every kind of answer', async () => {
    // Guards the generators: a fuzz that only ever produced 400s would prove little about the other paths.
    const seen = new Set<number>();
    await fc.assert(
      fc.asyncProperty(fuzzRequest, async (request) => {
        seen.add((await handler(eventOf(request), context)).statusCode ?? 0);
      }),
      { numRuns: 1_000, seed: 42 },
    );
    expect([...seen].sort()).toEqual(STATUSES);
  });
});
