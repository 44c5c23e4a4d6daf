/**
 * Where a V8 CPU profile (the `.cpuprofile` format of `node --cpu-prof` and of the inspector's Profiler) spent
 * its time: by function (self time) and by source file or package (time spent in it or in anything it called).
 */

export interface CpuProfile {
  readonly nodes: readonly {
    readonly id: number;
    readonly callFrame: {
      readonly functionName: string;
      readonly url: string;
      readonly lineNumber: number;
    };
    readonly children?: readonly number[];
  }[];
  readonly samples: readonly number[];
  /** Microseconds since the previous sample. */
  readonly timeDeltas: readonly number[];
}

export interface ProfileSummary {
  /** Sampled time, idle excluded. */
  readonly busyMs: number;
  readonly idleMs: number;
  /** Largest first. */
  readonly selfByFunction: readonly { readonly name: string; readonly where: string; readonly ms: number }[];
  /** Largest first; a file counts once per sample however deep it recurs. */
  readonly inclusiveBySource: readonly { readonly source: string; readonly ms: number }[];
}

/** `@scope/pkg` or `pkg` for dependencies, the path inside the repository for our own files, else undefined. */
export function sourceOf(url: string, repoRoot: string): string | undefined {
  const dependency = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (dependency) return dependency[1];
  const path = url.startsWith('file://') ? decodeURIComponent(new URL(url).pathname) : url;
  const root = repoRoot.endsWith('/') ? repoRoot : `${repoRoot}/`;
  return path.startsWith(root) ? path.slice(root.length) : undefined;
}

function shortWhere(url: string, repoRoot: string): string {
  return sourceOf(url, repoRoot) ?? (url === '' ? '(native)' : url);
}

export function summarizeProfile(profile: CpuProfile, repoRoot: string, top = 25): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);

  const timeById = new Map<number, number>();
  profile.samples.forEach((id, index) => {
    timeById.set(id, (timeById.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0));
  });

  let idleUs = 0;
  let busyUs = 0;
  const self = new Map<string, { name: string; where: string; us: number }>();
  const inclusive = new Map<string, number>();
  for (const [id, us] of timeById) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    busyUs += us;
    const where = shortWhere(url, repoRoot);
    const key = `${functionName}\u0000${where}\u0000${lineNumber}`;
    const entry = self.get(key) ?? { name: functionName || '(anonymous)', where, us: 0 };
    entry.us += us;
    self.set(key, entry);

    const seen = new Set<string>();
    for (let current: number | undefined = id; current !== undefined; current = parentOf.get(current)) {
      const source = sourceOf(byId.get(current)?.callFrame.url ?? '', repoRoot);
      if (source === undefined || seen.has(source)) continue;
      seen.add(source);
      inclusive.set(source, (inclusive.get(source) ?? 0) + us);
    }
  }
  return {
    busyMs: busyUs / 1_000,
    idleMs: idleUs / 1_000,
    selfByFunction: [...self.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map(({ name, where, us }) => ({ name, where, ms: us / 1_000 })),
    inclusiveBySource: [...inclusive]
      .sort(([, a], [, b]) => b - a)
      .slice(0, top)
      .map(([source, us]) => ({ source, ms: us / 1_000 })),
  };
}

export function formatSummary(summary: ProfileSummary): string {
  const row = (ms: number, text: string): string => `${ms.toFixed(1).padStart(9)} ms  ${text}`;
  return [
    `busy ${summary.busyMs.toFixed(0)} ms, idle ${summary.idleMs.toFixed(0)} ms`,
    '',
    'self time by function:',
    ...summary.selfByFunction.map((entry) => row(entry.ms, `${entry.name}  (${entry.where})`)),
    '',
    'time in each source file or package, callees included:',
    ...summary.inclusiveBySource.map((entry) => row(entry.ms, entry.source)),
  ].join('\n');
}
