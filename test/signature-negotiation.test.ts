import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SIGNATURE_LAYOUT_NAMES } from '../lib/cms/sign.js';
import {
  MAX_REFUSED_SIGNATURES,
  SignatureNegotiation,
  type SignatureSetting,
  type SignatureVerdict,
  type SigningTurn,
} from '../lib/cms/signature-negotiation.js';
import { CmsAuthError } from '../lib/errors.js';

const never = new AbortController().signal;

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

const verdict = fc.constantFrom<SignatureVerdict>('accepted', 'refused', 'refusedKeyPair', 'unknown');

/**
 * Drives a negotiation through `steps`: at each, `extra` more requests (optional or not) ask for a turn, each
 * with a signal of its own as its call would have, and the oldest request in flight is answered with the
 * step's verdict. `observe` hears, whenever a turn is granted or a verdict given, how many refusals could be
 * caused at worst (those sent plus every request in flight), and whether the granted turn was optional.
 */
async function drive(
  negotiation: SignatureNegotiation,
  steps: readonly (readonly [extra: number, optional: boolean, outcome: SignatureVerdict])[],
  observe: (worstRefusals: number, optional: boolean) => void,
): Promise<void> {
  const inFlight: SigningTurn[] = [];
  let refusedSent = 0;
  for (const [extra, optional, outcome] of steps) {
    for (let index = 0; index < extra; index += 1) {
      negotiation.turn(new AbortController().signal, optional).then(
        (turn) => {
          inFlight.push(turn);
          observe(refusedSent + inFlight.length, optional);
        },
        () => undefined,
      );
    }
    await new Promise((resolve) => setImmediate(resolve));
    const answered = inFlight.shift();
    if (!answered) continue;
    if (outcome === 'refused' || outcome === 'refusedKeyPair') refusedSent += 1;
    answered.settle(outcome);
    await new Promise((resolve) => setImmediate(resolve));
    observe(refusedSent + inFlight.length, false);
  }
}

describe('signature negotiation', () => {
  it('starts with Huawei’s reference layout', async () => {
    const turn = await new SignatureNegotiation('auto').turn(never);
    expect(turn.layoutName).toBe('huawei-reference');
  });

  it('tries each layout once, in order, while CMS refuses them', async () => {
    const negotiation = new SignatureNegotiation('auto');
    const tried: string[] = [];
    for (let index = 0; index < SIGNATURE_LAYOUT_NAMES.length; index += 1) {
      const turn = await negotiation.turn(never);
      tried.push(turn.layoutName);
      turn.settle('refused');
    }
    expect(tried).toEqual(SIGNATURE_LAYOUT_NAMES);
  });

  it('refuses to sign a fifth time once every layout was refused', async () => {
    const negotiation = new SignatureNegotiation('auto');
    for (let index = 0; index < 4; index += 1) (await negotiation.turn(never)).settle('refused');
    await expect(negotiation.turn(never)).rejects.toThrow(CmsAuthError);
    await expect(negotiation.turn(never)).rejects.toThrow(/refused 4 request signatures/);
    expect(negotiation.mayTryAnotherLayout).toBe(false);
  });

  it('keeps the first accepted layout for good, even when CMS refuses a later request', async () => {
    const negotiation = new SignatureNegotiation('auto');
    (await negotiation.turn(never)).settle('refused');
    (await negotiation.turn(never)).settle('accepted');
    (await negotiation.turn(never)).settle('refused');
    expect((await negotiation.turn(never)).layoutName).toBe('empty-query-line-millis');
    expect(negotiation.mayTryAnotherLayout).toBe(false);
  });

  it('does not blame the layout for a refusal explained by a rotated key pair', async () => {
    const negotiation = new SignatureNegotiation('auto');
    (await negotiation.turn(never)).settle('refusedKeyPair');
    expect((await negotiation.turn(never)).layoutName).toBe('huawei-reference');
    expect(negotiation.refusals).toBe(1);
  });

  it('never leaves a pinned layout', async () => {
    const negotiation = new SignatureNegotiation('huawei-reference-millis');
    (await negotiation.turn(never)).settle('refused');
    expect(negotiation.mayTryAnotherLayout).toBe(false);
    expect((await negotiation.turn(never)).layoutName).toBe('huawei-reference-millis');
    expect(negotiation.refusedError().message).toContain('CMS_SIGNATURE=huawei-reference-millis');
  });

  it('lets one request at a time through until CMS accepts a signature', async () => {
    const negotiation = new SignatureNegotiation('auto');
    const first = await negotiation.turn(never);
    const second = negotiation.turn(never);
    expect(await settled(second)).toBe(false);
    first.settle('accepted');
    expect(await settled(second)).toBe(true);
  });

  it('lets as many requests through as refusals are left once a signature was accepted', async () => {
    const negotiation = new SignatureNegotiation('auto');
    (await negotiation.turn(never)).settle('accepted');
    const turns = await Promise.all(
      Array.from({ length: MAX_REFUSED_SIGNATURES }, () => negotiation.turn(never)),
    );
    expect(await settled(negotiation.turn(never))).toBe(false);
    for (const turn of turns) turn.settle('unknown');
  });

  it('goes back to one request at a time after a refusal', async () => {
    const negotiation = new SignatureNegotiation('auto');
    (await negotiation.turn(never)).settle('accepted');
    (await negotiation.turn(never)).settle('refused');
    await negotiation.turn(never);
    expect(await settled(negotiation.turn(never))).toBe(false);
  });

  it('stops a waiting request with the reason of its aborted signal', async () => {
    const negotiation = new SignatureNegotiation('auto');
    await negotiation.turn(never);
    const controller = new AbortController();
    const waiting = negotiation.turn(controller.signal);
    const reason = new Error('deadline');
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
  });

  it('logs at WARN, once, the layout CMS accepted after refusals and the setting that pins it', async () => {
    const { lines, log } = recordingLog();
    const negotiation = new SignatureNegotiation('auto', log);
    (await negotiation.turn(never)).settle('refused');
    (await negotiation.turn(never)).settle('accepted');
    (await negotiation.turn(never)).settle('accepted');
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
    (await new SignatureNegotiation('auto', auto.log).turn(never)).settle('accepted');
    expect(auto.lines.map((line) => line.level)).toEqual(['debug']);
    const pinned = recordingLog();
    (await new SignatureNegotiation('empty-query-line', pinned.log).turn(never)).settle('accepted');
    expect(pinned.lines).toEqual([]);
  });

  it('never causes more than four refused signatures, whatever the requests and verdicts', async () => {
    const setting = fc.constantFrom<SignatureSetting>('auto', ...SIGNATURE_LAYOUT_NAMES);
    await fc.assert(
      fc.asyncProperty(
        setting,
        fc.array(fc.tuple(fc.nat(5), verdict), { maxLength: 60 }),
        async (chosen, steps) => {
          let worst = 0;
          await drive(
            new SignatureNegotiation(chosen),
            steps.map(([extra, outcome]) => [extra, false, outcome] as const),
            // Every request in flight could still be refused: even then the bound holds.
            (sent) => {
              worst = Math.max(worst, sent);
            },
          );
          expect(worst).toBeLessThanOrEqual(MAX_REFUSED_SIGNATURES);
        },
      ),
      { numRuns: 300 },
    );
  });

  describe('optional requests (the live queue)', () => {
    it('wait while they could take the last refusal left, and go once they cannot', async () => {
      const negotiation = new SignatureNegotiation('auto');
      (await negotiation.turn(never)).settle('accepted');
      const required = await Promise.all([1, 2, 3].map(() => negotiation.turn(never)));
      const optional = negotiation.turn(never, true);
      expect(await settled(optional)).toBe(false);
      required[0]?.settle('accepted');
      expect(await settled(optional)).toBe(true);
    });

    it('are refused at once when one refusal is all that is left, which the statistics still get', async () => {
      const negotiation = new SignatureNegotiation('auto');
      (await negotiation.turn(never)).settle('accepted');
      for (let index = 0; index < MAX_REFUSED_SIGNATURES - 1; index += 1) {
        (await negotiation.turn(never)).settle('refusedKeyPair');
      }
      await expect(negotiation.turn(never, true)).rejects.toThrow(/kept for the statistics/);
      expect(await settled(negotiation.turn(never))).toBe(true);
    });

    it('never take a turn that could spend the last refusal, whatever the requests and verdicts', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.tuple(fc.nat(3), fc.boolean(), verdict), { maxLength: 40 }),
          async (steps) => {
            let worstAfterOptional = 0;
            await drive(new SignatureNegotiation('huawei-reference'), steps, (sent, optional) => {
              if (optional) worstAfterOptional = Math.max(worstAfterOptional, sent);
            });
            expect(worstAfterOptional).toBeLessThan(MAX_REFUSED_SIGNATURES);
          },
        ),
        { numRuns: 300 },
      );
    });
  });
});
