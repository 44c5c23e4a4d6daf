import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { type ApiServer, type HttpApiHandler, httpApiEvent, startApiServer } from '../local/api-server.js';

let server: ApiServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Serves `answer` and keeps every event and context the handler was given. */
async function serve(
  answer: (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyResultV2<unknown>>,
  options = {},
) {
  const seen: Array<{ event: APIGatewayProxyEventV2; context: Context }> = [];
  const handler: HttpApiHandler = (event, context) => {
    seen.push({ event, context });
    return answer(event);
  };
  server = await startApiServer({ handler, ...options });
  return { url: server.url, seen };
}

const ok = async () => ({ statusCode: 204 });

describe('routes', () => {
  const ROUTES = ['GET /call-centers/{ccId}/vdns/{vdn}/skills/current-stats'];

  it('hands a request matching a route over with its route key and path parameters', async () => {
    const { url, seen } = await serve(ok, { routes: ROUTES });
    await fetch(`${url}/call-centers/1/vdns/170/skills/current-stats?skillIds=1`);
    expect(seen[0]?.event).toMatchObject({
      routeKey: ROUTES[0],
      rawPath: '/call-centers/1/vdns/170/skills/current-stats',
      pathParameters: { ccId: '1', vdn: '170' },
      requestContext: { routeKey: ROUTES[0] },
    });
  });

  it.each([
    ['GET', '/skills/current-stats'],
    ['POST', '/call-centers/1/vdns/170/skills/current-stats'],
    ['GET', '/call-centers/1/vdns/170/skills/current-stats/x'],
  ])('answers %s %s, which matches no route, 404 without invoking the handler', async (method, path) => {
    const { url, seen } = await serve(ok, { routes: ROUTES });
    const response = await fetch(`${url}${path}`, { method });
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ message: 'Not Found' });
    expect(seen).toEqual([]);
  });
});

describe('events handed to the handler', () => {
  it('carries the path, the raw query string and the parsed parameters', async () => {
    const { url, seen } = await serve(ok);
    await fetch(`${url}/skills/current-stats?skillIds=1-3&skillIds=9&vdn=170`);
    const [first] = seen;
    expect(first?.event).toMatchObject({
      version: '2.0',
      routeKey: '$default',
      rawPath: '/skills/current-stats',
      rawQueryString: 'skillIds=1-3&skillIds=9&vdn=170',
      queryStringParameters: { skillIds: '1-3,9', vdn: '170' },
      isBase64Encoded: false,
    });
  });

  it('leaves out query parameters when there are none', async () => {
    const { url, seen } = await serve(ok);
    await fetch(`${url}/skills/current-stats`);
    expect(seen[0]?.event.queryStringParameters).toBeUndefined();
    expect(seen[0]?.event.rawQueryString).toBe('');
  });

  it('lower-cases header names and moves cookies out of the headers', async () => {
    const { url, seen } = await serve(ok);
    await fetch(`${url}/x`, { headers: { 'X-Trace': 'abc', Cookie: 'a=1; b=2' } });
    const event = seen[0]?.event;
    expect(event?.headers['x-trace']).toBe('abc');
    expect(event?.headers.cookie).toBeUndefined();
    expect(event?.cookies).toEqual(['a=1', 'b=2']);
  });

  it('fills the request context', async () => {
    const { url, seen } = await serve(ok);
    await fetch(`${url}/skills/current-stats`, {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    const context = seen[0]?.event.requestContext;
    expect(context?.http).toMatchObject({
      method: 'POST',
      path: '/skills/current-stats',
      sourceIp: '127.0.0.1',
    });
    expect(context?.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(context?.timeEpoch).toBeGreaterThan(0);
    expect(context?.time).toMatch(/^\d\d\/\w{3}\/\d{4}:\d\d:\d\d:\d\d \+0000$/);
  });

  it('passes a JSON body as text', async () => {
    const { url, seen } = await serve(ok);
    await fetch(`${url}/x`, {
      method: 'POST',
      body: '{"vdn":170}',
      headers: { 'content-type': 'application/json' },
    });
    expect(seen[0]?.event).toMatchObject({ body: '{"vdn":170}', isBase64Encoded: false });
  });

  it('base64-encodes a binary body', async () => {
    const { url, seen } = await serve(ok);
    const bytes = Buffer.from([0, 1, 2, 255]);
    await fetch(`${url}/x`, {
      method: 'POST',
      body: bytes,
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(seen[0]?.event).toMatchObject({ body: bytes.toString('base64'), isBase64Encoded: true });
  });

  it('gives the handler the remaining time of the integration', async () => {
    const { url, seen } = await serve(ok, { timeoutMs: 20_000 });
    await fetch(`${url}/x`);
    const remaining = seen[0]?.context.getRemainingTimeInMillis() ?? 0;
    expect(remaining).toBeGreaterThan(0);
    expect(remaining).toBeLessThanOrEqual(20_000);
  });

  it("counts the remaining time from the function's own timeout when it is shorter", async () => {
    const { url, seen } = await serve(ok, { timeoutMs: 20_000, lambdaTimeoutMs: 5_000 });
    await fetch(`${url}/x`);
    const remaining = seen[0]?.context.getRemainingTimeInMillis() ?? 0;
    expect(remaining).toBeGreaterThan(0);
    expect(remaining).toBeLessThanOrEqual(5_000);
  });

  it('builds the same event for a direct invocation', () => {
    const event = httpApiEvent(
      { method: 'GET', target: '/a?x=1&x=2', headers: [['Accept', 'application/json']] },
      { requestId: 'r-1', now: 0 },
    );
    expect(event).toMatchObject({
      rawPath: '/a',
      queryStringParameters: { x: '1,2' },
      headers: { accept: 'application/json' },
      requestContext: { requestId: 'r-1', timeEpoch: 0, time: '01/Jan/1970:00:00:00 +0000' },
    });
  });

  it('passes a parameter named __proto__ on as a parameter', () => {
    const event = httpApiEvent({ method: 'GET', target: '/a?__proto__=1' });
    expect(Object.keys(event.queryStringParameters ?? {})).toEqual(['__proto__']);
  });
});

describe('responses', () => {
  it('sends the status, headers and body the handler returned', async () => {
    const { url } = await serve(async () => ({
      statusCode: 405,
      headers: { Allow: 'GET, POST', 'Content-Type': 'application/json' },
      body: '{"error":{}}',
    }));
    const response = await fetch(url);
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, POST');
    expect(await response.text()).toBe('{"error":{}}');
  });

  it('decodes a base64 response body', async () => {
    const { url } = await serve(async () => ({
      statusCode: 200,
      body: Buffer.from('hello').toString('base64'),
      isBase64Encoded: true,
    }));
    expect(await (await fetch(url)).text()).toBe('hello');
  });

  it('answers a bare result as a 200 JSON body', async () => {
    const { url } = await serve(async () => ({ hello: 'world' }));
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ hello: 'world' });
  });

  it('answers 500 when the handler throws, and reports the error', async () => {
    const errors: unknown[] = [];
    const { url } = await serve(
      async () => {
        throw new Error('boom');
      },
      { onError: (error: unknown) => errors.push(error) },
    );
    const response = await fetch(url);
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ message: 'Internal Server Error' });
    expect(errors).toHaveLength(1);
  });

  it('answers 503 when the handler outlives the integration time limit', async () => {
    const { url } = await serve(() => new Promise(() => {}), { timeoutMs: 50 });
    const response = await fetch(url);
    expect(response.status).toBe(503);
  });

  it('answers 413 to a body beyond Lambda payload limit', async () => {
    const { url, seen } = await serve(ok);
    const response = await fetch(url, { method: 'POST', body: Buffer.alloc(6 * 1024 * 1024 + 1) });
    expect(response.status).toBe(413);
    expect(seen).toHaveLength(0);
  });
});
