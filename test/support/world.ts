/**
 * What the product runs against in the integration tests, the fault suite and the benchmarks: the CMS simulator
 * over TLS with its private CA, the wire-level fake AWS endpoint, the key pair they share, and the ways the
 * product's clients are pointed at them. Written once so that every suite meets the same stand-ins, wired the
 * same way `npm start` wires the real handlers.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { type CredentialSource, staticCredentials } from '../../lib/cms/credentials.js';
import {
  type CmsSimulator,
  type CmsSimulatorOptions,
  startCmsSimulator,
} from '../../local/simulator/index.js';
import { type FakeAws, type FakeAwsOptions, startFakeAws } from './fake-aws.js';

/**
 * How a client reaches the stand-ins. Plain data, so the benchmarks can run the stand-ins in a process of their
 * own and send this over IPC. The key pair is the simulator's: a local stand-in, not a credential of anything.
 */
export interface WorldAddress {
  readonly cmsUrl: string;
  /** The simulator's private CA, to trust. */
  readonly caCertificate: string;
  readonly awsUrl: string;
  readonly accessKey: string;
  readonly secretKey: string;
}

export interface World extends WorldAddress {
  readonly simulator: CmsSimulator;
  readonly aws: FakeAws;
  /** A scratch directory, removed on close. */
  readonly directory: string;
  /** The CA as a PEM file in `directory`, for CMS_CA_FILE. */
  readonly caFile: string;
  close(): Promise<void>;
}

export interface WorldOptions {
  /** The simulator's key pair; its own default pair when absent. */
  readonly keys?: { readonly accessKey: string; readonly secretKey: string };
  readonly simulator?: Omit<CmsSimulatorOptions, 'accessKey' | 'secretKey'>;
  readonly aws?: FakeAwsOptions;
}

const DEFAULT_KEYS = { accessKey: 'sim-access-key', secretKey: 'sim-secret-key' };

export async function startWorld(options: WorldOptions = {}): Promise<World> {
  const keys = options.keys ?? DEFAULT_KEYS;
  const [simulator, aws] = await Promise.all([
    startCmsSimulator({ ...options.simulator, ...keys }),
    startFakeAws(options.aws),
  ]);
  const directory = mkdtempSync(join(tmpdir(), 'world-'));
  const caFile = join(directory, 'cms-ca.pem');
  writeFileSync(caFile, simulator.caCertificate);
  return {
    simulator,
    aws,
    directory,
    caFile,
    cmsUrl: simulator.url,
    caCertificate: simulator.caCertificate,
    awsUrl: aws.url,
    ...keys,
    close: async () => {
      await Promise.all([simulator.close(), aws.close()]);
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/** The simulator's key pair and CA handed in directly, as the Secrets Manager secret would carry them. */
export function worldCredentials(world: WorldAddress): CredentialSource {
  return staticCredentials({
    accessKey: world.accessKey,
    secretKey: world.secretKey,
    caCertificate: world.caCertificate,
  });
}

/** A real CloudWatch client, pointed at the fake endpoint with throw-away credentials. */
export function worldCloudWatch(world: Pick<WorldAddress, 'awsUrl'>): CloudWatchClient {
  return new CloudWatchClient({
    endpoint: world.awsUrl,
    region: 'us-east-1',
    credentials: { accessKeyId: 'world', secretAccessKey: 'world' },
  });
}

/**
 * Points the SDK clients that handlers build from the environment at the fake endpoint, with dummy credentials
 * and nothing of this machine's AWS setup (profile, retry settings, instance metadata); returns the undo.
 */
export function useWorldAws(world: Pick<WorldAddress, 'awsUrl'>): () => void {
  const saved = { ...process.env };
  for (const name of ['AWS_PROFILE', 'AWS_MAX_ATTEMPTS', 'AWS_RETRY_MODE']) {
    delete process.env[name];
  }
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: world.awsUrl,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'world',
    AWS_SECRET_ACCESS_KEY: 'world',
    AWS_EC2_METADATA_DISABLED: 'true',
  });
  return () => {
    process.env = saved;
  };
}
