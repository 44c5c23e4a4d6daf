// `npm run lint` runs this: the import rule of docs/architecture.md, checked on every import of lib/ and handlers/,
// and the shape of lib/ (how many files at its top, how long a file may grow).
// Each file has a layer; an import may only point to a lower layer or stay within the file's own folder, and no
// chain of imports may come back to where it started.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Folders from the top down; a folder may import the folders of every later row, never of its own row or above. */
export const LAYERS: readonly (readonly string[])[] = [
  ['handlers'],
  ['lib/lambda'],
  ['lib/collector', 'lib/wallboard', 'lib/cli'],
  ['lib/api'],
  ['lib/metrics'],
  ['lib/cms'],
  ['lib/config'],
  ['lib'],
];

/** The layer of a file (repository-relative, `/`-separated): its row in LAYERS, or undefined outside them. */
export function layerOf(file: string): { readonly folder: string; readonly rank: number } | undefined {
  const folder = posix.dirname(file);
  for (const [rank, row] of LAYERS.entries()) {
    const owner = row.find((candidate) => folder === candidate || folder.startsWith(`${candidate}/`));
    if (owner !== undefined && (owner !== 'lib' || folder === 'lib')) return { folder: owner, rank };
  }
  return undefined;
}

const IMPORT =
  /(?:^|\n)\s*(?:import|export)\b[^'"]*?\bfrom\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

/** The repository-relative files a source imports (relative specifiers only; `.js` maps back to `.ts`). */
export function importsOf(file: string, source: string): string[] {
  const found: string[] = [];
  for (const match of source.matchAll(IMPORT)) {
    const specifier = match[1] ?? match[2];
    if (specifier === undefined || !specifier.startsWith('.')) continue;
    found.push(posix.normalize(posix.join(posix.dirname(file), specifier)).replace(/\.js$/, '.ts'));
  }
  return found;
}

/** Every broken rule among `files` (path → source), in words. */
export function layerViolations(files: ReadonlyMap<string, string>): string[] {
  const problems: string[] = [];
  const graph = new Map<string, string[]>();
  for (const [file, source] of files) {
    const from = layerOf(file);
    const targets = importsOf(file, source);
    graph.set(
      file,
      targets.filter((target) => files.has(target)),
    );
    if (from === undefined) continue;
    for (const target of targets) {
      if (target.startsWith('lib/') || target.startsWith('handlers/')) {
        const to = layerOf(target);
        if (to === undefined) problems.push(`${file} imports ${target}, which is in no layer`);
        else if (to.folder !== from.folder && to.rank <= from.rank)
          problems.push(`${file} imports ${target}: ${to.folder} is not below ${from.folder}`);
      } else if (file.startsWith('lib/')) {
        problems.push(`${file} imports ${target}: lib/ imports nothing outside lib/`);
      }
    }
  }
  for (const cycle of cyclesOf(graph)) problems.push(`import cycle: ${cycle.join(' → ')}`);
  return problems;
}

/** The shape of lib/ that keeps it readable: a few shared files on top, and no file too long to take in. */
export const LIB_SHAPE = { topLevelFiles: 8, linesPerFile: 400 } as const;

/** Every way `files` (path → source) break LIB_SHAPE, in words. */
export function shapeViolations(files: ReadonlyMap<string, string>): string[] {
  const problems: string[] = [];
  const topLevel = [...files.keys()].filter((file) => posix.dirname(file) === 'lib');
  if (topLevel.length > LIB_SHAPE.topLevelFiles) {
    problems.push(
      `lib/ has ${topLevel.length} files at its top, at most ${LIB_SHAPE.topLevelFiles}: ${topLevel.join(', ')}`,
    );
  }
  for (const [file, source] of files) {
    const lines = source.split('\n').length - (source.endsWith('\n') ? 1 : 0);
    if (file.startsWith('lib/') && lines > LIB_SHAPE.linesPerFile)
      problems.push(`${file} has ${lines} lines, at most ${LIB_SHAPE.linesPerFile}`);
  }
  return problems;
}

/** One cycle per strongly connected group of files (Tarjan), as the chain of files that closes it. */
function cyclesOf(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, index.size);
    low.set(node, index.get(node) as number);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node) as number, low.get(next) as number));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node) as number, index.get(next) as number));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const group: string[] = [];
    let member: string | undefined;
    do {
      member = stack.pop() as string;
      onStack.delete(member);
      group.push(member);
    } while (member !== node);
    const selfLoop = (graph.get(node) ?? []).includes(node);
    if (group.length > 1 || selfLoop) cycles.push([...group.reverse(), group[0] as string]);
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return cycles;
}

function sourcesUnder(root: string, folders: readonly string[]): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (folder: string): void => {
    for (const entry of readdirSync(join(root, folder), { withFileTypes: true })) {
      const path = posix.join(folder, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) files.set(path, readFileSync(join(root, path), 'utf8'));
    }
  };
  for (const folder of folders) walk(folder);
  return files;
}

if (process.argv[1] && relative(process.argv[1], fileURLToPath(import.meta.url)) === '') {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const sources = sourcesUnder(root, ['lib', 'handlers']);
  const problems = [...layerViolations(sources), ...shapeViolations(sources)];
  for (const problem of problems) process.stderr.write(`${problem}\n`);
  if (problems.length > 0) {
    process.stderr.write(`${problems.length} problem(s) against the layout of docs/architecture.md\n`);
    process.exit(1);
  }
}
