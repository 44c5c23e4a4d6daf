import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RefusalRules } from '../lib/cms/refusal-budget.js';
import { SIGNATURE_LAYOUT_NAMES } from '../lib/cms/sign.js';
import {
  SignatureNegotiation,
  type SignatureSetting,
  type SignatureVerdict,
  type SigningTurn,
} from '../lib/cms/signature-negotiation.js';
import { CmsAuthError, CmsSigningPausedError, CmsSigningReservedError } from '../lib/errors.js';

const never = new AbortController().signal;
const RULES: RefusalRules = { limit: 4, periodMs: 900_000 };
const KEY_PAIR = { accessKey: 'ak', secretKey: 'sk' };

/** A negotiation on a clock the test moves. */
function negotiationOnClock(setting: SignatureSetting, log?: ReturnType<typeof recordingLog>['log']) {
  const clock = { at: 1_000_000 };
  return { clock, negotiation: new SignatureNegotiation(setting, RULES, () => clock.at, log) };
}

function negotiation(setting: SignatureSetting, log?: ReturnType<typeof recordingLog>['log']) {
  return negotiationOnClock(setting, log).negotiation;
}

/** Takes a turn and settles it with `verdict`; the layout it was signed in. */
async function answered(of: SignatureNegotiation, verdict: SignatureVerdict): Promise<string> {
  const turn = await of.turn(never);
  turn.settle(verdict, KEY_PAIR);
  return turn.layoutName;
}

function recordingLog() {
  const lines: { level: 'debug' | 'warn'; message: string; fields: Record<string, unknown> }[] = [];
  return {
    lines,
    log: {
      debug: (message: string, fields: Record<string, unknown> = {}) =>
        lines.push({ level: 'debug', message, fields }),
      warn: (message: string, fields: Record<string, unknown> = {}) =>
        lines.push({ level: 'warn', message, fields }),
    },
  };
}

/** Whether `promise` has settled after the pending microtasks ran. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

/** Every verdict a request can meet; CMS may have counted it as refused unless it was accepted or never sent. */
const VERDICTS = fc.constantFrom<SignatureVerdict>(
  'accepted',
  'refused',
  'refusedKeyPair',
  'unknown',
  'notRefused',
);

/** One step of a played sequence: time passes, more requests ask for a turn, the oldest in flight is answered. */
interface Step {
  readonly elapsedMs: number;
  readonly requests: number;
  readonly optional: boolean;
  readonly verdict: SignatureVerdict;
}

/**
 * Plays `steps` against a negotiation on a test clock, counting what CMS may have counted as refused: the charged
 * answers of the last period and every request still in flight (each could yet be refused). Each request asks
 * with a signal of its own, as its call would. Unknown outcomes are never refunded here: each answer comes with a
 * key pair of its own. `onTurn` hears each turn as it is given, `afterStep` each step once its answer is settled.
 */
async function play(
  setting: SignatureSetting,
  steps: readonly Step[],
  hooks: {
    readonly onTurn?: (optional: boolean, counted: number) => void;
    readonly afterStep?: (counted: number) => void;
  },
): Promise<number> {
  const { clock, negotiation: under } = negotiationOnClock(setting);
  const inFlight: SigningTurn[] = [];
  const charged: number[] = [];
  const counted = () => charged.filter((at) => clock.at - at < RULES.periodMs).length + inFlight.length;
  for (const [index, step] of steps.entries()) {
    clock.at += step.elapsedMs;
    for (let request = 0; request < step.requests; request += 1) {
      under.turn(new AbortController().signal, step.optional).then(
        (turn) => {
          inFlight.push(turn);
          hooks.onTurn?.(step.optional, counted());
        },
        () => undefined,
      );
    }
    await new Promise((resolve) => setImmediate(resolve));
    const answered = inFlight.shift();
    if (!answered) continue;
    if (step.verdict !== 'accepted' && step.verdict !== 'notRefused') charged.push(clock.at);
    answered.settle(step.verdict, { ...KEY_PAIR, secretKey: String(index) });
    await new Promise((resolve) => setImmediate(resolve));
    hooks.afterStep?.(counted());
  }
  return counted();
}

describe('signature negotiation', () => {
  it('starts with Huawei’s reference layout', async () => {
    const turn = await negotiation('auto').turn(never);
    expect(turn.layoutName).toBe('huawei-reference');
  });

  it('tries each layout once, in order, while CMS refuses them', async () => {
    const auto = negotiation('auto');
    const tried: string[] = [];
    for (const _ of SIGNATURE_LAYOUT_NAMES) tried.push(await answered(auto, 'refused'));
    expect(tried).toEqual(SIGNATURE_LAYOUT_NAMES);
  });

  it('signs nothing once every layout was refused, and says until when', async () => {
    const { clock, negotiation: auto } = negotiationOnClock('auto');
    for (const _ of SIGNATURE_LAYOUT_NAMES) await answered(auto, 'refused');
    const paused = await auto.turn(never).catch((error: unknown) => error);
    expect(paused).toBeInstanceOf(CmsSigningPausedError);
    expect(paused).toMatchObject({ code: 'CMS_SIGNING_PAUSED', resumesAt: clock.at + RULES.periodMs });
    expect((paused as Error).message).toMatch(/in every layout .*nothing is signed until /);
    expect(auto.mayTryAnotherLayout).toBe(false);
  });

  it('starts the search again from the first layout once the period has passed', async () => {
    const { clock, negotiation: auto } = negotiationOnClock('auto');
    for (const _ of SIGNATURE_LAYOUT_NAMES) await answered(auto, 'refused');
    clock.at += RULES.periodMs - 1;
    await expect(auto.turn(never)).rejects.toThrow(CmsSigningPausedError);
    clock.at += 1;
    expect(await answered(auto, 'accepted')).toBe('huawei-reference');
    expect(await answered(auto, 'refused')).toBe('huawei-reference');
  });

  it('pauses a pinned layout after CMS_REFUSAL_LIMIT refusals, and resumes by itself as they age out', async () => {
    const { clock, negotiation: pinned } = negotiationOnClock('empty-query-line');
    for (let index = 0; index < RULES.limit; index += 1) {
      await answered(pinned, 'refused');
      clock.at += 1_000;
    }
    const paused = await pinned.turn(never).catch((error: unknown) => error);
    expect(paused).toMatchObject({ resumesAt: 1_000_000 + RULES.periodMs });
    expect((paused as Error).message).toMatch(
      /^4 signed requests were refused \(HTTP 401\) or got no answer/,
    );
    clock.at = 1_000_000 + RULES.periodMs;
    expect(await answered(pinned, 'accepted')).toBe('empty-query-line');
  });

  it('charges a request without a clear answer, and refunds it when the next one is accepted', async () => {
    const pinned = negotiation('huawei-reference');
    for (let index = 0; index < RULES.limit - 1; index += 1) await answered(pinned, 'unknown');
    await answered(pinned, 'accepted');
    for (let index = 0; index < RULES.limit; index += 1) await answered(pinned, 'unknown');
    await expect(pinned.turn(never)).rejects.toThrow(CmsSigningPausedError);
  });

  it('charges nothing for a request that never reached CMS', async () => {
    const pinned = negotiation('huawei-reference');
    for (let index = 0; index < 10 * RULES.limit; index += 1) await answered(pinned, 'notRefused');
    expect(await answered(pinned, 'accepted')).toBe('huawei-reference');
  });

  it('keeps the first accepted layout for good, even when CMS refuses a later request', async () => {
    const auto = negotiation('auto');
    await answered(auto, 'refused');
    await answered(auto, 'accepted');
    await answered(auto, 'refused');
    expect((await auto.turn(never)).layoutName).toBe('empty-query-line-millis');
    expect(auto.mayTryAnotherLayout).toBe(false);
  });

  it('does not blame the layout for a refusal explained by a rotated key pair, but charges it', async () => {
    const auto = negotiation('auto');
    for (let index = 0; index < RULES.limit - 1; index += 1) await answered(auto, 'refusedKeyPair');
    expect(await answered(auto, 'refusedKeyPair')).toBe('huawei-reference');
    await expect(auto.turn(never)).rejects.toThrow(CmsSigningPausedError);
  });

  it('never leaves a pinned layout', async () => {
    const pinned = negotiation('huawei-reference-millis');
    await answered(pinned, 'refused');
    expect(pinned.mayTryAnotherLayout).toBe(false);
    expect((await pinned.turn(never)).layoutName).toBe('huawei-reference-millis');
    expect(pinned.refusedError()).toBeInstanceOf(CmsAuthError);
    expect(pinned.refusedError().message).toContain('CMS_SIGNATURE=huawei-reference-millis');
  });

  it('lets one request at a time through until CMS accepts a signature', async () => {
    const auto = negotiation('auto');
    const first = await auto.turn(never);
    const second = auto.turn(never);
    expect(await settled(second)).toBe(false);
    first.settle('accepted', KEY_PAIR);
    expect(await settled(second)).toBe(true);
  });

  it('lets as many requests through as the budget has room for once a signature was accepted', async () => {
    const auto = negotiation('auto');
    await answered(auto, 'accepted');
    const turns = await Promise.all(Array.from({ length: RULES.limit }, () => auto.turn(never)));
    const waiting = auto.turn(never);
    expect(await settled(waiting)).toBe(false);
    // The requests in flight all end without a clear answer: the budget is spent and the waiting one is told.
    for (const turn of turns) turn.settle('unknown', KEY_PAIR);
    await expect(waiting).rejects.toThrow(CmsSigningPausedError);
  });

  it('goes back to one request at a time after a refusal', async () => {
    const auto = negotiation('auto');
    await answered(auto, 'accepted');
    await answered(auto, 'refused');
    await auto.turn(never);
    expect(await settled(auto.turn(never))).toBe(false);
  });

  it('stops a waiting request with the reason of its aborted signal', async () => {
    const auto = negotiation('auto');
    await auto.turn(never);
    const controller = new AbortController();
    const waiting = auto.turn(controller.signal);
    const reason = new Error('deadline');
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
  });

  it('logs at WARN, once, the layout CMS accepted after refusals and the setting that pins it', async () => {
    const { lines, log } = recordingLog();
    const auto = negotiation('auto', log);
    await answered(auto, 'refused');
    await answered(auto, 'accepted');
    await answered(auto, 'accepted');
    expect(lines).toEqual([
      {
        level: 'warn',
        message:
          'CMS accepted the C2 signature layout empty-query-line-millis after refusing 1; set CMS_SIGNATURE=empty-query-line-millis to pin it',
        fields: {
          signatureLayout: 'empty-query-line-millis',
          refusedSignatures: 1,
          pin: 'CMS_SIGNATURE=empty-query-line-millis',
        },
      },
    ]);
  });

  it('logs at DEBUG when the first layout was accepted, and nothing for a pinned layout', async () => {
    const auto = recordingLog();
    await answered(negotiation('auto', auto.log), 'accepted');
    expect(auto.lines.map((line) => line.level)).toEqual(['debug']);
    const pinned = recordingLog();
    await answered(negotiation('empty-query-line', pinned.log), 'accepted');
    expect(pinned.lines).toEqual([]);
  });

  it('never has more requests refused or in flight than the limit within a period, whatever the requests, verdicts and time', async () => {
    const setting = fc.constantFrom<SignatureSetting>('auto', ...SIGNATURE_LAYOUT_NAMES);
    const step = fc.record({
      elapsedMs: fc.nat(RULES.periodMs / 3),
      requests: fc.nat(5),
      optional: fc.constant(false),
      verdict: VERDICTS,
    });
    await fc.assert(
      fc.asyncProperty(setting, fc.array(step, { maxLength: 60 }), async (chosen, steps) => {
        const atEnd = await play(chosen, steps, {
          afterStep: (counted) => expect(counted).toBeLessThanOrEqual(RULES.limit),
        });
        // Every request in flight could still be refused: even then the bound holds.
        expect(atEnd).toBeLessThanOrEqual(RULES.limit);
      }),
      { numRuns: 300 },
    );
  });

  describe('optional requests (the live queue)', () => {
    it('wait while they could take the last free charge, and go once a request in flight is accepted', async () => {
      const under = negotiation('auto');
      await answered(under, 'accepted');
      const required = await Promise.all([1, 2, 3].map(() => under.turn(never)));
      const optional = under.turn(never, true);
      expect(await settled(optional)).toBe(false);
      required[0]?.settle('accepted', KEY_PAIR);
      expect(await settled(optional)).toBe(true);
    });

    it('are refused while one charge is all that is left, which the counters still get', async () => {
      const { clock, negotiation: under } = negotiationOnClock('auto');
      await answered(under, 'accepted');
      for (let index = 1; index < RULES.limit; index += 1) await answered(under, 'refusedKeyPair');
      const held = await under.turn(never, true).catch((error: unknown) => error);
      expect(held).toBeInstanceOf(CmsSigningReservedError);
      expect(held).toMatchObject({ code: 'CMS_SIGNING_RESERVED', resumesAt: clock.at + RULES.periodMs });
      expect(await settled(under.turn(never))).toBe(true);
    });

    it('are signed again once the refused charges have aged out', async () => {
      const { clock, negotiation: under } = negotiationOnClock('auto');
      await answered(under, 'accepted');
      for (let index = 1; index < RULES.limit; index += 1) await answered(under, 'refusedKeyPair');
      await expect(under.turn(never, true)).rejects.toBeInstanceOf(CmsSigningReservedError);
      clock.at += RULES.periodMs;
      expect(await settled(under.turn(never, true))).toBe(true);
    });

    it('are never signed with CMS_REFUSAL_LIMIT=1, which leaves no charge to spare', async () => {
      const under = new SignatureNegotiation('huawei-reference', { limit: 1, periodMs: 60_000 }, () => 0);
      const held = await under.turn(never, true).catch((error: unknown) => error);
      expect(held).toMatchObject({ code: 'CMS_SIGNING_RESERVED', resumesAt: undefined });
      expect(await settled(under.turn(never))).toBe(true);
    });

    it('never take a turn that could spend the last free charge, whatever the requests and verdicts', async () => {
      const step = fc.record({
        elapsedMs: fc.nat(RULES.periodMs / 2),
        requests: fc.nat(3),
        optional: fc.boolean(),
        verdict: VERDICTS,
      });
      await fc.assert(
        fc.asyncProperty(fc.array(step, { maxLength: 40 }), async (steps) => {
          // Were the optional request and every one in flight refused, how many charges would be taken.
          let worstAfterOptional = 0;
          await play('huawei-reference', steps, {
            onTurn: (optional, counted) => {
              if (optional) worstAfterOptional = Math.max(worstAfterOptional, counted);
            },
          });
          expect(worstAfterOptional).toBeLessThan(RULES.limit);
        }),
        { numRuns: 300 },
      );
    });
  });
});
