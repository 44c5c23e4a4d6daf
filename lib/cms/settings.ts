import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { choice, type Env, read, variable, wholeNumber } from '../config/rules.js';
import { ConfigError } from '../errors.js';
import { clip } from '../text.js';
import type { CmsSettings } from './client.js';
import { certificateBundleProblem } from './pem.js';
import { SIGNATURE_SETTINGS } from './signature-negotiation.js';

// The CMS settings every function that builds a CMS client reads at cold start, and the key pair's secret: read
// where a function (lib/lambda/cms.ts) or the CLI builds the client, so that a function handed a client or a key pair needs neither.

function parseCmsBaseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    // The value is not repeated: a mistyped URL may carry credentials.
    throw new Error('is not a URL (expected https://host:port)');
  }
  if (url.protocol !== 'https:') throw new Error('must be an https:// URL (CC-CMS only speaks HTTPS)');
  if (url.username || url.password || url.search || url.hash)
    throw new Error('must not carry credentials, a query or a fragment');
  return url.href.replace(/\/$/, '');
}

/** A CA bundle is a few kilobytes; even every public root CA together is a few hundred. */
const CA_FILE_MAX_BYTES = 1024 * 1024;

/**
 * CMS_CA_FILE: a regular file of at most CA_FILE_MAX_BYTES, read whole. Anything else would stop the cold start
 * in its own way: a device such as /dev/zero never ends (and the read grows until the process aborts), a FIFO
 * waits for a writer. It is opened without blocking and examined before anything is read.
 */
function readCaFile(path: string): string {
  const shown = clip(path, 200);
  const unreadable = (error: unknown) =>
    new Error(`cannot read ${shown} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    throw unreadable(error);
  }
  let pem: string;
  try {
    if (!fstatSync(fd).isFile()) throw new Error(`${shown} is not a regular file`);
    // One byte more than allowed tells a file that is too large, or that grew since it was examined.
    const buffer = Buffer.alloc(CA_FILE_MAX_BYTES + 1);
    let length = 0;
    while (length < buffer.length) {
      const read = readSync(fd, buffer, length, buffer.length - length, null);
      if (read === 0) break;
      length += read;
    }
    if (length > CA_FILE_MAX_BYTES) {
      throw new Error(`${shown} is larger than the ${CA_FILE_MAX_BYTES / 1024} KB a CA bundle may take`);
    }
    pem = buffer.toString('utf8', 0, length);
  } catch (error) {
    throw (error as NodeJS.ErrnoException).code === undefined ? error : unreadable(error);
  } finally {
    closeSync(fd);
  }
  const problem = certificateBundleProblem(pem);
  if (problem !== undefined) throw new Error(`${shown} ${problem}`);
  return pem;
}

/** The CMS variables, each with its default and limits; CMS_BASE_URL is required. */
export const CMS_RULES = {
  CMS_BASE_URL: variable(parseCmsBaseUrl),
  CMS_CONCURRENCY: wholeNumber(1, 64, 4),
  CMS_CA_FILE: variable(readCaFile, undefined),
  CMS_TIMEOUT_MS: wholeNumber(100, 60_000, 5_000),
  CMS_MAX_ATTEMPTS: wholeNumber(1, 10, 3),
  CMS_SIGNATURE: choice(SIGNATURE_SETTINGS, 'auto'),
  /** Four is one try of each signature layout; CMS's own threshold is not published. */
  CMS_REFUSAL_LIMIT: wholeNumber(1, 100, 4),
  CMS_REFUSAL_PERIOD_SECONDS: wholeNumber(60, 86_400, 900),
  /** Set by Lambda; unset elsewhere (the CLI, local runs). Lambda's own limits bound it. */
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: wholeNumber(128, 10_240, undefined),
};

/** The CMS settings. */
export function loadCmsSettings(env: Env): CmsSettings {
  const values = read(env, CMS_RULES);
  return {
    baseUrl: values.CMS_BASE_URL,
    caCertificate: values.CMS_CA_FILE,
    requestTimeoutMs: values.CMS_TIMEOUT_MS,
    maxAttempts: values.CMS_MAX_ATTEMPTS,
    maxConcurrency: values.CMS_CONCURRENCY,
    maxResponseBytes: responseCap(values.AWS_LAMBDA_FUNCTION_MEMORY_SIZE, values.CMS_CONCURRENCY),
    signature: values.CMS_SIGNATURE,
    refusals: { limit: values.CMS_REFUSAL_LIMIT, periodMs: values.CMS_REFUSAL_PERIOD_SECONDS * 1_000 },
  };
}

export interface SecretSettings {
  readonly secretId: string;
  readonly ttlMs: number;
}

/** Where the key pair is kept: CMS_SECRET_ID, required, and how long it is reused (SECRET_TTL_SECONDS). */
export function loadSecretSettings(env: Env): SecretSettings {
  const values = read(env, {
    CMS_SECRET_ID: variable((text) => text),
    SECRET_TTL_SECONDS: wholeNumber(0, 86_400, 300),
  });
  return { secretId: values.CMS_SECRET_ID, ttlMs: values.SECRET_TTL_SECONDS * 1_000 };
}

/**
 * How much memory CMS answers in flight may take. Reading and parsing a body of N bytes peaks at about 6 N (the
 * received chunks, their concatenation, the decoded text and the parsed objects; measured 5.0 N for a padded
 * answer and 6.2 N for 1,000 indented records in both arrays). Half of the function's memory is theirs; the rest
 * is the runtime's, the SDK's and the run's datums'.
 */
export const RESPONSE_MEMORY = {
  bytesPerResponseByte: 6,
  shareOfFunctionMemory: 0.5,
  /** The most a response is read to, whatever the memory: 20 times the largest valid answer. */
  maxBytes: 16 * 1024 * 1024,
  /** The largest valid answer: 1,000 skills with 15-digit counters, in both arrays, indented, is 0.78 MB. */
  minBytes: 1024 * 1024,
} as const;

/**
 * The response cap for `concurrency` requests in flight within `memoryMb`; a ConfigError naming CMS_CONCURRENCY
 * when even the largest valid answer would not fit that many times.
 */
export function responseCap(memoryMb: number | undefined, concurrency: number): number {
  if (memoryMb === undefined) return RESPONSE_MEMORY.maxBytes;
  const budget = memoryMb * 1024 * 1024 * RESPONSE_MEMORY.shareOfFunctionMemory;
  const cap = Math.floor(budget / (concurrency * RESPONSE_MEMORY.bytesPerResponseByte));
  if (cap < RESPONSE_MEMORY.minBytes) {
    const fits = Math.floor(budget / (RESPONSE_MEMORY.minBytes * RESPONSE_MEMORY.bytesPerResponseByte));
    throw new ConfigError(
      'CMS_CONCURRENCY',
      `${concurrency} CMS answers in flight do not fit in ${memoryMb} MB of function memory; ` +
        `at most ${fits} fit: lower CMS_CONCURRENCY or give the function more memory`,
    );
  }
  return Math.min(cap, RESPONSE_MEMORY.maxBytes);
}
