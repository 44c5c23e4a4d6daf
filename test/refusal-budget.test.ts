import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ChargeOutcome,
  RefusalBudget,
  type RefusalRules,
  type SettleCharge,
  type Signer,
} from '../lib/cms/refusal-budget.js';

const RULES: RefusalRules = { limit: 4, periodMs: 900_000 };

function budgetOnClock(rules: RefusalRules = RULES) {
  const clock = { at: 0 };
  return { clock, budget: new RefusalBudget(rules, () => clock.at) };
}

const signer = (secretKey: string, layoutName: Signer['layoutName'] = 'huawei-reference'): Signer => ({
  keyPair: { accessKey: 'ak', secretKey },
  layoutName,
});
const GOOD = signer('good');

/** A charge taken and settled at once. */
function charge(budget: RefusalBudget, outcome: ChargeOutcome, by: Signer = GOOD): void {
  const settle = budget.reserve();
  if (!settle) throw new Error('the budget is spent');
  settle(outcome, by);
}

describe('refusal budget', () => {
  it('counts a request in flight against the budget before its outcome is known', () => {
    const { budget } = budgetOnClock();
    for (let index = 0; index < RULES.limit; index += 1) expect(budget.reserve()).toBeDefined();
    expect(budget.room).toBe(0);
    expect(budget.reserve()).toBeUndefined();
  });

  it('frees the charge of an accepted request and of one that was never sent', () => {
    const { budget } = budgetOnClock();
    charge(budget, 'accepted');
    charge(budget, 'notRefused');
    expect(budget.room).toBe(RULES.limit);
  });

  it('keeps a refusal charged for a whole period after its answer, then frees it by itself', () => {
    const { clock, budget } = budgetOnClock();
    clock.at = 1_000;
    charge(budget, 'refused');
    clock.at += RULES.periodMs - 1;
    expect(budget.room).toBe(RULES.limit - 1);
    clock.at += 1;
    expect(budget.room).toBe(RULES.limit);
  });

  it('says when a spent budget has room again: a period after its oldest charge', () => {
    const { clock, budget } = budgetOnClock();
    for (let index = 0; index < RULES.limit; index += 1) {
      clock.at = 1_000 * (index + 1);
      charge(budget, index % 2 === 0 ? 'refused' : 'unknown');
    }
    expect(budget.room).toBe(0);
    expect(budget.resumesAt).toBe(1_000 + RULES.periodMs);
  });

  it('refunds unknown outcomes when a later request of the same key pair and layout is accepted', () => {
    const { budget } = budgetOnClock();
    charge(budget, 'unknown');
    charge(budget, 'unknown');
    charge(budget, 'refused');
    charge(budget, 'accepted');
    expect(budget.room).toBe(RULES.limit - 1);
  });

  it('refunds nothing for an acceptance of another key pair or another layout', () => {
    const { budget } = budgetOnClock();
    charge(budget, 'unknown', signer('old'));
    charge(budget, 'unknown', signer('good', 'empty-query-line'));
    charge(budget, 'accepted', GOOD);
    expect(budget.room).toBe(RULES.limit - 2);
  });

  it('refunds nothing still in flight when the acceptance comes: its outcome is not known yet', () => {
    const { budget } = budgetOnClock();
    const slow = budget.reserve();
    charge(budget, 'accepted');
    slow?.('unknown', GOOD);
    expect(budget.room).toBe(RULES.limit - 1);
  });

  it('settles a charge once, whatever is reported after', () => {
    const { budget } = budgetOnClock();
    const settle = budget.reserve();
    settle?.('refused', GOOD);
    settle?.('accepted', GOOD);
    settle?.('notRefused', GOOD);
    expect(budget.room).toBe(RULES.limit - 1);
  });

  it('holds a charge longer, never shorter, when the clock is set back', () => {
    const { clock, budget } = budgetOnClock();
    clock.at = 10 * RULES.periodMs;
    charge(budget, 'refused');
    clock.at = 0;
    expect(budget.room).toBe(RULES.limit - 1);
  });
});

// --- the bound, as CMS counts it ------------------------------------------------------------------------------

/**
 * The property's world: each signer is one CMS accepts or one it refuses, for the whole run. A request of a good
 * signer may still meet a spurious 401, which CMS counts; its unknown outcomes were acceptances (which is what
 * lets an acceptance refund them). Every request that was sent reaches CMS at some moment between its
 * reservation and its settlement.
 */
const SIGNERS = [signer('good'), signer('good', 'empty-query-line'), signer('wrong'), signer('rotated-away')];
/** Which of SIGNERS CMS accepts. */
const CMS_ACCEPTS = [true, false, false, true];

const steps = fc.array(
  fc.oneof(
    fc.record({ kind: fc.constant('reserve' as const), signer: fc.nat(SIGNERS.length - 1) }),
    fc.record({
      kind: fc.constant('settle' as const),
      which: fc.nat(8),
      seen: fc.constantFrom<ChargeOutcome>('accepted', 'refused', 'unknown', 'notRefused'),
      arrival: fc.double({ min: 0, max: 1, noNaN: true }),
    }),
    fc.record({ kind: fc.constant('advance' as const), ms: fc.nat(400) }),
  ),
  { maxLength: 200 },
);

/** The most arrivals within any `periodMs`. */
function busiestPeriod(arrivals: readonly number[], periodMs: number): number {
  const sorted = [...arrivals].sort((a, b) => a - b);
  let most = 0;
  let first = 0;
  for (let last = 0; last < sorted.length; last += 1) {
    while ((sorted[last] ?? 0) - (sorted[first] ?? 0) >= periodMs) first += 1;
    most = Math.max(most, last - first + 1);
  }
  return most;
}

describe('refusal budget: the bound', () => {
  it('never lets more than the limit of refusals reach CMS within any period, and refills by itself', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 1_000 }),
        steps,
        (limit, periodMs, plan) => {
          const { clock, budget } = budgetOnClock({ limit, periodMs });
          const inFlight: { settle: SettleCharge; signer: number; reservedAt: number }[] = [];
          const refusalsAtCms: number[] = [];
          for (const step of plan) {
            if (step.kind === 'advance') clock.at += step.ms;
            if (step.kind === 'reserve') {
              const settle = budget.reserve();
              if (settle) inFlight.push({ settle, signer: step.signer, reservedAt: clock.at });
              else expect(budget.room).toBe(0);
            }
            if (step.kind === 'settle' && inFlight.length > 0) {
              const [request] = inFlight.splice(step.which % inFlight.length, 1);
              if (!request) continue;
              const accepts = CMS_ACCEPTS[request.signer];
              // What the client may see of what CMS did: an acceptance only from a signer CMS accepts, a refusal
              // from either (a spurious 401), no answer, or no connection or another status (which CMS did not count).
              const seen = step.seen === 'accepted' && !accepts ? 'refused' : step.seen;
              const refused = seen === 'refused' || (seen === 'unknown' && !accepts);
              const arrival = request.reservedAt + step.arrival * (clock.at - request.reservedAt);
              if (refused) refusalsAtCms.push(arrival);
              request.settle(seen, SIGNERS[request.signer] ?? GOOD);
            }
            expect(budget.room).toBeGreaterThanOrEqual(0);
          }
          // Requests still in flight may all turn out to be refusals, reaching CMS right now.
          const worstCase = [...refusalsAtCms, ...inFlight.map(() => clock.at)];
          expect(busiestPeriod(worstCase, periodMs)).toBeLessThanOrEqual(limit);
          for (const request of inFlight) request.settle('refused', GOOD);
          clock.at += periodMs;
          expect(budget.room).toBe(limit);
        },
      ),
      { numRuns: 500 },
    );
  });
});
