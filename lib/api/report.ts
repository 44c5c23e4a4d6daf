import { type QueueRollup, type QueueView, queueView } from '../cms/queue-view.js';
import type { VdnRead } from '../cms/vdn-read.js';
import { checkConsistency, computeKpis, ZERO_COUNTERS } from '../kpi.js';
import {
  COUNTERS,
  type CounterName,
  type Counters,
  KPIS,
  type KpiName,
  type Kpis,
  type SkillQueue,
  type SkillStats,
} from '../model.js';

// The JSON view of one VDN's statistics, shared by the CLI (`--json`) and the query API. Every counter and KPI
// key is always present, in contract order, so that clients never have to tell "absent" from "not sent": a KPI
// that cannot be computed (zero denominator or inconsistent counters, see lib/kpi.ts) is null. So is the live
// queue of a skill CMS gave none for, or of every skill when CMS lacks the live queue or it could not be read.

interface SkillView {
  skillId: number;
  /** ISO 8601. */
  windowStart: string;
  counters: Record<CounterName, number>;
  kpis: Record<KpiName, number | null>;
  queue: QueueView | null;
  /** The details of the skill's data-quality warnings; only present when there are some. */
  warnings?: string[];
}

export interface StatsReport {
  ccId: number;
  vdn: number;
  /** By ascending skill id. */
  skills: SkillView[];
  /** Ascending. */
  missingSkillIds: number[];
  rollup: {
    /** Null when CMS returned no skill. */
    windowStart: string | null;
    skillCount: number;
    counters: Record<CounterName, number>;
    kpis: Record<KpiName, number | null>;
    queue: QueueRollup | null;
  };
}

function counterView(counters: Counters): Record<CounterName, number> {
  return Object.fromEntries(COUNTERS.map(({ name }) => [name, counters[name]])) as Record<
    CounterName,
    number
  >;
}

/** KPIs as the API shows them: every one named, an absent one null. */
export function kpiView(kpis: Kpis): Record<KpiName, number | null> {
  return Object.fromEntries(KPIS.map(({ name }) => [name, kpis[name] ?? null])) as Record<
    KpiName,
    number | null
  >;
}

function skillView(skill: SkillStats, queue: SkillQueue | undefined): SkillView {
  const view: SkillView = {
    skillId: skill.skillId,
    windowStart: new Date(skill.windowStart).toISOString(),
    counters: counterView(skill.counters),
    kpis: kpiView(computeKpis(skill.counters)),
    queue: queue === undefined ? null : queueView(queue),
  };
  const warnings = checkConsistency(skill.counters);
  if (warnings.length > 0) view.warnings = warnings.map((warning) => warning.detail);
  return view;
}

/**
 * The report of one read. The live queue's figures are those of the read's live queue when CMS gave one: per
 * skill where CMS answered for the skill, and the VDN's roll-up over every skill it answered for.
 */
export function buildReport(read: VdnRead): StatsReport {
  const { total } = read;
  const liveQueue = read.liveQueue?.kind === 'read' ? read.liveQueue : undefined;
  const queues = new Map(liveQueue?.skills.map((skill) => [skill.skillId, skill]));
  return {
    ccId: read.ccId,
    vdn: read.vdn,
    skills: read.skills.map((skill) => skillView(skill, queues.get(skill.skillId))),
    missingSkillIds: [...read.missingSkillIds],
    rollup: {
      windowStart: total ? new Date(total.windowStart).toISOString() : null,
      skillCount: total?.skillCount ?? 0,
      counters: counterView(total?.counters ?? ZERO_COUNTERS),
      kpis: kpiView(total?.kpis ?? {}),
      queue: liveQueue === undefined ? null : liveQueue.total,
    },
  };
}
