import { ForbiddenError, ValidationError } from '../errors.js';
import type { Target } from '../model.js';
import type { QueryLimits, StatsQuery } from './request.js';

/**
 * Whether this deployment may answer a query, and for which skills. A deployment only holds credentials and a
 * mandate for the VDNs it is configured with (CC_ID/VDN or CMS_TARGETS), so a query may only name one of those;
 * it may, though, ask for any valid skill of such a VDN, not only the skills the collector watches. Without
 * skillIds the VDN's configured skills are answered, within the same QUERY_MAX_SKILLS as a list the caller names.
 */
export function resolveTarget(query: StatsQuery, targets: readonly Target[], limits: QueryLimits): Target {
  const match = targets.find((target) => target.ccId === query.ccId && target.vdn === query.vdn);
  if (!match) {
    throw new ForbiddenError(`this deployment does not serve VDN ${query.vdn} of call center ${query.ccId}`);
  }
  const skillIds = query.skillIds ?? match.skillIds;
  if (query.skillIds === undefined && skillIds.length > limits.maxSkills) {
    throw new ValidationError(
      'skillIds',
      `is required for this VDN: its ${skillIds.length} configured skills are more than the ${limits.maxSkills} a query may name`,
    );
  }
  return { ccId: match.ccId, vdn: match.vdn, skillIds };
}
