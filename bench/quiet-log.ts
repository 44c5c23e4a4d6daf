import type { Log } from '../lib/log.js';

/**
 * A log that formats every line as a JSON logger would and then drops it: the benchmarks pay what logging costs
 * the handlers without flooding the report with thousands of request lines.
 */
export function quietLog(): Log & { readonly lines: () => number } {
  let lines = 0;
  const write = (message: string, ...fields: Record<string, unknown>[]): void => {
    JSON.stringify({ message, ...Object.assign({}, ...fields) });
    lines += 1;
  };
  return { debug: write, info: write, warn: write, error: write, lines: () => lines };
}
