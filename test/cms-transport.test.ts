import { once } from 'node:events';
import { Agent, createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createSecureContext, rootCertificates } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AgentPool, connectionError, httpsPost, trustedCertificates } from '../lib/cms/transport.js';
import { CmsNetworkError } from '../lib/errors.js';
import { createCertificateAuthority } from '../local/tls.js';

const url = new URL('https://cms.example.test:28090/rest');

function errnoError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('trustedCertificates', () => {
  it("adds the configured bundles to Node's roots instead of replacing them", async () => {
    const authority = await createCertificateAuthority();
    const trusted = trustedCertificates([authority.certificate, undefined]);
    expect(trusted).toEqual([...rootCertificates, authority.certificate]);
  });

  it("leaves Node's defaults alone when there is nothing to add", () => {
    expect(trustedCertificates([undefined, '', '  \n'])).toBeUndefined();
  });
});

describe('AgentPool', () => {
  const pool = new AgentPool(3);
  afterEach(() => pool.close());

  it('hands out one keep-alive agent per distinct bundle, and the same one again for the same bundle', () => {
    const plain = pool.agentFor([undefined, undefined]);
    const withCa = pool.agentFor(['PEM-A', undefined]);
    expect(pool.agentFor([undefined, ''])).toBe(plain);
    expect(pool.agentFor(['PEM-A'])).toBe(withCa);
    expect(pool.agentFor(['PEM-A', 'PEM-B'])).not.toBe(withCa);
    expect(pool.size).toBe(3);
    expect((plain.options as { keepAlive?: boolean }).keepAlive).toBe(true);
    expect(plain.maxSockets).toBe(3);
  });

  it('never switches certificate verification off', () => {
    for (const agent of [pool.agentFor([]), pool.agentFor(['PEM-A'])]) {
      expect((agent.options as { rejectUnauthorized?: boolean }).rejectUnauthorized).not.toBe(false);
    }
  });

  it('forgets its agents when closed', () => {
    const before = pool.agentFor([]);
    pool.close();
    expect(pool.size).toBe(0);
    expect(pool.agentFor([])).not.toBe(before);
  });
});

describe('connectionError', () => {
  it.each([
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unknown certificate authority'],
    ['SELF_SIGNED_CERT_IN_CHAIN', 'unknown certificate authority'],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed'],
    ['CERT_HAS_EXPIRED', 'expired'],
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'host name mismatch'],
  ])('says a certificate refused with %s was refused and why, and makes it final', (code, reason) => {
    const error = connectionError(url, errnoError('verification failed', code));
    expect(error.message).toMatch(/^CMS at cms\.example\.test:28090: the TLS certificate was refused: /);
    expect(error.message).toContain(reason);
    expect(error.message).toContain(code);
    expect(error.retryable).toBe(false);
  });

  it.each([['ECONNRESET'], ['ECONNREFUSED'], ['ENOTFOUND'], ['ETIMEDOUT']])('lets %s be retried', (code) => {
    const error = connectionError(url, errnoError('it broke', code));
    expect(error.retryable).toBe(true);
    expect(error.message).toBe(`CMS at cms.example.test:28090: connection failed: it broke [${code}]`);
  });
});

describe('httpsPost', () => {
  let server: Server;
  let caCertificate: string;
  let base: URL;

  beforeAll(async () => {
    const authority = await createCertificateAuthority('transport test CA');
    caCertificate = authority.certificate;
    server = createServer(await authority.issueServerCertificate(['127.0.0.1']), (request, response) => {
      request.resume();
      if (request.url === '/unauthorized' || request.url === '/cut') {
        // The status line and headers, then a body that never comes.
        response.writeHead(request.url === '/cut' ? 200 : 401, { 'Content-Length': '1000' });
        response.flushHeaders();
        if (request.url === '/cut') setTimeout(() => response.destroy(), 50);
        return;
      }
      response.writeHead(200, { 'Content-Length': '2' });
      response.end('{}');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = new URL(`https://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });

  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  function post(
    path: string,
    onSent: () => void,
    ca = caCertificate,
    target = base,
    onStatus: (status: number) => void = () => undefined,
  ) {
    return httpsPost({
      url: new URL(path, target),
      headers: {},
      body: '{}',
      agent: new Agent({ secureContext: createSecureContext({ ca }) }),
      timeoutMs: 10_000,
      signal: new AbortController().signal,
      maxResponseBytes: 1024,
      onSent,
      onStatus,
    });
  }

  it('answers a 401 from its status line, without waiting for its body', async () => {
    const started = Date.now();
    expect(await post('/unauthorized', () => undefined)).toMatchObject({ status: 401, body: '' });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('tells the status of a 200 before its body, even when the body is then cut', async () => {
    const statuses: number[] = [];
    await expect(
      post(
        '/cut',
        () => undefined,
        caCertificate,
        base,
        (status) => statuses.push(status),
      ),
    ).rejects.toThrow(CmsNetworkError);
    expect(statuses).toEqual([200]);
  });

  it('says the request was sent once its TLS connection is up', async () => {
    let sent = 0;
    expect(await post('/stats', () => (sent += 1))).toMatchObject({ status: 200, body: '{}' });
    expect(sent).toBe(1);
  });

  it('says nothing was sent when no connection came about: refused, or a certificate not trusted', async () => {
    let sent = 0;
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const nobody = new URL(`https://127.0.0.1:${(closed.address() as AddressInfo).port}`);
    closed.close();
    await expect(post('/stats', () => (sent += 1), caCertificate, nobody)).rejects.toThrow(CmsNetworkError);
    const stranger = await createCertificateAuthority('another CA');
    await expect(post('/stats', () => (sent += 1), stranger.certificate)).rejects.toThrow(
      /certificate was refused/,
    );
    expect(sent).toBe(0);
  });
});
