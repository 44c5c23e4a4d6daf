import { randomBytes, webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import type * as X509 from '@peculiar/x509';

/**
 * A throw-away certificate authority for local HTTPS servers: real CMS deployments commonly run on private CAs,
 * so the client is exercised against one instead of ever switching TLS verification off. Everything stays in
 * memory; nothing is written to disk.
 */

export interface ServerCertificate {
  /** PKCS#8 PEM of the server's private key. */
  readonly key: string;
  /** PEM of the server certificate, issued by the authority. */
  readonly cert: string;
}

export interface CertificateAuthority {
  /** PEM of the authority's self-signed certificate: what a client puts in its `ca` list. */
  readonly certificate: string;
  /** Issues a serverAuth certificate whose SANs are `hosts` (IP SANs for addresses, DNS SANs for names). */
  issueServerCertificate(hosts: string[]): Promise<ServerCertificate>;
}

// ECDSA P-256 keeps key generation in the milliseconds, so every test run can afford fresh keys.
const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' } as const;
const CA_VALIDITY_MS = 30 * 24 * 3_600_000;
const SERVER_VALIDITY_MS = 30 * 24 * 3_600_000;
// Tolerates a client clock slightly behind the one that issued the certificate.
const BACKDATE_MS = 3_600_000;

const provider = webcrypto;
type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

let x509Module: Promise<typeof X509> | undefined;

/**
 * @peculiar/x509 resolves its algorithms through tsyringe, which refuses to load without the Reflect metadata
 * API. A dynamic import keeps the polyfill first whatever the import sorter does.
 */
function loadX509(): Promise<typeof X509> {
  x509Module ??= import('reflect-metadata').then(() => import('@peculiar/x509'));
  return x509Module;
}

/** A positive serial number with 120 random bits, as CAs should issue (RFC 5280 §4.1.2.2). */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString('hex');
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await provider.subtle.exportKey('pkcs8', key));
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN PRIVATE KEY-----\n${lines.join('\n')}\n-----END PRIVATE KEY-----\n`;
}

function generateKeys(): Promise<CryptoKeyPair> {
  return provider.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;
}

export async function createCertificateAuthority(
  commonName = 'cms-skill-metrics local CA',
): Promise<CertificateAuthority> {
  const x509 = await loadX509();
  const keys = await generateKeys();
  const name: X509.JsonName = [{ CN: [commonName] }];
  const now = Date.now();
  const caCertificate = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serialNumber(),
      name,
      notBefore: new Date(now - BACKDATE_MS),
      notAfter: new Date(now + CA_VALIDITY_MS),
      signingAlgorithm: SIGNING_ALGORITHM,
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, provider),
      ],
    },
    provider,
  );

  return {
    certificate: caCertificate.toString('pem'),
    async issueServerCertificate(hosts) {
      const [firstHost] = hosts;
      if (firstHost === undefined) throw new RangeError('a server certificate needs at least one host name');
      const serverKeys = await generateKeys();
      const issuedAt = Date.now();
      const certificate = await x509.X509CertificateGenerator.create(
        {
          serialNumber: serialNumber(),
          subject: [{ CN: [firstHost] }],
          issuer: caCertificate.subjectName,
          notBefore: new Date(issuedAt - BACKDATE_MS),
          notAfter: new Date(Math.min(issuedAt + SERVER_VALIDITY_MS, caCertificate.notAfter.getTime())),
          signingAlgorithm: SIGNING_ALGORITHM,
          publicKey: serverKeys.publicKey,
          signingKey: keys.privateKey,
          extensions: [
            new x509.BasicConstraintsExtension(false, undefined, true),
            new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
            new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
            new x509.SubjectAlternativeNameExtension(
              hosts.map(
                (host): X509.JsonGeneralName => ({ type: isIP(host) === 0 ? 'dns' : 'ip', value: host }),
              ),
              false,
            ),
            await x509.SubjectKeyIdentifierExtension.create(serverKeys.publicKey, false, provider),
            await x509.AuthorityKeyIdentifierExtension.create(keys.publicKey, false, provider),
          ],
        },
        provider,
      );
      return { key: await privateKeyPem(serverKeys.privateKey), cert: certificate.toString('pem') };
    },
  };
}
