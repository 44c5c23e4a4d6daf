import type { BuildOptions } from 'esbuild';

export const LAMBDA_NODE_MAJOR: number;
export function bundleOptions(bundle: { entry: string; outfile: string; executable?: boolean }): BuildOptions;
export const STACK_BUNDLE: string;
export function stackBundleOptions(outfile: string): BuildOptions;
