import type { SkillRead } from '../../lib/metrics/otlp-protobuf.js';
import type { Counters } from '../../lib/model.js';

/** A read of one skill of VDN 170 in call center 1, taken `into` ms after its window's start. */
export const skillRead = (
  skillId: number,
  windowStart: number,
  into: number,
  counters: Counters,
): SkillRead => ({
  ccId: 1,
  vdn: 170,
  skillId,
  windowStart,
  readAt: windowStart + into,
  counters,
});
