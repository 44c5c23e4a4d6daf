import { X509Certificate } from 'node:crypto';
import { isIP, type Socket, connect as tcpConnect } from 'node:net';
import { type DetailedPeerCertificate, type TLSSocket, connect as tlsConnect } from 'node:tls';
import { certificateRefusal } from './transport.js';

// The network steps of `probe` (probe.ts): can the host be reached over TCP, and does its TLS handshake succeed
// with the configured trust, and through which chain.

export async function reach(
  host: string,
  port: number,
  timeoutMs: number,
): Promise<{ ms: number; error?: string }> {
  const started = performance.now();
  return new Promise((resolve) => {
    const socket: Socket = tcpConnect({ host, port });
    const done = (error?: string): void => {
      socket.destroy();
      resolve({ ms: Math.round(performance.now() - started), ...(error === undefined ? {} : { error }) });
    };
    socket.setTimeout(timeoutMs, () => done(`no answer within ${timeoutMs} ms`));
    socket.once('connect', () => done());
    socket.once('error', (error: NodeJS.ErrnoException) => done(error.code ?? error.message));
  });
}

type Handshake =
  | { readonly error: string }
  | { readonly socket: TLSSocket; readonly chain: DetailedPeerCertificate[] };

/** A verified TLS handshake, as the client makes it (verification always on), and the chain it ended with. */
export function handshake(
  host: string,
  port: number,
  ca: string[] | undefined,
  timeoutMs: number,
): Promise<Handshake> {
  return new Promise((resolve) => {
    const socket = tlsConnect({
      host,
      port,
      // An IP address is not a server name; Node checks it against the certificate's IP SANs instead.
      ...(isIP(host) === 0 ? { servername: host } : {}),
      ...(ca === undefined ? {} : { ca }),
    });
    const fail = (error: NodeJS.ErrnoException): void => {
      socket.destroy();
      const refusal = certificateRefusal(error.code);
      resolve({
        error: refusal
          ? `${refusal} [${error.code}]`
          : `${error.message}${error.code ? ` [${error.code}]` : ''}`,
      });
    };
    socket.setTimeout(timeoutMs, () => fail(new Error(`no TLS handshake within ${timeoutMs} ms`)));
    socket.once('error', fail);
    socket.once('secureConnect', () => {
      const chain: DetailedPeerCertificate[] = [];
      for (
        let cert = socket.getPeerCertificate(true);
        cert && !chain.includes(cert);
        cert = cert.issuerCertificate
      ) {
        chain.push(cert);
        if (cert.issuerCertificate === cert) break;
      }
      socket.end();
      resolve({ socket, chain });
    });
  });
}

export function describeChain(
  tls: Extract<Handshake, { socket: TLSSocket }>,
  host: string,
  caBundle: string | undefined,
): string[] {
  const [leaf] = tls.chain;
  const root = tls.chain.at(-1);
  const name = (cert: DetailedPeerCertificate | undefined): string =>
    [cert?.subject?.CN ?? '(no common name)'].flat().join(', ');
  const fromBundle = new Set(bundleFingerprints(caBundle));
  const anchor =
    root === undefined
      ? 'an unknown authority'
      : fromBundle.has(root.fingerprint256)
        ? `"${name(root)}" from CMS_CA_FILE`
        : `"${name(root)}" from the public roots`;
  return [
    `${tls.socket.getProtocol() ?? 'TLS'}: certificate "${name(leaf)}" valid until ${leaf?.valid_to ?? '?'}; host name ${host} matches`,
    `chain: ${tls.chain.map((cert) => `"${name(cert)}"`).join(' ← issued by ')}; trusted through ${anchor}`,
  ];
}

function bundleFingerprints(bundle: string | undefined): string[] {
  if (bundle === undefined) return [];
  const blocks = bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.flatMap((pem) => {
    try {
      return [new X509Certificate(pem).fingerprint256];
    } catch {
      return [];
    }
  });
}
