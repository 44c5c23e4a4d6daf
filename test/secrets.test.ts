import type { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { parseCmsSecret, SecretsManagerCredentials } from '../lib/cms/secrets.js';
import { SecretError } from '../lib/errors.js';
import { createCertificateAuthority } from '../local/tls.js';

const SECRET_KEY = 'S3CRET-never-print-me';

/** A Secrets Manager stand-in that answers GetSecretValue from a list of successive secret strings. */
function fakeSecretsManager(...versions: string[]) {
  const calls: string[] = [];
  return {
    calls,
    send: async (command: GetSecretValueCommand) => {
      calls.push(command.input.SecretId ?? '');
      const secretString = versions[Math.min(calls.length, versions.length) - 1];
      return { SecretString: secretString };
    },
  };
}

const secretJson = (accessKey: string) => JSON.stringify({ accessKey, secretKey: SECRET_KEY });

describe('CMS secret parsing', () => {
  it('reads the key pair and an optional CA certificate', async () => {
    const ca = (await createCertificateAuthority()).certificate;
    expect(
      parseCmsSecret(JSON.stringify({ accessKey: 'ak', secretKey: 'sk', caCertificate: ca }), 'cms'),
    ).toEqual({
      accessKey: 'ak',
      secretKey: 'sk',
      caCertificate: ca,
    });
  });

  it.each([
    [undefined, 'no SecretString'],
    [`{"accessKey":"ak","secretKey":"${SECRET_KEY}"`, 'not JSON'],
    [`["${SECRET_KEY}"]`, 'not a JSON object'],
    [JSON.stringify({ secretKey: SECRET_KEY }), '"accessKey" is missing'],
    [JSON.stringify({ accessKey: 'ak', secretKey: '' }), '"secretKey" is missing'],
    [JSON.stringify({ accessKey: 'ak', secretKey: SECRET_KEY, caCertificate: 42 }), '"caCertificate"'],
    [
      JSON.stringify({ accessKey: 'ak', secretKey: SECRET_KEY, caCertificate: SECRET_KEY }),
      'holds no PEM certificate',
    ],
    [
      JSON.stringify({
        accessKey: 'ak',
        secretKey: SECRET_KEY,
        caCertificate: '-----BEGIN CERTIFICATE-----\nMIIBnot-der\n-----END CERTIFICATE-----',
      }),
      'certificate 1 of 1 is not a valid X.509 certificate',
    ],
  ])('explains a malformed secret (%#) without echoing it', (secretString, reason) => {
    let error: unknown;
    try {
      parseCmsSecret(secretString, 'prod/cms');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SecretError);
    expect((error as Error).message).toContain(reason);
    expect((error as Error).message).toContain('prod/cms');
    expect(`${(error as Error).message}${(error as Error).stack}`).not.toContain(SECRET_KEY);
  });
});

describe('Secrets Manager credentials', () => {
  it("gives a read up at the caller's deadline, and aborts GetSecretValue once no caller waits", async () => {
    const signals: AbortSignal[] = [];
    const client = {
      send: (_command: GetSecretValueCommand, options?: { abortSignal?: AbortSignal }) =>
        new Promise<{ SecretString: string }>((_resolve, reject) => {
          if (options?.abortSignal) signals.push(options.abortSignal);
          options?.abortSignal?.addEventListener('abort', () => reject(new Error('Request aborted')));
        }),
    };
    const source = new SecretsManagerCredentials({ client, secretId: 'prod/cms', ttlMs: 60_000 });
    const [early, late] = [new AbortController(), new AbortController()];
    const first = source.current(early.signal);
    const second = source.current(late.signal);
    early.abort();
    await expect(first).rejects.toThrow("reading secret prod/cms was given up at the caller's deadline");
    // The other caller still waits on the one call, which goes on.
    expect(signals).toHaveLength(1);
    expect(signals[0]?.aborted).toBe(false);
    late.abort();
    await expect(second).rejects.toThrow("reading secret prod/cms was given up at the caller's deadline");
    expect(signals[0]?.aborted).toBe(true);
  });

  it('fetches once and serves warm invocations from the cache within the TTL', async () => {
    const client = fakeSecretsManager(secretJson('ak1'));
    let now = 0;
    const credentials = new SecretsManagerCredentials({
      client,
      secretId: 'cms',
      ttlMs: 1000,
      now: () => now,
    });
    await credentials.current();
    now = 999;
    expect((await credentials.current()).accessKey).toBe('ak1');
    expect(client.calls).toEqual(['cms']);
  });

  it('fetches again once the TTL has passed', async () => {
    const client = fakeSecretsManager(secretJson('ak1'), secretJson('ak2'));
    let now = 0;
    const credentials = new SecretsManagerCredentials({
      client,
      secretId: 'cms',
      ttlMs: 1000,
      now: () => now,
    });
    await credentials.current();
    now = 1000;
    expect((await credentials.current()).accessKey).toBe('ak2');
  });

  it('reads the rotated secret on refresh, sharing one call between concurrent callers', async () => {
    const client = fakeSecretsManager(secretJson('old'), secretJson('rotated'));
    const credentials = new SecretsManagerCredentials({ client, secretId: 'cms', ttlMs: 60_000 });
    await credentials.current();
    const refreshed = await Promise.all([
      credentials.refresh(),
      credentials.refresh(),
      credentials.refresh(),
    ]);
    expect(refreshed.map((pair) => pair.accessKey)).toEqual(['rotated', 'rotated', 'rotated']);
    expect(client.calls).toHaveLength(2);
    expect((await credentials.current()).accessKey).toBe('rotated');
  });

  it('turns a Secrets Manager failure into a SecretError naming the secret and the service error', async () => {
    const notFound = Object.assign(new Error("Secrets Manager can't find the specified secret."), {
      name: 'ResourceNotFoundException',
    });
    const credentials = new SecretsManagerCredentials({
      client: {
        send: async () => {
          throw notFound;
        },
      },
      secretId: 'prod/cms',
      ttlMs: 1000,
    });
    await expect(credentials.current()).rejects.toThrow(
      new SecretError('cannot read secret prod/cms from Secrets Manager (ResourceNotFoundException)'),
    );
  });

  it('tries again on the next call after a failed fetch', async () => {
    let fail = true;
    const credentials = new SecretsManagerCredentials({
      client: {
        send: async () => {
          if (fail) throw new Error('network');
          return { SecretString: secretJson('ak') };
        },
      },
      secretId: 'cms',
      ttlMs: 1000,
    });
    await expect(credentials.current()).rejects.toThrow(SecretError);
    fail = false;
    expect((await credentials.current()).accessKey).toBe('ak');
  });
});
