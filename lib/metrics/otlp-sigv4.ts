import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import type { OtlpSigner } from './otlp-sink.js';

// SigV4 for CloudWatch's OTLP endpoint: service `monitoring`, the function's own credentials (the provider chain
// the AWS SDK clients use), the body as sent (gzip). Signed afresh for every attempt, so a retry after a wait
// carries a current X-Amz-Date.

/** The service name CloudWatch's OTLP endpoints are signed for. */
const OTLP_SIGNING_SERVICE = 'monitoring';

type Credentials = ConstructorParameters<typeof SignatureV4>[0]['credentials'];

export function sigV4Signer(options: {
  readonly region: string | (() => Promise<string>);
  readonly credentials: Credentials;
  /** The signing clock; default now. */
  readonly now?: () => number;
}): OtlpSigner {
  const signer = new SignatureV4({
    service: OTLP_SIGNING_SERVICE,
    region: options.region,
    credentials: options.credentials,
    sha256: Sha256,
  });
  const now = options.now ?? Date.now;
  return async ({ url, headers, body }) => {
    const signed = await signer.sign(
      {
        method: 'POST',
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port === '' ? {} : { port: Number(url.port) }),
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: { ...headers },
        body,
      },
      { signingDate: new Date(now()) },
    );
    return signed.headers as Record<string, string>;
  };
}
