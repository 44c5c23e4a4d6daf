/**
 * The production bundles are minified: what operators read in logs and in Lambda's `errorType` must still be
 * the product's error names, not the minifier's.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueryHandler } from '../lib/api/service.js';
import { httpApiEvent } from '../local/api-server.js';
import { bundleOptions } from '../scripts/bundle-options.mjs';

let directory: string;

beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), 'bundle-names-'));
});

afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
});

/** Imports a freshly built production bundle of `entry` with `env`: its exports, or what the import threw. */
async function importBundle(
  entry: string,
  env: Record<string, string>,
): Promise<Record<string, unknown> | Error> {
  const outfile = join(directory, `${entry.replace(/\W/g, '-')}-${Object.keys(env).length}.mjs`);
  await build(bundleOptions({ entry, outfile }));
  const saved = process.env;
  process.env = { ...env };
  try {
    return (await import(pathToFileURL(outfile).href)) as Record<string, unknown>;
  } catch (error) {
    return error as Error;
  } finally {
    process.env = saved;
  }
}

describe('the minified Lambda bundles', () => {
  it('keep the name of the error a cold start fails with', async () => {
    const thrown = await importBundle('handlers/query.ts', {});
    expect(thrown).toBeInstanceOf(Error);
    expect(thrown).toMatchObject({ name: 'ConfigError', code: 'CONFIG_ERROR', variable: 'CC_ID' });
  });

  it('log the type of an error a request meets by its class name', async () => {
    const exports = await importBundle('handlers/query.ts', {
      CMS_BASE_URL: 'https://127.0.0.1:9',
      CMS_SECRET_ID: 'cms',
      CC_ID: '1',
      VDN: '170',
      SKILL_IDS: '1-3',
    });
    const handler = (exports as { handler: QueryHandler }).handler;
    const lines: string[] = [];
    const write = process.stdout.write;
    process.stdout.write = ((chunk: string) => lines.push(chunk) > 0) as typeof process.stdout.write;
    try {
      const event = httpApiEvent({ method: 'GET', target: '/call-centers/1/vdns/0170/skills/current-stats' });
      const response = await handler(event, { getRemainingTimeInMillis: () => 10_000 });
      expect(response.statusCode).toBe(400);
    } finally {
      process.stdout.write = write;
    }
    const logged = lines.map((line) => JSON.parse(line)).find((line) => line.message === 'query request');
    expect(logged?.error).toMatchObject({ type: 'ValidationError', code: 'VALIDATION_ERROR' });
  });

  it('leave the terminal table and the local recorders out of the collector', async () => {
    const outfile = join(directory, 'collector-presentation.mjs');
    await build(bundleOptions({ entry: 'handlers/collector.ts', outfile }));
    const bundle = readFileSync(outfile, 'utf8');
    // The table's column headers and the recorders' class names, which the bundles keep.
    for (const text of ['AvgWrap s', 'CLOSING READ', 'HealthRecorder', 'TodayRecorder', 'TableSink'])
      expect(bundle).not.toContain(text);
  });
});
