/**
 * The production bundles are minified: what operators read in logs and in Lambda's `errorType` must still be
 * the product's error names, not the minifier's.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleOptions } from '../scripts/bundle-options.mjs';

let directory: string;

beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), 'bundle-names-'));
});

afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
});

async function importBundle(entry: string, env: Record<string, string>): Promise<unknown> {
  const outfile = join(directory, `${entry.replace(/\W/g, '-')}.mjs`);
  await build(bundleOptions({ entry, outfile }));
  const saved = process.env;
  process.env = { ...env };
  try {
    await import(pathToFileURL(outfile).href);
    return undefined;
  } catch (error) {
    return error;
  } finally {
    process.env = saved;
  }
}

describe('the minified Lambda bundles', () => {
  it('keep the name of the error a cold start fails with', async () => {
    const thrown = await importBundle('handlers/query.ts', {});
    expect(thrown).toMatchObject({ name: 'ConfigError', code: 'CONFIG_ERROR', variable: 'CC_ID' });
  });
});
