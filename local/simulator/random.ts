/**
 * Seeded randomness for the traffic model. The same words always give the same stream, on every platform, so a
 * skill's traffic in a window can be regenerated at will instead of stored.
 */

const TWO_32 = 2 ** 32;

/** Murmur3's finalizer: every input bit affects every output bit. */
function fmix32(value: number): number {
  let h = value;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85eb_ca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2_ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A 32-bit hash of a list of safe integers. Each integer contributes its low and high 32-bit halves, so epoch
 * milliseconds (which exceed 32 bits) are hashed in full.
 */
export function hashIntegers(values: readonly number[]): number {
  let h = 0x9e37_79b9;
  for (const value of values) {
    const low = ((value % TWO_32) + TWO_32) % TWO_32;
    const high = Math.floor(value / TWO_32) | 0;
    h = fmix32(Math.imul(h ^ low, 0x27d4_eb2d) + 0x1656_67b1);
    h = fmix32(Math.imul(h ^ high, 0x27d4_eb2d) + 0x1656_67b1);
  }
  return fmix32(h ^ values.length);
}

/** A uniform generator in [0, 1) (mulberry32: tiny, fast, and good enough for simulated traffic). */
export type Random = () => number;

export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b_79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / TWO_32;
  };
}

/** An exponentially distributed sample with the given mean (inverse transform; 1 − u avoids log(0)). */
export function exponential(random: Random, mean: number): number {
  return -mean * Math.log(1 - random());
}
