import { ForbiddenError } from '../errors.js';
import type { Target } from '../model.js';
import type { StatsQuery } from './request.js';

/**
 * Which VDN a query is about, and whether this deployment may answer it. A deployment only holds credentials
 * and a mandate for the VDNs it is configured with (CC_ID/VDN or CMS_TARGETS), so a query may only name one of
 * those; it may, though, ask for any valid skill of such a VDN, not only the skills the collector watches.
 *
 * Missing fields come from the first configured target that agrees with the fields given: with no ccId and no
 * vdn that is the first target; with only a vdn it is the first target of that VDN number; and so on. Without
 * skillIds the target's configured skills are answered.
 */
export function resolveTarget(query: StatsQuery, targets: readonly Target[]): Target {
  const match = targets.find(
    (target) =>
      (query.ccId === undefined || target.ccId === query.ccId) &&
      (query.vdn === undefined || target.vdn === query.vdn),
  );
  if (!match) throw new ForbiddenError(`this deployment does not serve ${describe(query)}`);
  return { ccId: match.ccId, vdn: match.vdn, skillIds: query.skillIds ?? match.skillIds };
}

function describe(query: StatsQuery): string {
  if (query.vdn === undefined) return `any VDN of call center ${query.ccId}`;
  if (query.ccId === undefined) return `VDN ${query.vdn} of any call center`;
  return `VDN ${query.vdn} of call center ${query.ccId}`;
}
