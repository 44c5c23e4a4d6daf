import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { LIB_SHAPE, layerViolations, shapeViolations } from '../scripts/check-layers.js';

const files = (entries: Record<string, string>) => new Map(Object.entries(entries));

describe('the import rule of docs/architecture.md', () => {
  it('lets a folder import the layers below it and its own files', () => {
    const problems = layerViolations(
      files({
        'handlers/query.ts': "import { createQueryHandler } from '../lib/lambda/query.js';",
        'lib/lambda/query.ts': "import { CmsClient } from '../cms/client.js';\nimport { x } from './cms.js';",
        'lib/lambda/cms.ts': "import type { Env } from '../config/rules.js';",
        'lib/cms/client.ts': "import { ConfigError } from '../errors.js';",
      }),
    );
    expect(problems).toEqual([]);
  });

  it('refuses an import that runs upward, naming both files', () => {
    const problems = layerViolations(
      files({ 'lib/errors.ts': "import { x } from './cms/result-codes.js';" }),
    );
    expect(problems).toEqual(['lib/errors.ts imports lib/cms/result-codes.ts: lib/cms is not below lib']);
  });

  it('refuses an import between folders of one layer', () => {
    const problems = layerViolations(
      files({ 'lib/collector/run.ts': "import { renderReport } from '../cli/table.js';" }),
    );
    expect(problems).toEqual([
      'lib/collector/run.ts imports lib/cli/table.ts: lib/cli is not below lib/collector',
    ]);
  });

  it('refuses lib/ importing from outside lib/, dynamic imports included', () => {
    const problems = layerViolations(
      files({ 'lib/metrics/sinks.ts': "const table = await import('../../local/table.js');" }),
    );
    expect(problems).toEqual([
      'lib/metrics/sinks.ts imports local/table.ts: lib/ imports nothing outside lib/',
    ]);
  });

  it('refuses a cycle, even within one layer', () => {
    const problems = layerViolations(
      files({
        'lib/kpi.ts': "import { a } from './model.js';",
        'lib/model.ts': "export { b } from './kpi.js';",
      }),
    );
    expect(problems).toEqual(['import cycle: lib/kpi.ts → lib/model.ts → lib/kpi.ts']);
  });

  it('finds nothing to refuse in the code base, as `npm run lint` checks', () => {
    expect(() => execFileSync('npx', ['tsx', 'scripts/check-layers.ts'], { stdio: 'pipe' })).not.toThrow();
  });
});

describe('the shape of lib/', () => {
  const file = (lines: number) => `${'const x = 1;\n'.repeat(lines)}`;

  it('allows eight files at the top of lib/ and files of 400 lines', () => {
    const files = new Map(Array.from({ length: 8 }, (_, index) => [`lib/f${index}.ts`, file(400)]));
    expect(shapeViolations(files)).toEqual([]);
  });

  it('refuses a ninth file at the top of lib/, naming them', () => {
    const files = new Map(Array.from({ length: 9 }, (_, index) => [`lib/f${index}.ts`, file(1)]));
    expect(shapeViolations(files)).toEqual([
      `lib/ has 9 files at its top, at most ${LIB_SHAPE.topLevelFiles}: ${[...files.keys()].join(', ')}`,
    ]);
  });

  it('refuses a file of lib/ above 400 lines, wherever it is', () => {
    expect(shapeViolations(new Map([['lib/cms/probe.ts', file(401)]]))).toEqual([
      'lib/cms/probe.ts has 401 lines, at most 400',
    ]);
  });
});
