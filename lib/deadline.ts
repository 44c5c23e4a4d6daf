/** Time kept back from Lambda's remaining time, so that a handler still answers (and logs) before it is stopped. */
export const LAMBDA_SAFETY_MS = 1_000;

/**
 * The deadline (epoch ms) of one invocation that starts at `now`: Lambda's remaining time less LAMBDA_SAFETY_MS,
 * cut shorter by `limitMs` where a setting bounds the work. A direct invocation with a makeshift context may
 * report no usable remaining time: the limit then rules.
 */
export function invocationDeadline(
  remainingMs: number,
  now: number,
  limitMs = Number.POSITIVE_INFINITY,
): number {
  const lambdaBudget = remainingMs - LAMBDA_SAFETY_MS;
  return now + (Number.isFinite(lambdaBudget) ? Math.min(lambdaBudget, limitMs) : limitMs);
}

/** Time kept back at the end of a budget: a share of it, within bounds. */
export interface Reserve {
  readonly share: number;
  readonly minMs: number;
  readonly maxMs: number;
}

/** The deadline of a step that must leave `reserve` of the time from `now` to `deadline` to what comes after it. */
export function deadlineLess(reserve: Reserve, now: number, deadline: number): number {
  const budget = Math.max(0, deadline - now);
  const kept = Math.min(reserve.maxMs, Math.max(reserve.minMs, budget * reserve.share));
  return now + Math.max(0, Math.floor(budget - kept));
}

/** AbortSignal.timeout, like setTimeout, fires at once beyond this, so a longer wait needs no timer. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A signal that aborts, as AbortSignal.timeout does, once `remainingMs` have passed: at once when none are left,
 * never when more are left than a timer can hold.
 */
export function deadlineSignal(remainingMs: number): AbortSignal {
  if (remainingMs <= 0) {
    return AbortSignal.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
  }
  return remainingMs <= MAX_TIMER_MS
    ? AbortSignal.timeout(Math.ceil(remainingMs))
    : new AbortController().signal;
}
