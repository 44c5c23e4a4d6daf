import { createPrivateKey, X509Certificate } from 'node:crypto';
import { connect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CmsSimulator, startCmsSimulator } from '../local/simulator/index.js';
import {
  type CertificateAuthority,
  createCertificateAuthority,
  type ServerCertificate,
} from '../local/tls.js';

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';

/** Completes a TLS handshake against `target` and reports whether Node's verification accepted it. */
function handshake(options: {
  readonly port: number;
  readonly ca?: string[];
  readonly servername?: string;
}): Promise<{ readonly ok: true } | { readonly ok: false; readonly code: string }> {
  return new Promise((resolve) => {
    const socket = connect(
      {
        host: '127.0.0.1',
        port: options.port,
        ...(options.ca ? { ca: options.ca } : {}),
        ...(options.servername ? { servername: options.servername } : {}),
      },
      () => {
        socket.end();
        resolve({ ok: true });
      },
    );
    socket.on('error', (error: NodeJS.ErrnoException) =>
      resolve({ ok: false, code: error.code ?? error.message }),
    );
  });
}

describe('local certificate authority', () => {
  let authority: CertificateAuthority;
  let issued: ServerCertificate;

  beforeAll(async () => {
    authority = await createCertificateAuthority('test CA');
    issued = await authority.issueServerCertificate(['127.0.0.1', 'localhost', 'cms.test']);
  });

  it('is a CA certificate that may sign certificates', async () => {
    const ca = new X509Certificate(authority.certificate);
    expect(ca.ca).toBe(true);
    expect(ca.subject).toBe('CN=test CA');
    expect(ca.checkIssued(ca)).toBe(true);
    // Node exposes no key-usage bits, so the library that wrote them reads them back (loadable now that
    // createCertificateAuthority has provided the Reflect metadata API it needs).
    const x509 = await import('@peculiar/x509');
    const parsed = new x509.X509Certificate(authority.certificate);
    const keyUsage = parsed.getExtension(x509.KeyUsagesExtension);
    expect((keyUsage?.usages ?? 0) & x509.KeyUsageFlags.keyCertSign).toBe(x509.KeyUsageFlags.keyCertSign);
    expect(parsed.getExtension(x509.BasicConstraintsExtension)?.critical).toBe(true);
  });

  it('issues a server certificate signed by itself', () => {
    const ca = new X509Certificate(authority.certificate);
    const server = new X509Certificate(issued.cert);
    expect(server.ca).toBe(false);
    expect(server.checkIssued(ca)).toBe(true);
    expect(server.verify(ca.publicKey)).toBe(true);
  });

  it('names IP addresses as IP SANs and host names as DNS SANs', () => {
    expect(new X509Certificate(issued.cert).subjectAltName).toBe(
      'IP Address:127.0.0.1, DNS:localhost, DNS:cms.test',
    );
  });

  it('limits the server certificate to server authentication', () => {
    expect(new X509Certificate(issued.cert).keyUsage).toEqual([SERVER_AUTH]);
  });

  it('hands out the matching private key as PKCS#8 PEM', () => {
    expect(issued.key).toMatch(/^-----BEGIN PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+-----END PRIVATE KEY-----\n$/);
    expect(new X509Certificate(issued.cert).checkPrivateKey(createPrivateKey(issued.key))).toBe(true);
  });

  it('creates a new key pair for every authority', async () => {
    const other = await createCertificateAuthority('test CA');
    expect(other.certificate).not.toBe(authority.certificate);
  });

  it('refuses to issue a certificate for no host at all', async () => {
    await expect(authority.issueServerCertificate([])).rejects.toThrow(RangeError);
  });
});

describe('simulator TLS', () => {
  let simulator: CmsSimulator;
  let port: number;

  beforeAll(async () => {
    simulator = await startCmsSimulator();
    port = Number(new URL(simulator.url).port);
  });

  afterAll(async () => {
    await simulator.close();
  });

  it('is trusted for 127.0.0.1 by a client that trusts its CA', async () => {
    expect(await handshake({ port, ca: [simulator.caCertificate] })).toEqual({ ok: true });
  });

  it('is trusted for localhost by a client that trusts its CA', async () => {
    expect(await handshake({ port, ca: [simulator.caCertificate], servername: 'localhost' })).toEqual({
      ok: true,
    });
  });

  it('is refused for a host name its certificate does not carry', async () => {
    expect(await handshake({ port, ca: [simulator.caCertificate], servername: 'cms.example.com' })).toEqual({
      ok: false,
      code: 'ERR_TLS_CERT_ALTNAME_INVALID',
    });
  });

  it('is refused by a client that trusts another CA', async () => {
    const stranger = await createCertificateAuthority('another CA');
    const result = await handshake({ port, ca: [stranger.certificate] });
    expect(result).toEqual({ ok: false, code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
  });

  it('is refused by a client with only the public trust store', async () => {
    expect((await handshake({ port })).ok).toBe(false);
  });

  it('serves a certificate for the configured hosts only', async () => {
    const named = await startCmsSimulator({ certificateHosts: ['cms.test'] });
    try {
      const namedPort = Number(new URL(named.url).port);
      expect(await handshake({ port: namedPort, ca: [named.caCertificate], servername: 'cms.test' })).toEqual(
        {
          ok: true,
        },
      );
      expect(await handshake({ port: namedPort, ca: [named.caCertificate] })).toEqual({
        ok: false,
        code: 'ERR_TLS_CERT_ALTNAME_INVALID',
      });
    } finally {
      await named.close();
    }
  });
});
