import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { createOtlpExport } from '../lib/metrics/otlp-export.js';
import { COUNTERS } from '../lib/model.js';
import { bundleOptions, OTLP_EXPORT } from '../scripts/bundle-options.mjs';
import { type OtlpReceiver, startOtlpReceiver } from './support/otlp-receiver.js';

// The collector's production bundle leaves the OTLP exporter to a file of its own, which only a collector
// configured for OTLP loads.

let directory: string;
let receiver: OtlpReceiver;

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'otlp-bundle-'));
  receiver = await startOtlpReceiver();
  await Promise.all([
    build(bundleOptions({ entry: 'handlers/collector.ts', outfile: join(directory, 'index.mjs') })),
    build(bundleOptions({ entry: OTLP_EXPORT.entry, outfile: join(directory, OTLP_EXPORT.file) })),
  ]);
});

afterAll(async () => {
  await receiver.close();
  rmSync(directory, { recursive: true, force: true });
});

describe('the collector bundle', () => {
  it('carries no OTLP encoder, only the import of the file that has it', () => {
    const main = readFileSync(join(directory, 'index.mjs'), 'utf8');
    expect(main).not.toContain('cec_calls_offered');
    expect(main).toContain(`import("./${OTLP_EXPORT.file}")`);
  });

  it('finds in that file an exporter that sends what the receiver reads with the official schema', async () => {
    const module = (await import(pathToFileURL(join(directory, OTLP_EXPORT.file)).href)) as {
      createOtlpExport: typeof createOtlpExport;
    };
    const exporter = module.createOtlpExport(
      { endpoint: receiver.url, auth: 'none', region: undefined, datapoints: 'window-totals' },
      undefined,
      Date.now,
    );
    const window = Date.UTC(2026, 10, 26, 9, 5);
    const counters = Object.fromEntries(COUNTERS.map(({ name }) => [name, 1])) as never;
    const report = await exporter.export(
      [{ ccId: 1, vdn: 170, skillId: 4, windowStart: window, readAt: window + 1_000, counters }],
      { deadline: Date.now() + 5_000 },
    );
    expect(report).toMatchObject({ points: 8, accepted: 8 });
    expect(receiver.accepted.map((point) => point.name)).toContain('cec_calls_offered');
  });
});
