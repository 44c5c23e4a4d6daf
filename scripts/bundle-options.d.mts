import type { BuildOptions } from 'esbuild';

export const LAMBDA_NODE_MAJOR: number;
export function bundleOptions(bundle: { entry: string; outfile: string; executable?: boolean }): BuildOptions;
export const STACK_BUNDLE: string;
/** The collector's OTLP exporter: its entry, and the file beside the collector's bundle it is built into. */
export const OTLP_EXPORT: { readonly entry: string; readonly file: string };
export function stackBundleOptions(outfile: string): BuildOptions;
