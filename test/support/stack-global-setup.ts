/**
 * Packages the suite's one stack (PACKAGED) with osls before any test file runs, and hands its output to every
 * test file through `inject('packagedStackDir')`: test files run in separate processes, so this is the one place
 * they can share a packaging.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { packageStack } from './stack-package.js';
import { PACKAGED } from './stack-packaged.js';

export default async function setup(project: TestProject) {
  const entry = await packageStack(PACKAGED);
  // A copy of its own: the cache entry may be replaced or pruned by another run while this one reads it.
  const dir = await mkdtemp(join(tmpdir(), 'cms-packaged-stack-'));
  await cp(entry, dir, { recursive: true });
  project.provide('packagedStackDir', dir);
  return () => rm(dir, { recursive: true, force: true });
}
