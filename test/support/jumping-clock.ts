/**
 * The clock of runs that wait (the collector's closing read): real time shifted, moved on by every sleep instead of
 * sleeping, and set to any moment between runs.
 */
export function jumpingClock() {
  let shiftMs = 0;
  return {
    now: () => Date.now() + shiftMs,
    sleep: async (ms: number) => {
      shiftMs += ms;
    },
    /** Moves the clock to `at` (epoch ms), from where it runs on. */
    set: (at: number) => {
      shiftMs = at - Date.now();
    },
  };
}
